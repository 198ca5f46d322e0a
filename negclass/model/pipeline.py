"""The whole model as one scikit-learn ``Pipeline``: clean -> parse -> features -> classifier -> decision.

    Pipeline([
        ("clean", MailCleaner()),                         # raw message -> the author's new text
        ("read", WholeTextClassifier(Pipeline([           # each text read whole, then decided
            ("parse", LinguisticParser()),                #   lemmas, spans, cue matches
            ("features", build_features(...)),            #   lemma n-grams, cue counts, ...
            ("clf", ReasonSignalClassifier(...)),         #   calibrated reason (and signal) model
        ]), gate=build_gate(), ...)),                     #   P(refusal) damped where nothing is at stake
    ])

``predict_proba`` and ``predict`` of that pipeline on raw messages give the probabilities and the
reasons ``Model.classify`` reports; ``get_feature_names_out()`` names the feature columns. The
windowed reading of long texts is a step of its own because it changes the rows: a long text is
read as several pieces (``cleaning.windows``) and answered by one of them, so it has to wrap the
steps that see the pieces.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..mail import cleaning
from . import gate as gate_mod
from . import taxonomy
from .estimator import with_refusal_probability


class MailCleaner(TransformerMixin, BaseEstimator):
    """Raw messages -> the text their author newly wrote (``cleaning.clean``): HTML made text,
    quoted replies, forwarded headers, signatures and disclaimers cut.

    A message with no new text becomes ``""``, which the next step answers with no reason. Fitting
    is the one exception: a labelled example whose cleaning leaves nothing is learnt from as it was
    written, since its label was given to those words (``fit_transform``, ``as_labelled``).
    """

    def __init__(self, html: bool | None = None):
        self.html = html  # True: always HTML; False: never; None: sniffed per message

    def fit(self, X, y=None):
        return self

    def clean(self, X, html: bool | None = None) -> list[cleaning.Cleaned]:
        """The cleaned messages with their offsets (``html`` None: this step's own setting)."""
        html = self.html if html is None else html
        return [cleaning.clean(t if isinstance(t, str) else "", html=html) for t in X]

    def transform(self, X) -> list[str]:
        return [c.text for c in self.clean(X)]

    def as_labelled(self, X) -> list[str]:
        """Labelled examples as training reads them: cleaned, or as written when cleaning leaves nothing."""
        return [c.text or (t if isinstance(t, str) else "") for c, t in zip(self.clean(X), X)]

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y).as_labelled(X)

    def get_feature_names_out(self, input_features=None):
        return np.array(["text"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


@dataclass
class Reading:
    """What ``WholeTextClassifier.read`` found for the non-empty texts (``rows``), one entry each:
    the probabilities, and the feature row, parse and start (in the text) of the window that answered."""

    rows: list[int]
    proba: np.ndarray
    X: object
    parsed: list
    starts: list[int]
    no_content: np.ndarray | None = None  # P(no stance content) of each text (gate and few-words rule)


class WholeTextClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Cleaned texts -> reasons, reading each text whole, then deciding.

    ``estimator`` (a ``Pipeline`` of parse, features and the classifier) is fitted on the texts as
    given. At prediction a text longer than ``window_chars`` is read in overlapping windows
    (``cleaning.windows``) and answered by the window most likely to be a refusal, its odds
    divided by the number of windows (``many_chances``). An empty text gets no reason (``None``)
    and a row of zero probabilities.

    With a ``gate`` (see ``gate.py``), fitted on ``gate_y`` (1: no stance content, 0: some,
    ``gate.UNKNOWN``: not learnt from), each text's P(refusal) is multiplied by
    ``(1 - P(no stance content)) ** gate_power``; the gate reads the lemmas of the text's first
    window. Without ``gate_y`` no gate is fitted. Either way a text of a few words with no stance
    cue (``gate.says_nothing``) gets P(refusal) 0.

    The decision: the classifier's own (``decide``: the refusal threshold, then the most probable
    refusal reason), flagged as low confidence when the chosen reason's probability is below
    ``min_confidence``, its lead over the runner-up below ``min_margin``, or it is not the most
    probable reason. Training chooses both values (``train._choose_low_confidence``).
    """

    def __init__(self, estimator=None, window_chars: int = cleaning.WINDOW_CHARS,
                 window_overlap: int = cleaning.WINDOW_OVERLAP, min_confidence: float = 0.0,
                 min_margin: float = 0.0, gate=None, gate_power: float = 1.0):
        self.estimator = estimator
        self.window_chars = window_chars
        self.window_overlap = window_overlap
        self.min_confidence = min_confidence
        self.min_margin = min_margin
        self.gate = gate
        self.gate_power = gate_power

    def fit(self, X, y, gate_y=None, **fit_params):
        """Fit ``estimator`` on the texts ``X`` and labels ``y`` (``"reason/signal"`` or ``reason``,
        see ``estimator.join_labels``); ``fit_params`` go to its ``fit`` (for a Pipeline,
        ``clf__sample_weight=...``). The gate, if any, is fitted on the rows ``gate_y`` knows,
        when they hold both answers."""
        X = list(X)
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = np.asarray(self.estimator_.classes_, dtype=object)
        self.gate_ = None
        if self.gate is not None and gate_y is not None:
            gate_y = np.asarray(gate_y, dtype=int)
            known = np.flatnonzero(gate_y != gate_mod.UNKNOWN)
            if len(set(gate_y[known])) == 2:
                parsed = self.parser.transform([self._first_window(X[i]) for i in known])
                self.gate_ = clone(self.gate).fit([p.lemma_text for p in parsed], gate_y[known])
        return self

    def __setstate__(self, state):
        # a model saved before the gate existed loads as a model without one
        state = {"gate": None, "gate_power": 1.0, "gate_": None, **state}
        super().__setstate__(state)

    def _first_window(self, text: str) -> str:
        for a, b in cleaning.windows(text, self.window_chars, self.window_overlap):
            return text[a:b]
        return text

    # -- the fitted parts ------------------------------------------------------------------
    @property
    def parser(self):
        return self.estimator_.named_steps["parse"]

    @property
    def features(self):
        return self.estimator_.named_steps["features"]

    @property
    def clf(self):
        return self.estimator_.named_steps["clf"]

    def get_feature_names_out(self, input_features=None):
        """Names of the feature columns the classifier reads (the union's ``view__feature``)."""
        check_is_fitted(self)
        return self.estimator_[:-1].get_feature_names_out()

    # -- reading ---------------------------------------------------------------------------
    def read(self, X) -> Reading:
        """Read the non-empty texts of ``X`` whole (see the class doc)."""
        check_is_fitted(self)
        texts = list(X)
        rows = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        pieces, owner, starts = [], [], []
        for k, i in enumerate(rows):
            text = texts[i]
            for a, b in cleaning.windows(text, self.window_chars, self.window_overlap):
                pieces.append(text[a:b])
                owner.append(k)
                starts.append(a)
        if not pieces:
            return Reading(rows, np.zeros((0, len(self.classes_))), None, [], [])
        parsed = self.parser.transform(pieces)
        Xf = self.features.transform(parsed)
        proba = self.clf.predict_proba(Xf)
        none = list(self.classes_).index(taxonomy.NONE)
        first = np.searchsorted(owner, np.arange(len(rows)))  # each text's first window
        says_nothing = np.array([gate_mod.says_nothing(parsed[j]) for j in first], dtype=bool)
        kept = np.where(says_nothing, 0.0, 1.0)  # the share of P(refusal) each text keeps
        no_content = says_nothing.astype(float) if says_nothing.any() else None
        if self.gate_ is not None:
            q = self.gate_.predict_proba([parsed[j].lemma_text for j in first])[:, 1]
            kept *= (1.0 - q) ** self.gate_power
            no_content = np.maximum(q, says_nothing)
        if len(pieces) == len(rows):
            reading = Reading(rows, proba, Xf, parsed, starts)
        else:
            best: dict[int, int] = {}
            for j, k in enumerate(owner):
                if k not in best or proba[j, none] < proba[best[k], none]:
                    best[k] = j
            chosen = [best[k] for k in range(len(rows))]
            n_windows = np.bincount(owner, minlength=len(rows))
            reading = Reading(rows, many_chances(proba[chosen], n_windows, none), Xf[chosen],
                              [parsed[j] for j in chosen], [starts[j] for j in chosen])
        if no_content is not None:
            reading.proba = gate_mod.damp(reading.proba, kept, none)
            reading.no_content = no_content
        return reading

    # -- deciding --------------------------------------------------------------------------
    def decide(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reasons and low-confidence flags from the probabilities of non-empty texts."""
        reasons = np.asarray(self.clf.decide(proba), dtype=object)
        if not len(proba):
            return reasons, np.zeros(0, dtype=bool)
        classes = list(self.classes_)
        chosen = np.array([classes.index(r) for r in reasons])
        confidence = proba[np.arange(len(proba)), chosen]
        order = np.argsort(proba, axis=1)[:, ::-1]  # most probable first (ties: the later reason)
        first, second = (proba[np.arange(len(proba)), order[:, k]] for k in (0, 1))
        low = (confidence < self.min_confidence) | (first - second < self.min_margin) | (chosen != order[:, 0])
        return reasons, low

    def predict_signal(self, reading: Reading, reasons) -> list[str | None]:
        return self.clf.predict_signal(reading.X, list(reasons)) if reading.rows else []

    def predict_proba(self, X) -> np.ndarray:
        texts = list(X)
        reading = self.read(texts)
        out = np.zeros((len(texts), len(self.classes_)))
        out[reading.rows] = reading.proba
        return out

    def predict(self, X) -> np.ndarray:
        texts = list(X)
        reading = self.read(texts)
        out = np.full(len(texts), None, dtype=object)
        out[reading.rows] = self.decide(reading.proba)[0]
        return out

    def predict_low_confidence(self, X) -> np.ndarray:
        """True where the decision is low confidence (always for an empty text)."""
        texts = list(X)
        reading = self.read(texts)
        out = np.ones(len(texts), dtype=bool)
        out[reading.rows] = self.decide(reading.proba)[1]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def many_chances(proba: np.ndarray, n_windows: np.ndarray, none: int) -> np.ndarray:
    """Probabilities of texts answered by the best of ``n_windows`` windows, corrected for the
    chances a long text had: the odds of a refusal in the best window are divided by the number
    of windows (a text read in one window is unchanged), and the refusal reasons keep their
    proportions. Without this, the longest texts (news digests, forwarded articles) would rank
    highest only because they were read many times."""
    n = np.asarray(n_windows, dtype=float)
    if (n <= 1).all():
        return proba
    p_ref = np.clip(1.0 - proba[:, none], 1e-9, 1 - 1e-9)
    odds = p_ref / (1.0 - p_ref) / np.maximum(n, 1.0)
    return with_refusal_probability(proba, p_ref, odds / (1.0 + odds), none)


def build_pipeline(parser, features, clf, *, min_confidence: float = 0.0, min_margin: float = 0.0,
                   gate=None, gate_power: float = 1.0):
    """The unfitted whole model from its parts."""
    from sklearn.pipeline import Pipeline

    inner = Pipeline([("parse", parser), ("features", features), ("clf", clf)])
    return Pipeline([("clean", MailCleaner()),
                     ("read", WholeTextClassifier(inner, min_confidence=min_confidence, min_margin=min_margin,
                                                  gate=gate, gate_power=gate_power))])
