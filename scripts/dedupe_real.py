#!/usr/bin/env python
"""Drop real train-split rows that repeat another text, after the real mail is cleaned again.

The corpus repeats an email under several Message-IDs (a memo sent to many, a form letter), and
cleaning again (``scripts/reclean_real.py``) can make two stored texts the same. A row of
``data/corpus/enron_pool.jsonl`` is dropped, and listed, when it is an exact or near duplicate of
an earlier row of that file, of a real test or dev text (it must not be trained on), or of a
minimal pair's side (the pair already holds the unedited email's words).

    python scripts/dedupe_real.py            # report
    python scripts/dedupe_real.py --write    # rewrite enron_pool.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.training import dataset  # noqa: E402

POOL = ROOT / "data" / "corpus" / "enron_pool.jsonl"
OTHERS = {"real test or dev text": [ROOT / "data" / "real-test.jsonl", ROOT / "data" / "real-dev.jsonl"],
          "minimal pair's side": [ROOT / "data" / "corpus" / "enron_pairs.jsonl"]}


def texts(paths: list[Path]) -> list[str]:
    return [json.loads(line)["text"] for p in paths if p.exists()
            for line in p.read_text("utf-8").splitlines() if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    lines = [line for line in POOL.read_text("utf-8").splitlines() if line.strip()]
    rows = [json.loads(line) for line in lines]
    pool = [r["text"] for r in rows]
    why = {m.b: "an earlier row of enron_pool.jsonl" for m in dataset.similar(pool)}
    for name, paths in OTHERS.items():
        other = texts(paths)
        for m in dataset.similar(pool, other) if other else []:
            why.setdefault(m.a, name)
    for k in sorted(why):
        print(f"drop enron_pool.jsonl:{k + 1} {rows[k]['id']}: repeats {why[k]}")
    print(f"{len(why)} of {len(rows)} rows {'dropped' if args.write else 'would be dropped (--write)'}")
    if args.write and why:
        tmp = POOL.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for k, line in enumerate(lines) if k not in why), "utf-8")
        tmp.replace(POOL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
