import numpy as np
import pytest

from negclass.model.estimator import ReasonSignalClassifier
from negclass.model.features import LinguisticParser, build_features
from negclass.training import dataset

from ..conftest import FIXTURES


@pytest.fixture(scope="module")
def xy():
    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    X = build_features(use_chars=False).fit_transform(LinguisticParser().fit(None).transform(frame["text"].tolist()))
    return X, frame["reason"].to_numpy(object), frame["signal"].to_numpy(object)


@pytest.mark.parametrize("mode", ["hierarchical", "joint", "two_stage"])
@pytest.mark.parametrize("linear", ["svm", "logreg"])
def test_probabilities_cover_the_four_reasons(xy, mode, linear):
    X, y, s = xy
    clf = ReasonSignalClassifier(linear=linear, C=10.0, signal_mode=mode, cv=3).fit(X, y, signals=s)
    proba = clf.predict_proba(X)
    assert list(clf.classes_) == ["too_strong", "too_weak", "emotions_high", "none"]
    assert proba.shape == (len(y), 4)
    assert np.allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(X)
    assert (pred == y).mean() > 0.8  # it fits its own training data
    signals = clf.predict_signal(X, list(pred))
    for reason, signal in zip(pred, signals):
        assert (signal is None) == (reason == "none")


def test_refusal_threshold_turns_weak_refusals_into_none(xy):
    X, y, s = xy
    clf = ReasonSignalClassifier(C=1.0, signal_mode="joint", cv=2).fit(X, y, signals=s)
    proba = clf.predict_proba(X)
    clf.refusal_threshold = 1.01
    assert set(clf.decide(proba)) == {"none"}
    clf.refusal_threshold = 0.0
    assert "none" not in set(clf.decide(proba))


def test_same_seed_same_model(xy):
    X, y, s = xy
    a = ReasonSignalClassifier(C=1.0, cv=2, random_state=3).fit(X, y, signals=s).predict_proba(X)
    b = ReasonSignalClassifier(C=1.0, cv=2, random_state=3).fit(X, y, signals=s).predict_proba(X)
    assert np.array_equal(a, b)


def test_missing_reason_is_refused(xy):
    X, y, s = xy
    keep = y != "too_weak"
    with pytest.raises(ValueError, match="too_weak"):
        ReasonSignalClassifier(cv=2).fit(X[keep], y[keep], signals=s[keep])


def test_refusal_recalibration_matches_observed_rates():
    import numpy as np
    from negclass.model.estimator import ReasonSignalClassifier

    rng = np.random.default_rng(0)
    clf = ReasonSignalClassifier()
    clf.classes_ = np.array(["too_strong", "too_weak", "emotions_high", "none"], dtype=object)
    p_ref = rng.uniform(0, 1, 4000)
    truth = rng.uniform(0, 1, 4000) < p_ref ** 3          # over-confident scores: true rate is p^3
    proba = np.column_stack([p_ref / 3, p_ref / 3, p_ref / 3, 1 - p_ref])
    clf.calibrate_refusal(proba, truth)
    fixed = clf._rescale(proba.copy())
    assert np.allclose(fixed.sum(axis=1), 1.0)
    high = p_ref > 0.9
    assert abs((1 - fixed[high, 3]).mean() - truth[high].mean()) < abs(p_ref[high].mean() - truth[high].mean())
    order = np.argsort(p_ref)
    assert np.all(np.diff(1 - fixed[order, 3]) >= -1e-12)  # the ranking is kept
