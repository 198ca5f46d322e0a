#!/usr/bin/env python
"""Refresh the counts tables in data/README.md (between the stats markers) from data/corpus.

    python scripts/corpus_stats.py          # rewrite the tables
    python scripts/corpus_stats.py --print  # just print them
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.training import dataset  # noqa: E402
from negclass.training.train import Corpus, read_split  # noqa: E402

CARD = ROOT / "data" / "README.md"
# sector labels are free text per voice; the card groups them (first matching pattern wins)
SECTOR_GROUPS = [
    ("energy & utilities", r"energy|gas|power|electric|pipeline|utilit|oil|lng|coal|nuclear|mining|refin"),
    ("software & IT", r"saas|software|it |it$|corporate it|app|games|telecom"),
    ("labour & employment", r"labou?r|employment|recruit|hr\b|^hr|internal/hr|tutoring"),
    ("legal settlement & insurance", r"litigation|legal|insurance|claim|compliance"),
    ("M&A, banking & finance", r"m&a|bank|finance|fundrais|isda|commodit|trading|brokerage"),
    ("IP & media licensing", r"ip licensing|licens|media|advertis|ad sales|out-of-home|marketing|creator|print"),
    ("sponsorship, sport & events", r"sponsor|sport|event|venue|music|fitness|conference"),
    ("construction & engineering", r"construct|architect|engineer|renovation|building|equipment|fit-out|steel|cement|alumin"),
    ("real estate & facilities", r"leas|residential|letting|property|facilit|flat share|coworking|cleaning|security|removals|office"),
    ("healthcare purchasing", r"health|medical|pharma|clinic|hospital"),
    ("public tenders & government", r"public|tender|universit|school|education|government|defen[cs]e|municipal|council|grant|nonprofit|regulat|board"),
    ("logistics & shipping", r"logist|freight|shipping|port|transport|fleet|car parts|automotive"),
    ("agriculture & food", r"agri|food|wine|dairy|coffee|produce|flower|catering|street food|market stall"),
    ("manufacturing & textiles", r"manufactur|textile|chemical|foundry|shipbuild|machin|packag"),
    ("freelance & creative", r"freelance|creative|translation|design|photograph|illustrat"),
    ("hospitality & tourism", r"hospitality|hotel|touris|travel"),
    ("family business", r"family"),
]
START, END = "<!-- stats:start -->", "<!-- stats:end -->"


def sector_group(sector) -> str:
    text = str(sector or "").lower()
    for group, pattern in SECTOR_GROUPS:
        if re.search(pattern, text):
            return group
    return "other"


def table(counts: pd.Series, name: str) -> str:
    lines = [f"| {name} | examples |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    return "\n".join(lines)


def stats() -> str:
    frame = dataset.load(Corpus(ROOT).files)
    split = read_split(Corpus(ROOT).split)
    frame["split"] = frame["id"].map(lambda i: split.get(i, "train"))
    words = frame["text"].str.split().str.len()
    frame["length"] = pd.cut(words, [0, 10, 30, 80, 150, 300, 10_000],
                             labels=["1-10 words", "11-30", "31-80", "81-150", "151-300", "over 300"])
    real = frame["source"].isin(["enron-mined", "enron-pool", "enron-pairs"])
    audit = ROOT / "data" / "audit" / "review.csv"
    parts = [
        f"**{len(frame)} examples**; {int(real.sum())} from real mail (of which "
        f"{int((frame['source'] == 'enron-pairs').sum())} minimal-pair edits of real messages), {int((~real).sum())} written. "
        f"Held-out split: {int((frame['split'] == 'test').sum())} examples.",
        "### Reason by split\n\n" + pd.crosstab(frame["reason"], frame["split"], margins=True).to_markdown(),
        "### Signal\n\n" + table((frame["reason"] + " / " + frame["signal"].fillna("—")).value_counts().sort_index(),
                                 "reason / signal"),
        "### Channel\n\n" + pd.crosstab(frame["channel"], frame["reason"], margins=True).to_markdown(),
        "### Length\n\n" + pd.crosstab(frame["length"], frame["reason"], margins=True).to_markdown(),
        "### Difficulty\n\n" + pd.crosstab(frame["difficulty"], frame["reason"], margins=True).to_markdown(),
        "### Voice (source)\n\n" + pd.crosstab(frame["source"], frame["reason"], margins=True).to_markdown(),
        f"### Sectors ({frame['sector'].nunique()} free-text labels in {frame['sector'].map(sector_group).nunique()} groups)\n\n"
        + table(frame["sector"].map(sector_group).value_counts(), "sector group"),
    ]
    if audit.exists():
        rows = list(csv.DictReader(audit.open(encoding="utf-8")))
        kinds = pd.Series([r["decision"] for r in rows]).value_counts().to_dict()
        parts.append(f"### Label audit\n\n{len(rows)} flagged examples reviewed: {kinds}.")
    return "\n\n".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    text = stats()
    if args.print:
        print(text)
        return 0
    card = CARD.read_text("utf-8")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: f"{START}\n{text}\n{END}", card, flags=re.S)
    CARD.write_text(new, "utf-8")
    print(f"updated {CARD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
