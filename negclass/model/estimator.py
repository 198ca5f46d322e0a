"""The classifier: a calibrated linear model for the reason, plus the signal.

``ReasonSignalClassifier`` follows scikit-learn's conventions (``fit`` returns ``self``, learned
state ends in ``_``) and is the last step of the saved ``Pipeline``. Two ways to get the signal:

* ``hierarchical``: one calibrated model for the four reasons, then per reason a model for its
  signals, trained on that reason's examples only.
* ``joint``: one calibrated model over the signals plus ``none``; a reason's probability is the
  sum of its signals' probabilities.
* ``two_stage``: a calibrated refusal-or-not model, then a calibrated model over the signals
  trained on refusals only; P(reason) = P(refusal) x P(reason | refusal).

The decision is two-staged: a text is a refusal only when ``1 - P(none)`` reaches
``refusal_threshold``; then the most probable refusal reason wins.

The signal comes in with the target: each label of ``y`` is ``"reason/signal"`` (``join_labels``
makes them from the two columns), or the reason alone when it has no signal (always for ``none``,
and for a refusal labelled without its signal). ``classes_`` are the reasons, not the labels.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import taxonomy


REFUSAL = "refusal"
SIGNAL_MODES = ("hierarchical", "joint", "two_stage")
SIGNAL_SEP = "/"  # between the reason and the signal in a training label


def join_labels(reasons, signals=None) -> np.ndarray:
    """Training labels from reasons and their signals: ``"reason/signal"``, or the reason alone where
    the signal is missing (None, NaN, empty) and for ``none``."""
    reasons = list(reasons)
    signals = [None] * len(reasons) if signals is None else list(signals)
    if len(signals) != len(reasons):
        raise ValueError(f"{len(reasons)} reasons but {len(signals)} signals")
    return np.array([f"{r}{SIGNAL_SEP}{s}" if r != taxonomy.NONE and isinstance(s, str) and s else r
                     for r, s in zip(reasons, signals)], dtype=object)


def split_labels(y) -> tuple[np.ndarray, np.ndarray]:
    """Reasons and signals (None where there is none) of training labels (see ``join_labels``)."""
    y = np.asarray(y)
    signals = np.full(len(y), None, dtype=object)
    if y.dtype.kind not in "OUS":  # numbers: plain classes, no signals
        return y, signals
    reasons = np.empty(len(y), dtype=object)
    for i, label in enumerate(y):
        if isinstance(label, str) and SIGNAL_SEP in label:
            reasons[i], signals[i] = label.split(SIGNAL_SEP, 1)
        else:
            reasons[i] = label
    return reasons, signals


def _classes_of(reasons: np.ndarray) -> np.ndarray:
    """The classes present in ``reasons``: the taxonomy's reasons in its order (the order of the
    probability columns), then any other labels sorted."""
    present = set(reasons.tolist())
    known = [r for r in taxonomy.reasons() if r in present]
    if len(known) == len(present):
        return np.array(known, dtype=object)
    others = np.unique(reasons[~np.isin(reasons, np.array(known, dtype=object))]) if known else np.unique(reasons)
    return np.concatenate([np.array(known, dtype=object), others.astype(object)]) if known else others


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _linear(kind: str, C: float, seed: int):
    """A linear classifier with balanced class weights: ``svm`` (LinearSVC) or ``logreg``."""
    if kind == "svm":
        return LinearSVC(C=C, class_weight="balanced", random_state=seed)
    if kind == "logreg":
        return LogisticRegression(C=C, class_weight="balanced", max_iter=500, tol=1e-3, random_state=seed)
    raise ValueError(f"linear model must be 'svm' or 'logreg', not {kind!r}")


def with_refusal_probability(proba: np.ndarray, p_ref: np.ndarray, new: np.ndarray, none: int) -> np.ndarray:
    """``proba`` with P(refusal) changed from ``p_ref`` to ``new``: the refusal reasons keep their
    proportions, ``none`` takes the rest."""
    ratio = np.divide(new, p_ref, out=np.zeros_like(new), where=p_ref > 0)
    out = proba * ratio[:, None]
    out[:, none] = 1.0 - new
    return out


class ReasonSignalClassifier(ClassifierMixin, BaseEstimator):
    """Reasons (with their probabilities) and signals from feature rows; see the module doc.

    ``fit(X, y)`` takes labels ``"reason/signal"`` or ``reason`` (``join_labels``). ``classes_``
    are the reasons found in ``y``: those of the taxonomy in its order (too_strong, too_weak,
    emotions_high, none: the columns of ``predict_proba``), then any other labels sorted. The
    ``two_stage`` mode and a ``refusal_threshold`` need ``none`` among them.
    """

    def __init__(self, linear: str = "svm", C: float = 0.3, signal_mode: str = "hierarchical",
                 calibration: str = "sigmoid", cv: int = 3, refusal_threshold: float | None = None,
                 random_state: int = 0):
        self.linear = linear
        self.C = C
        self.signal_mode = signal_mode
        self.calibration = calibration
        self.cv = cv
        self.refusal_threshold = refusal_threshold
        self.random_state = random_state

    def _calibrated(self, labels):
        values, counts = np.unique(labels, return_counts=True)
        smallest = min(counts)
        if smallest < 2:
            raise ValueError(f"every class needs at least 2 examples to calibrate probabilities; "
                             f"{values[np.argmin(counts)]!r} has {smallest} sample")
        folds = StratifiedKFold(min(self.cv, smallest), shuffle=True, random_state=self.random_state)
        return CalibratedClassifierCV(_linear(self.linear, self.C, self.random_state), method=self.calibration,
                                      cv=folds, ensemble=False)

    def fit(self, X, y, sample_weight=None):
        """Fit on feature rows ``X`` and labels ``y`` (``"reason/signal"`` or ``reason``, see the class doc)."""
        if self.signal_mode not in SIGNAL_MODES:
            raise ValueError(f"signal_mode must be one of {', '.join(SIGNAL_MODES)}, not {self.signal_mode!r}")
        X, y = validate_data(self, X, y, accept_sparse=True)
        y, signals = split_labels(y)
        check_classification_targets(y)
        self.classes_ = _classes_of(y)
        if len(self.classes_) < 2:
            raise ValueError(f"training data needs at least 2 classes; it has one class: {self.classes_[0]!r}")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if self.signal_mode == "joint":
            joint = self._joint_labels(y, signals)
            self.joint_ = self._calibrated(joint).fit(X, joint, sample_weight=sample_weight)
        elif self.signal_mode == "two_stage":
            if taxonomy.NONE not in set(self.classes_.tolist()):
                raise ValueError(f"signal_mode 'two_stage' needs examples of {taxonomy.NONE!r}")
            refusal = y != taxonomy.NONE
            stage1 = np.where(refusal, REFUSAL, taxonomy.NONE).astype(object)
            self.stage1_ = self._calibrated(stage1).fit(X, stage1, sample_weight=sample_weight)
            joint = self._joint_labels(y[refusal], signals[refusal])
            sw = None if sample_weight is None else np.asarray(sample_weight)[refusal]
            self.joint_ = self._calibrated(joint).fit(X[refusal], joint, sample_weight=sw)
        else:
            self.reason_ = self._calibrated(y).fit(X, y, sample_weight=sample_weight)
            self.signal_models_ = {}
            for reason in taxonomy.refusal_reasons():
                mask = (y == reason) & np.array([bool(s) for s in signals])
                labels = signals[mask]
                if len(set(labels)) >= 2:
                    sw = None if sample_weight is None else np.asarray(sample_weight)[mask]
                    self.signal_models_[reason] = _linear(self.linear, self.C, self.random_state).fit(X[mask], labels, sample_weight=sw)
                elif len(labels):
                    self.signal_models_[reason] = str(labels[0])
        return self

    def _joint_labels(self, y, signals) -> np.ndarray:
        """Signal labels of the refusal reasons (other classes keep their own label); a signal too
        rare to calibrate is pooled."""
        refusal = set(taxonomy.refusal_reasons())
        if refusal.isdisjoint(self.classes_.tolist()):  # no reason of the taxonomy has signals
            return y
        joint = np.array([(s if s else f"{r}:?") if r in refusal else r for r, s in zip(y, signals)], dtype=object)
        classes = set(self.classes_.tolist())
        # a signal too rare to calibrate is pooled into "<reason>:?" (reason kept, signal unknown)
        labels, counts = np.unique(joint, return_counts=True)
        rare = {lab for lab, n in zip(labels, counts) if n < self.cv and lab not in classes}
        joint = np.array([f"{self._reason_of(j)}:?" if j in rare else j for j in joint], dtype=object)
        labels, counts = np.unique(joint, return_counts=True)
        for lab, n in zip(labels, counts):
            if lab not in classes and lab.endswith(":?") and n < self.cv:  # still too rare: join the reason's largest group
                reason = self._reason_of(lab)
                peers = [(m, other) for other, m in zip(labels, counts)
                         if other != lab and other not in classes and self._reason_of(other) == reason]
                if peers:
                    joint[joint == lab] = max(peers)[1]
        return joint

    def _joint_reasons(self, labels) -> list:
        """The class of each label of ``joint_``: itself when it is a class, else its reason."""
        classes = set(self.classes_.tolist())
        return [label if label in classes else self._reason_of(label) for label in labels]

    # -- probabilities -------------------------------------------------------------------
    def _joint_proba(self, X):
        classes = list(self.joint_.classes_)
        return classes, self.joint_.predict_proba(X)

    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=True, reset=False)

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of the reasons, columns in ``classes_`` order."""
        X = self._validate(X)
        if self.signal_mode in {"joint", "two_stage"}:
            classes, proba = self._joint_proba(X)
            if self.signal_mode == "two_stage":  # P(reason) = P(refusal) * P(reason | refusal)
                p_refusal = self.stage1_.predict_proba(X)[:, list(self.stage1_.classes_).index(REFUSAL)]
                proba = proba * p_refusal[:, None]
            out = np.zeros((proba.shape[0], len(self.classes_)))
            for j, reason in enumerate(self._joint_reasons(classes)):
                out[:, list(self.classes_).index(reason)] += proba[:, j]
            if self.signal_mode == "two_stage":
                out[:, list(self.classes_).index(taxonomy.NONE)] = 1.0 - p_refusal
            return self._rescale(out)
        order = [list(self.reason_.classes_).index(c) for c in self.classes_]
        return self._rescale(self.reason_.predict_proba(X)[:, order])

    def calibrate_refusal(self, proba: np.ndarray, is_refusal: np.ndarray) -> "ReasonSignalClassifier":
        """Learn a Platt rescaling of P(refusal) = 1 - P(none) from probabilities on labelled real
        mail (``proba`` from ``predict_proba`` before any rescaling), stored as ``refusal_scale_``."""
        self.refusal_scale_ = None
        z = _logit(1.0 - proba[:, list(self.classes_).index(taxonomy.NONE)]).reshape(-1, 1)
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(z, np.asarray(is_refusal, dtype=int))
        self.refusal_scale_ = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
        return self

    def _rescale(self, out: np.ndarray) -> np.ndarray:
        scale = getattr(self, "refusal_scale_", None)
        if scale is None:
            return out
        none = list(self.classes_).index(taxonomy.NONE)
        p_ref = 1.0 - out[:, none]
        new = 1.0 / (1.0 + np.exp(-(scale[0] * _logit(p_ref) + scale[1])))
        return with_refusal_probability(out, p_ref, new, none)

    @staticmethod
    def _reason_of(label: str) -> str:
        return label.split(":")[0] if ":" in label else taxonomy.reason_of(label)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Reasons from reason probabilities, applying the refusal threshold."""
        if self.refusal_threshold is None:
            return self.classes_[proba.argmax(axis=1)]
        none = list(self.classes_).index(taxonomy.NONE)
        refusal = proba.copy()
        refusal[:, none] = -1.0
        best = self.classes_[refusal.argmax(axis=1)]
        return np.where(1.0 - proba[:, none] >= self.refusal_threshold, best, taxonomy.NONE).astype(object)

    def predict(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))

    def predict_signal(self, X, reasons) -> list[str | None]:
        """The most probable signal of each row's given reason (None for ``none``)."""
        out: list[str | None] = [None] * len(reasons)
        X = self._validate(X)
        if self.signal_mode in {"joint", "two_stage"}:
            classes, proba = self._joint_proba(X)
            of = self._joint_reasons(classes)
            for i, reason in enumerate(reasons):
                if reason == taxonomy.NONE:
                    continue
                cols = [j for j, c in enumerate(classes) if c != reason and of[j] == reason]
                if not cols:  # a class with no signals
                    continue
                best = classes[max(cols, key=lambda j: proba[i, j])]
                out[i] = None if best.endswith(":?") else best
            return out
        for reason, model in self.signal_models_.items():
            rows = [i for i, r in enumerate(reasons) if r == reason]
            if not rows:
                continue
            preds = [model] * len(rows) if isinstance(model, str) else model.predict(X[rows])
            for i, s in zip(rows, preds):
                out[i] = str(s)
        return out

    # -- explanation ---------------------------------------------------------------------
    def reason_weights(self, reason: str, signal: str | None = None) -> np.ndarray:
        """Per-feature weights pushing towards ``reason`` against the other classes (log-odds)."""
        toward_refusal = 0.0
        if self.signal_mode == "two_stage":
            s1 = self.stage1_.calibrated_classifiers_[0].estimator
            toward_refusal = s1.coef_[0] if s1.classes_[1] == REFUSAL else -s1.coef_[0]
            if reason == taxonomy.NONE:
                return -toward_refusal
        if self.signal_mode in {"joint", "two_stage"}:
            lr = self.joint_.calibrated_classifiers_[0].estimator
            classes = list(lr.classes_)
            target = signal if signal in classes else (taxonomy.NONE if reason == taxonomy.NONE else None)
            of = self._joint_reasons(classes)
            rows = [classes.index(target)] if target else [
                j for j, c in enumerate(classes) if c != taxonomy.NONE and of[j] == reason]
        else:
            lr = self.reason_.calibrated_classifiers_[0].estimator
            classes = list(lr.classes_)
            rows = [classes.index(reason)]
        coef = lr.coef_
        mine = coef[rows].mean(axis=0)
        others = np.delete(coef, rows, axis=0).mean(axis=0)
        return toward_refusal + mine - others

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
