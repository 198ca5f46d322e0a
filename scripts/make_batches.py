#!/usr/bin/env python
"""Cut mined candidates into batches for annotators and for pair writers.

    python scripts/make_batches.py read CANDIDATES.jsonl WORKDIR --split dev --picked pattern,model_top \
        --prefix dv --size 100 [--limit 300] [--max-chars 3000]
    python scripts/make_batches.py pairs CANDIDATES.jsonl WORKDIR --per-signal 5 --batches 4 [--start 3]

``read`` writes ``WORKDIR/batches/<prefix>NN.txt`` (each message as ``=== id: ... ===`` and its
text, nothing else) and adds the messages to ``WORKDIR/items.json`` (annotation id -> message), the
file ``scripts/adjudicate.py`` reads. Messages already in ``items.json`` are never handed out again.
Pattern hits are taken with the most declining phrases first, the rest in a fixed random order.

``pairs`` picks train-split messages of a length an edit fits in (never test or dev: pairs are
training data) and writes ``WORKDIR/pairs/src/pNN.jsonl`` items with a signal, a placement and a
tone (and with ``--deal-hints`` a kind of deal) spread evenly, plus ``WORKDIR/pairs/pid_mid.json`` (pair id -> Message-ID) for
``scripts/build_pairs.py``.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from mine_pool import DEAL, DECLINE  # noqa: E402

from negclass.model import taxonomy  # noqa: E402


# words of personal and social mail: a sample of it teaches what a friendly "I'm swamped" is not
PERSONAL = re.compile(r"\b(love|weekend|dinner|lunch|party|wedding|baby|kids|wife|husband|mom|dad|birthday|vacation|"
                      r"golf|game|beer|drinks|miss you|hugs|sweetie|honey|church|christmas|thanksgiving|hey|hi|guys)\b",
                      re.IGNORECASE)
# kinds of deal a pair's refusal may be about, handed out in turn: the mail of this corpus refuses
# job applicants and recruiters, colleagues' trades and internal sign-offs as well as counterparties
DEALS = ("a job offer, a recruiter's approach or a candidate's application",
         "a supplier's, vendor's or consultant's proposal or contract renewal",
         "a counterparty's terms on a trade, a supply contract or a master agreement",
         "an internal request: a budget, a transfer, a sign-off, a change to someone's deal",
         "a trade or sale between colleagues or friends (tickets, a car, a house, a fantasy-league player)",
         "a request to meet, call or talk terms")
# a quoted Lotus Notes header block left in the text: the edit could land in someone else's words
HEADER_BLOCK = re.compile(r"^\s*(To|cc|Subject|From):", re.MULTILINE | re.IGNORECASE)


def load_json(path: Path, default):
    return json.loads(path.read_text("utf-8")) if path.exists() else default


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=0), "utf-8")
    tmp.replace(path)


def used_message_ids(work: Path) -> set[str]:
    items = load_json(work / "items.json", {})
    pairs = load_json(work / "pairs" / "pid_mid.json", {})
    return {it["message_id"] for it in items.values()} | set(pairs.values())


def cmd_read(args) -> int:
    work = args.workdir
    (work / "batches").mkdir(parents=True, exist_ok=True)
    items = load_json(work / "items.json", {})
    used = used_message_ids(work)
    picked = set(args.picked.split(","))
    rows = [json.loads(line) for line in open(args.candidates, encoding="utf-8")]
    rows = [r for r in rows if r["split"] == args.split and picked & set(r["picked_by"])
            and r["message_id"] not in used and len(r["text"]) <= args.max_chars]
    if args.personal:  # only mail with at least two words of personal and social life
        rows = [r | {"picked_by": sorted(set(r["picked_by"]) | {"personal"})} for r in rows
                if len(r["text"]) >= 60 and len(PERSONAL.findall(r["text"])) >= 2]
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    rows.sort(key=lambda r: -len(DECLINE.findall(r["text"].lower())) if "pattern" in r["picked_by"] else 0)
    rows = rows[: args.limit]
    existing = {p.stem for p in (work / "batches").glob(f"{args.prefix}[0-9][0-9].txt")}
    n = len(items)
    for b, start in enumerate(range(0, len(rows), args.size), start=len(existing) + 1):
        name = f"{args.prefix}{b:02d}"
        chunk = rows[start:start + args.size]
        rng.shuffle(chunk)  # readers never see the order in which messages were picked
        with open(work / "batches" / f"{name}.txt", "w", encoding="utf-8") as f:
            for r in chunk:
                n += 1
                aid = f"a{n:05d}"
                items[aid] = {k: r[k] for k in ("message_id", "text", "split", "picked_by")} | {"batch": name}
                f.write(f"=== id: {aid} ===\n\n{r['text']}\n\n")
        print(f"{name}: {len(chunk)} messages")
    write_json(work / "items.json", items)
    return 0


def cmd_pairs(args) -> int:
    work = args.workdir
    src = work / "pairs" / "src"
    src.mkdir(parents=True, exist_ok=True)
    pid_mid = load_json(work / "pairs" / "pid_mid.json", {})
    used = used_message_ids(work)
    for f in args.exclude:
        used |= {json.loads(line).get("message_id") for line in open(f, encoding="utf-8")}
    rows = [json.loads(line) for line in open(args.candidates, encoding="utf-8")]
    # ordinary train-split mail an edit fits into; pattern hits are left for reading (they may be real refusals)
    rows = [r for r in rows if r["split"] == "train" and r["message_id"] not in used
            and "pattern" not in r["picked_by"] and 150 <= len(r["text"]) <= 1800
            and not DECLINE.search(r["text"].lower()) and not HEADER_BLOCK.search(r["text"])]
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    rows.sort(key=lambda r: 0 if DEAL.search(r["text"].lower()) else 1)  # mail about deals first
    signals = [(reason, s) for reason in taxonomy.reasons() if reason != taxonomy.NONE for s in taxonomy.signals(reason)]
    shapes = itertools.cycle(itertools.product(("first", "buried", "reply"), ("curt", "polite")))
    deals = itertools.cycle(DEALS)
    it = iter(rows)
    for b in range(args.start, args.start + args.batches):
        name = f"p{b:02d}"
        out = []
        for k in range(args.per_signal):
            for reason, signal in signals:
                r = next(it)
                placement, tone = next(shapes)
                pid = f"{name}-{len(out):03d}"
                pid_mid[pid] = r["message_id"]
                out.append({"pid": pid, "reason": reason, "signal": signal, "placement": placement,
                            "tone": tone, **({"deal": next(deals)} if args.deal_hints else {}), "text": r["text"]})
        rng.shuffle(out)
        with open(src / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for o in out:
                f.write(json.dumps(o, ensure_ascii=False) + "\n")
        print(f"{name}: {len(out)} items")
    write_json(work / "pairs" / "pid_mid.json", pid_mid)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read", help="batches of messages for two independent annotators")
    r.add_argument("candidates", type=Path)
    r.add_argument("workdir", type=Path)
    r.add_argument("--split", choices=("test", "dev", "train"), required=True)
    r.add_argument("--picked", default="pattern,model_top,random,short",
                   help="comma-separated ways of picking (pattern, model_top, random, short)")
    r.add_argument("--prefix", required=True, help="batch name prefix, e.g. dv")
    r.add_argument("--size", type=int, default=100)
    r.add_argument("--limit", type=int, default=10**9)
    r.add_argument("--max-chars", type=int, default=4000)
    r.add_argument("--personal", action="store_true", help="keep only personal and social mail (see PERSONAL)")
    r.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("pairs", help="source emails for minimal pairs")
    p.add_argument("candidates", type=Path)
    p.add_argument("workdir", type=Path)
    p.add_argument("--per-signal", type=int, default=5)
    p.add_argument("--batches", type=int, default=1)
    p.add_argument("--start", type=int, default=3, help="number of the first batch (p03 follows p00-p02)")
    p.add_argument("--exclude", type=Path, nargs="*", default=[], help="JSONL files whose message_ids are skipped")
    p.add_argument("--deal-hints", action="store_true", help="suggest a kind of deal per item, in turn (see DEALS)")
    p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    return cmd_read(args) if args.cmd == "read" else cmd_pairs(args)


if __name__ == "__main__":
    raise SystemExit(main())
