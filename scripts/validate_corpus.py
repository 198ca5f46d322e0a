#!/usr/bin/env python
"""Validate data/corpus: schema and labels, required fields, giveaway words, near-duplicates.

Exit status 1 when anything is wrong. Exact and near-duplicates (TF-IDF cosine of at least
--threshold, default 0.9, on word 1-2-grams) come from ``negclass.training.dataset.duplicates``.

    python scripts/validate_corpus.py [--threshold 0.9] [FILES...]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.errors import DataError  # noqa: E402
from negclass.training import dataset  # noqa: E402
from negclass.training.train import Corpus  # noqa: E402

REQUIRED = ["id", "text", "reason", "channel", "source", "difficulty"]
GIVEAWAYS = re.compile(r"\b(batna|leverage|no authority|win-lose|win/lose|emotions?|too strong|too weak|"
                       r"tactical silence|sensed weakness|price[- ]only)\b", re.IGNORECASE)


REAL_SOURCES = {"enron-mined", "enron-pool"}  # unedited real mail: its words are its authors', not giveaways


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--threshold", type=float, default=0.9)
    args = ap.parse_args()
    files = args.files or Corpus(ROOT).files
    try:
        frame = dataset.load(files)
    except DataError as exc:
        print(f"error: {exc}")
        return 1
    problems = 0
    for col in REQUIRED:
        missing = frame[frame[col].isna()]
        for row in missing.itertuples():
            print(f"{row.file}:{row.line}: missing {col}")
            problems += 1
    refusal_without_signal = frame[(frame["reason"] != "none") & frame["signal"].isna()]
    for row in refusal_without_signal.itertuples():
        print(f"{row.file}:{row.line}: refusal without a signal")
        problems += 1
    for row in frame.itertuples():
        m = GIVEAWAYS.search(row.text)
        if m and row.source not in REAL_SOURCES:
            print(f"{row.file}:{row.line}: giveaway word {m.group(0)!r}")
            problems += 1
    # the two sides of a minimal pair are near-duplicates by design: check each side without its partner
    side = frame["id"].str.extract(r"^pair-[0-9a-f]+-([re])$")[0]
    pairs = sorted({line for drop in ("r", "e")
                    for line in dataset.duplicates(frame[side != drop].reset_index(drop=True), threshold=args.threshold)})
    for line in pairs:
        print(line)
    problems += len(pairs)
    counts = frame.groupby(["reason"]).size().to_dict()
    print(f"{len(frame)} examples in {len(files)} files; per reason {counts}; "
          f"{len(pairs)} exact or near-duplicate pairs at {args.threshold} or above; {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
