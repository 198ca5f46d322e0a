import numpy as np
import pytest

from negclass.model.estimator import ReasonSignalClassifier, join_labels, split_labels
from negclass.model.features import LinguisticParser, build_features
from negclass.training import dataset

from ..conftest import FIXTURES


@pytest.fixture(scope="module")
def xy():
    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    X = build_features(use_chars=False).fit_transform(LinguisticParser().fit(None).transform(frame["text"].tolist()))
    y = frame["reason"].to_numpy(object)
    return X, y, join_labels(y, frame["signal"])


@pytest.mark.parametrize("mode", ["hierarchical", "joint", "two_stage"])
@pytest.mark.parametrize("linear", ["svm", "logreg"])
def test_probabilities_cover_the_four_reasons(xy, mode, linear):
    X, y, labels = xy
    clf = ReasonSignalClassifier(linear=linear, C=10.0, signal_mode=mode, cv=3).fit(X, labels)
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
    X, y, labels = xy
    clf = ReasonSignalClassifier(C=1.0, signal_mode="joint", cv=2).fit(X, labels)
    proba = clf.predict_proba(X)
    clf.refusal_threshold = 1.01
    assert set(clf.decide(proba)) == {"none"}
    clf.refusal_threshold = 0.0
    assert "none" not in set(clf.decide(proba))


def test_same_seed_same_model(xy):
    X, y, labels = xy
    a = ReasonSignalClassifier(C=1.0, cv=2, random_state=3).fit(X, labels).predict_proba(X)
    b = ReasonSignalClassifier(C=1.0, cv=2, random_state=3).fit(X, labels).predict_proba(X)
    assert np.array_equal(a, b)


def test_labels_carry_the_signal():
    labels = join_labels(["too_strong", "too_weak", "none", "none"], ["strong_batna", None, float("nan"), "x"])
    assert list(labels) == ["too_strong/strong_batna", "too_weak", "none", "none"]
    reasons, signals = split_labels(labels)
    assert list(reasons) == ["too_strong", "too_weak", "none", "none"]
    assert list(signals) == ["strong_batna", None, None, None]


@pytest.mark.parametrize("mode", ["hierarchical", "joint", "two_stage"])
def test_classes_are_the_reasons_present_in_taxonomy_order(xy, mode):
    X, y, labels = xy
    keep = y != "too_weak"
    clf = ReasonSignalClassifier(cv=2, signal_mode=mode).fit(X[keep], labels[keep])
    assert list(clf.classes_) == ["too_strong", "emotions_high", "none"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert "too_weak" not in set(clf.predict(X))


def test_signals_in_the_labels_are_what_the_signal_models_learn(xy):
    X, y, labels = xy
    with_signals = ReasonSignalClassifier(C=1.0, cv=2, signal_mode="joint").fit(X, labels)
    without = ReasonSignalClassifier(C=1.0, cv=2, signal_mode="joint").fit(X, y)
    assert "strong_batna" in set(with_signals.joint_.classes_)
    assert "strong_batna" not in set(without.joint_.classes_)
    assert np.array_equal(with_signals.classes_, without.classes_)


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


# -- scikit-learn's estimator checks -------------------------------------------------------------
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

# Every other check passes. The two_stage mode is not checked: it needs a "none" class, which the
# checks' made-up labels never have.
SAME_AS_REPEATING = ("calibration folds split the rows, so a repeated row can fall on both sides "
                     "of a fold and a weighted one cannot (with logreg too; LinearSVC alone also fails it)")
CHECK_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": SAME_AS_REPEATING,
    "check_sample_weight_equivalence_on_sparse_data": SAME_AS_REPEATING,
}


@parametrize_with_checks([ReasonSignalClassifier()], expected_failed_checks=lambda est: CHECK_FAILURES,
                         xfail_strict=True)
def test_sklearn_conventions(estimator, check):
    check(estimator)


@pytest.mark.slow  # the same checks for the joint mode; the quick run has the default one
@parametrize_with_checks([ReasonSignalClassifier(signal_mode="joint")],
                         expected_failed_checks=lambda est: CHECK_FAILURES, xfail_strict=True)
def test_sklearn_conventions_joint(estimator, check):
    check(estimator)
