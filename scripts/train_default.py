#!/usr/bin/env python
"""Retrain the shipped default model (models/default) from data/corpus and data/split.csv.

Also measures the dev sets written by other people and the real-email dev set when they are
present next to the project (../shared/data), and the frozen real test set (data/real-test.jsonl);
they are only measured, never trained on. The refusal threshold and the recalibration of P(refusal)
are chosen on the real dev set (data/real-dev.jsonl), also never trained on.

    python scripts/train_default.py
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.training.evaluate import format_report  # noqa: E402
from negclass.training.train import Corpus, train  # noqa: E402

# the shipped model in the source tree: the package data of negclass.models (see pyproject.toml)
MODEL_DIR = ROOT / "models" / "default"
DEV_SETS = [ROOT.parent / "shared" / "data" / "devset.jsonl", ROOT.parent / "shared" / "data" / "real-devset.jsonl",
            ROOT / "data" / "real-test.jsonl"]


def main() -> int:
    reports = [p for p in DEV_SETS if p.exists()]
    result = train(None, MODEL_DIR, corpus=Corpus(ROOT), reports=reports, name="default")
    for key, block in result.metrics.items():
        if isinstance(block, dict) and "model" in block:
            print(format_report(block["model"], f"== {key} =="))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
