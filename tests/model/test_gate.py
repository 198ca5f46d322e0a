"""The stance-content gate: which rows it learns from, how it damps P(refusal), how it is fitted."""
import pickle

import numpy as np
import pytest

from negclass.model import gate, taxonomy

NONE = taxonomy.reasons().index(taxonomy.NONE)


def test_labels_come_from_the_kind_and_refusals_always_have_content():
    reasons = ["none", "none", "too_strong", "none", "none", "none"]
    kinds = ["joke_chain", "negotiation", "personal", None, float("nan"), "one_liner"]
    sources = ["enron-pool", "enron-pool", "enron-pool", "enron-mined", "written", "enron-pool"]
    got = gate.gate_labels(reasons, kinds, sources, unlabelled_sources=("enron-mined", "enron-pool"))
    # a contentless kind; a deal kind; a refusal; real mail with no kind recorded; a written
    # example; a one-liner (a short "Not interested." is a refusal, so one-liners are not gated)
    assert got.tolist() == [1, 0, 0, gate.UNKNOWN, 0, 0]


def test_damp_scales_refusal_and_keeps_the_reasons_proportions():
    proba = np.zeros((3, len(taxonomy.reasons())))
    refusals = [i for i in range(proba.shape[1]) if i != NONE]
    proba[:, refusals[0]], proba[:, refusals[1]], proba[:, NONE] = 0.6, 0.2, 0.2
    out = gate.damp(proba, np.array([1.0, 0.5, 0.0]), none=NONE)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(1 - out[:, NONE], [0.8, 0.4, 0.0])
    assert np.allclose(out[:2, refusals[0]] / out[:2, refusals[1]], 3.0)
    assert np.allclose(gate.damp(proba, np.ones(3), none=NONE), proba)


@pytest.fixture(scope="module")
def fitted():
    """The fixture's reader fitted twice on the same rows: with gate labels, and without."""
    from sklearn.pipeline import Pipeline

    from negclass.model.estimator import ReasonSignalClassifier, join_labels
    from negclass.model.features import LinguisticParser, build_features
    from negclass.model.pipeline import WholeTextClassifier
    from negclass.training import dataset
    from tests.conftest import FIXTURES

    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    texts, y = frame["text"].tolist(), join_labels(frame["reason"], frame["signal"])
    # the fixture records no kinds: call its chattiest non-refusals contentless, for the test
    gate_y = np.array([int(r == "none" and ("!" in t or "lunch" in t.lower())) for t, r in zip(texts, frame["reason"])])
    assert 0 < gate_y.sum() < len(gate_y)

    def reader(g):
        return WholeTextClassifier(Pipeline([("parse", LinguisticParser()), ("features", build_features(use_chars=False)),
                                             ("clf", ReasonSignalClassifier(cv=2))]), gate=g)
    gated = reader(gate.build_gate()).fit(texts, y, gate_y=gate_y)
    plain = reader(gate.build_gate()).fit(texts, y)  # no gate labels: no gate
    return texts, gated, plain


def test_a_gate_is_fitted_only_from_gate_labels(fitted):
    _, gated, plain = fitted
    assert gated.gate_ is not None and plain.gate_ is None


def test_the_gate_only_lowers_refusal_by_its_own_answer(fitted):
    texts, gated, plain = fitted
    queries = texts[:6] + ["Great to see you at lunch! Say hi to the kids!", "We will not be renewing, thanks."]
    reading = gated.read(queries)
    p_gated = 1 - gated.predict_proba(queries)[:, NONE]
    p_plain = 1 - plain.predict_proba(queries)[:, NONE]  # the same estimator fitted on the same rows
    assert np.allclose(p_gated, p_plain * (1 - reading.no_content))
    assert (reading.no_content > 0).all() and (reading.no_content < 1).all()


def test_a_reader_saved_before_the_gate_loads_without_one(fitted):
    _, _, plain = fitted
    state = dict(plain.__getstate__())  # a copy: the state may be the object's own dict
    for key in ("gate", "gate_power", "gate_"):
        state.pop(key)
    old = type(plain).__new__(type(plain))
    old.__setstate__(state)
    assert old.gate_ is None and old.get_params()["gate"] is None
    assert np.allclose(pickle.loads(pickle.dumps(old)).predict_proba(["No thanks."]), plain.predict_proba(["No thanks."]))


@pytest.mark.parametrize("text, nothing", [
    ("ok", True), ("no sorry", True), ("now", True), ("Thanks!", True),
    ("Not interested.", False),                  # a few words that turn something down (the refuse cue)
    ("We will pass.", False),
    ("I'll call you when I land tonight.", False),  # more than a few words: the classifier decides
])
def test_a_few_words_with_no_stance_cue_say_nothing(text, nothing):
    from negclass.model.features import LinguisticParser

    [parsed] = LinguisticParser().fit(None).transform([text])
    assert gate.says_nothing(parsed) is nothing


def test_a_reader_without_a_gate_still_gives_a_cueless_one_liner_no_refusal(fitted):
    _, gated, plain = fitted
    p = plain.predict_proba(["no sorry", "Not interested, we already have a supplier."])
    assert 1 - p[0, NONE] == 0.0 and 1 - p[1, NONE] > 0.0
    # nor does a gate whose power is 0 (the gate is then switched off, the rule is not)
    off = type(gated)(**{**gated.get_params(deep=False), "gate_power": 0.0})
    off.estimator_, off.classes_, off.gate_ = gated.estimator_, gated.classes_, gated.gate_
    p = off.predict_proba(["no sorry", "Not interested, we already have a supplier."])
    assert 1 - p[0, NONE] == 0.0
    assert np.allclose(p[1], plain.predict_proba(["Not interested, we already have a supplier."])[0])
