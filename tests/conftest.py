from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def model():
    """The shipped default model (or $NEGCLASS_MODEL)."""
    import negclass

    return negclass.load_model()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A small model trained in a few seconds on the labelled fixture, for store/CLI tests."""
    from negclass.training.train import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "tiny"
    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2)
    train([FIXTURES / "labelled.jsonl"], out, split_file=None, config=cfg, name="tiny", progress=lambda m: None)
    return out


def write_split(path: Path, per_reason: int = 4) -> set[str]:
    """A split file for the labelled fixture holding out its first ``per_reason`` rows of each reason
    (16 of 48); returns the held-out ids."""
    rows = [json.loads(line) for line in (FIXTURES / "labelled.jsonl").read_text("utf-8").splitlines()]
    per = defaultdict(list)
    for r in rows:
        per[r["reason"]].append(r["id"])
    test = {i for ids in per.values() for i in ids[:per_reason]}
    path.write_text("id,split\n" + "".join(f"{r['id']},{'test' if r['id'] in test else 'train'}\n" for r in rows),
                    "utf-8")
    return test
