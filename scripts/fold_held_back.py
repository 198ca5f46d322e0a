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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.files import atomic_write_text  # noqa: E402
from negclass.training import dataset  # noqa: E402

HELD = ROOT / "data" / "held-back"
DEV, TEST = ROOT / "data" / "real-dev.jsonl", ROOT / "data" / "real-test.jsonl"
CORPUS = ROOT / "data" / "corpus"
TARGETS = {"enron_pool_": CORPUS / "enron_pool.jsonl", "enron_pairs_": CORPUS / "enron_pairs.jsonl"}


@dataclass
class Fold:
    """What folding does to one target file."""

    rows: list[dict] = field(default_factory=list)       # appended
    notes: list[str] = field(default_factory=list)       # one line per row left out or removed
    removed: set[str] = field(default_factory=set)       # ids of the target's own rows taken out
    sources: list[Path] = field(default_factory=list)    # the held-back files folded in


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


def plan(pairs: bool = False) -> dict[Path, Fold]:
    """What folding does to each target file (see the module doc)."""
    test, dev_old = rows_of(TEST), rows_of(DEV)
    held = sorted(HELD.glob("*_round*.jsonl"))
    dev = Fold(sources=[p for p in held if p.name.startswith("real-dev_")])
    for path in dev.sources:
        rows = rows_of(path)
        bad = repeats(rows, test + dev_old + dev.rows)
        for i, row in enumerate(rows):
            if i in bad:
                dev.notes.append(f"{path.name}: {row['id']} repeats a test or dev text")
            else:
                dev.rows.append(row)
    out = {DEV: dev}
    new_dev, measured = dev.rows, test + dev_old + dev.rows
    for prefix, target in TARGETS.items():
        existing = rows_of(target)
        sources = [p for p in held if p.name.startswith(prefix)] if pairs or prefix != "enron_pairs_" else []
        added = [(path.name, r) for path in sources for r in rows_of(path)]
        leak = repeats([r for _, r in added], measured)
        # a corpus row of the same target that repeats a measured text (new dev rows make this possible)
        old_leak = repeats(existing, new_dev)
        dropped_pairs = {pair_of(added[i][1]) for i in leak} | {pair_of(existing[i]) for i in old_leak}
        dropped_pairs.discard(None)
        fold = Fold(sources=sources)
        for i, (name, row) in enumerate(added):
            if i in leak or pair_of(row) in dropped_pairs:
                fold.notes.append(f"{name}: {row['id']} left out (its text or its pair's repeats a test or dev text)")
            else:
                fold.rows.append(row)
        for i, row in enumerate(existing):
            if i in old_leak or pair_of(row) in dropped_pairs:
                fold.removed.add(row["id"])
                fold.notes.append(f"{target.name}: {row['id']} removed (its text or its pair's repeats a new dev text)")
        out[target] = fold
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", action="store_true", help="fold the held-back minimal pairs too")
    ap.add_argument("--write", action="store_true", help="write the files and remove the folded rounds")
    args = ap.parse_args()
    todo = plan(args.pairs)
    for target, fold in todo.items():
        print(f"{target.relative_to(ROOT)}: +{len(fold.rows)} rows"
              f" ({sum(r['reason'] != 'none' for r in fold.rows)} refusals), {len(fold.removed)} removed, "
              f"{len(fold.notes)} notes")
        for line in fold.notes:
            print("  " + line)
    if not args.write:
        return 0
    for target, fold in todo.items():
        kept = [r for r in rows_of(target) if r["id"] not in fold.removed]
        atomic_write_text(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept + fold.rows))
        for path in fold.sources:
            path.unlink()
    print("written; the folded rounds were removed from data/held-back/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
