#!/usr/bin/env python
"""Fold the held-back rounds of real mail into the default training and tuning data.

    python scripts/fold_held_back.py [--pairs] [--write]

Labelling rounds 3-8 kept their dev and train rows in ``data/held-back/`` until it was measured
what they change. This moves them where the default model reads them:

* ``real-dev_ROUND.jsonl`` -> appended to ``data/real-dev.jsonl`` (the refusal threshold and the
  recalibration of P(refusal) are chosen there; never trained on);
* ``enron_pool_ROUND.jsonl`` -> appended to ``data/corpus/enron_pool.jsonl``;
* ``enron_pairs_ROUND.jsonl`` -> appended to ``data/corpus/enron_pairs.jsonl``, only with
  ``--pairs``: the minimal pairs of rounds 3 and 7 stay held back, since a model trained with them
  scored lower on the written dev set and ranked the real dev set no better (see data/README.md).

A dev row that repeats a test row, or another dev row, is left out. A training row that is (or
nearly is) a test or dev text is left out, and with a minimal pair both of its sides go, so the
pair's other side does not carry the same email into training. The folded files are removed from
``data/held-back/``; the rest (``real-test_repeats_of_train.jsonl``, and the pairs without
``--pairs``) stays. Without ``--write`` it only reports.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.files import atomic_write_text  # noqa: E402
from negclass.training import dataset  # noqa: E402

HELD = ROOT / "data" / "held-back"
DEV, TEST = ROOT / "data" / "real-dev.jsonl", ROOT / "data" / "real-test.jsonl"
CORPUS = ROOT / "data" / "corpus"
TARGETS = {"real-dev_": DEV, "enron_pool_": CORPUS / "enron_pool.jsonl", "enron_pairs_": CORPUS / "enron_pairs.jsonl"}


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def pair_of(row: dict) -> str | None:
    """The pair a minimal-pair row belongs to (``pair-<hash>-r`` and ``pair-<hash>-e``)."""
    rid = str(row.get("id", ""))
    return rid.rsplit("-", 1)[0] if rid.startswith("pair-") else None


def repeats(rows: list[dict], against: list[dict]) -> set[int]:
    """Indexes of ``rows`` whose text is, or nearly is, one of ``against``."""
    if not rows or not against:
        return set()
    return {m.a for m in dataset.similar([r["text"] for r in rows], [r["text"] for r in against])}


def plan(pairs: bool = False) -> dict[Path, tuple]:
    """For each target file: the rows to append, a line per row left out, the ids removed from it
    and the held-back files folded into it."""
    test = rows_of(TEST)
    dev_old = rows_of(DEV)
    held = sorted(p for p in HELD.glob("*_round*.jsonl"))
    out: dict[Path, tuple[list[dict], list[str]]] = {}
    new_dev, dev_notes = [], []
    for path in [p for p in held if p.name.startswith("real-dev_")]:
        rows = rows_of(path)
        bad = repeats(rows, test + dev_old + new_dev)
        for i, row in enumerate(rows):
            if i in bad:
                dev_notes.append(f"{path.name}: {row['id']} repeats a test or dev text")
            else:
                new_dev.append(row)
    out[DEV] = (new_dev, dev_notes, set(), [p for p in held if p.name.startswith("real-dev_")])
    measured = test + dev_old + new_dev
    for prefix in ("enron_pool_", "enron_pairs_"):
        target = TARGETS[prefix]
        existing = rows_of(target)
        added, notes = [], []
        sources = [p for p in held if p.name.startswith(prefix)] if pairs or prefix != "enron_pairs_" else []
        for path in sources:
            added += [(path.name, r) for r in rows_of(path)]
        leak = repeats([r for _, r in added], measured)
        # a corpus row of the same target that repeats a measured text (new dev rows make this possible)
        old_leak = repeats(existing, new_dev)
        dropped_pairs = {pair_of(added[i][1]) for i in leak} | {pair_of(existing[i]) for i in old_leak}
        dropped_pairs.discard(None)
        keep = []
        for i, (name, row) in enumerate(added):
            if i in leak or pair_of(row) in dropped_pairs:
                notes.append(f"{name}: {row['id']} left out (its text or its pair's repeats a test or dev text)")
            else:
                keep.append(row)
        removed = [r for i, r in enumerate(existing) if i in old_leak or pair_of(r) in dropped_pairs]
        for row in removed:
            notes.append(f"{target.name}: {row['id']} removed (its text or its pair's repeats a new dev text)")
        out[target] = (keep, notes, {r["id"] for r in removed}, sources)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", action="store_true", help="fold the held-back minimal pairs too")
    ap.add_argument("--write", action="store_true", help="write the files and remove the folded rounds")
    args = ap.parse_args()
    todo = plan(args.pairs)
    for target, (rows, notes, removed, _) in todo.items():
        print(f"{target.relative_to(ROOT)}: +{len(rows)} rows"
              f" ({sum(r['reason'] != 'none' for r in rows)} refusals), {len(removed)} removed, {len(notes)} notes")
        for line in notes:
            print("  " + line)
    if not args.write:
        return 0
    for target, (rows, notes, removed, sources) in todo.items():
        existing = [r for r in rows_of(target) if r["id"] not in removed]
        atomic_write_text(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in existing + rows))
        for path in sources:
            path.unlink()
    print("written; the folded rounds were removed from data/held-back/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
