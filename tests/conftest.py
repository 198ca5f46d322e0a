from __future__ import annotations

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
    from negclass.train import TrainConfig, train

    out = tmp_path_factory.mktemp("models") / "tiny"
    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2)
    train([FIXTURES / "labelled.jsonl"], out, split_file=None, config=cfg, name="tiny", progress=lambda m: None)
    return out
