#!/usr/bin/env python
"""Write data/split.csv: a fixed, stratified 20% held-out split of data/corpus.

Rows already in the split file keep their assignment; only new ids are assigned, stratified by
reason and signal with a fixed seed, so adding examples never moves old ones across the line.

    python scripts/make_split.py [--test-size 0.2] [--seed 0]
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.training import dataset  # noqa: E402
from negclass.training.train import Corpus, read_split  # noqa: E402

CORPUS = Corpus(ROOT)
SPLIT = CORPUS.split


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test-size", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    frame = dataset.load(CORPUS.files)
    old = read_split(SPLIT)
    new = frame[~frame["id"].isin(old)]
    assigned = dict(old)
    if len(new):
        strata = new["reason"] + ":" + new["signal"].fillna("")
        train_ids, test_ids = train_test_split(new["id"], test_size=args.test_size, random_state=args.seed,
                                               stratify=strata)
        assigned.update({i: "train" for i in train_ids})
        assigned.update({i: "test" for i in test_ids})
    keep = [i for i in frame["id"] if i in assigned]
    with open(SPLIT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "split"])
        for i in sorted(keep):
            w.writerow([i, assigned[i]])
    n_test = sum(assigned[i] == "test" for i in keep)
    print(f"{len(keep)} ids ({len(new)} newly assigned): {len(keep) - n_test} train, {n_test} test -> {SPLIT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
