from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_script(name: str):
    """A module of ``scripts/`` (not a package), loaded from its file and registered under its
    name, as an import would (dataclasses look their module up there)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


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


# scikit-learn's own checks feed numeric 2-D arrays, so they skip estimators that read texts (all
# but ``check_estimator_cloneable``); these are the ones that need no data, run on them directly
API_CHECKS = ("check_estimator_repr", "check_no_attributes_set_in_init", "check_get_params_invariance",
              "check_set_params", "check_parameters_default_constructible",
              "check_do_not_raise_errors_in_init_or_set_params", "check_estimator_tags_renamed",
              "check_valid_tag_types", "check_mixin_order")


def check_text_estimator(estimator, X, y=None):
    """The conventions scikit-learn's data checks test, on texts: ``fit`` returns the estimator and
    changes none of its parameters, an unfitted estimator says so, a second fit or a pickled copy
    gives the same output, and using a fitted estimator changes nothing in it."""
    import pickle

    import numpy as np
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils import estimator_checks, get_tags

    for name in API_CHECKS:
        getattr(estimator_checks, name)(type(estimator).__name__, estimator)
    method = "transform" if hasattr(estimator, "transform") else "predict_proba"

    def output(est):
        out = getattr(est, method)(X)
        out = out.toarray() if hasattr(out, "toarray") else out
        return [repr(o) for o in out] if isinstance(out, list) else np.asarray(out)

    est = clone(estimator)
    if get_tags(est).requires_fit:
        with pytest.raises(NotFittedError):
            getattr(est, method)(X)
    params = est.get_params()
    assert est.fit(X, y) is est
    assert {k: repr(v) for k, v in est.get_params().items()} == {k: repr(v) for k, v in params.items()}
    first = output(est)
    state = {k: repr(v) for k, v in vars(est).items() if not k.startswith("_")}
    again = output(est)
    assert {k: repr(v) for k, v in vars(est).items() if not k.startswith("_")} == state
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(output(clone(estimator).fit(X, y)), first)
    np.testing.assert_array_equal(output(pickle.loads(pickle.dumps(est))), first)
