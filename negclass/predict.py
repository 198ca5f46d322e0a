"""Classify texts with a saved model and attach evidence and playbook tactics."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from . import playbook, preprocess, registry, store, taxonomy
from .errors import EmptyTextError, NegclassError
from .features import CUE_PREFIX, Parsed, transform_features
from .playbook import Tactic


@dataclass(frozen=True)
class Evidence:
    """A phrase that pushed the model towards the predicted reason."""

    text: str
    start: int | None   # character offsets into the input text (None if it could not be located)
    end: int | None
    weight: float
    cue: str | None = None


@dataclass
class Classification:
    reason: str | None
    signal: str | None
    confidence: float
    probabilities: dict[str, float]
    low_confidence: bool
    evidence: list[Evidence] = field(default_factory=list)
    tactics: list[Tactic] = field(default_factory=list)
    text_chars: int = 0            # length of the cleaned text that was classified
    error: str | None = None
    text: str = ""                 # the cleaned text that was classified (the author's new text)
    empty: bool = False            # no new text to classify (``error`` says so): an ``EmptyTextError``

    def to_dict(self) -> dict:
        d = asdict(self)
        return d


def _empty() -> Classification:
    """The result for a text with nothing to classify (``Model.classify`` raises ``EmptyTextError``)."""
    return Classification(None, None, 0.0, {}, True, error=str(EmptyTextError()), empty=True)


CONTEXT_CUES = {"negation", "deal_context"}  # cues that set the scene, never shown as evidence


class Model:
    """A loaded model directory: ``classify`` one text, ``classify_many`` a stream of them."""

    def __init__(self, pipeline, meta: dict, path: Path | None = None):
        self.pipeline = pipeline
        self.meta = meta
        self.path = path
        self.parser = pipeline.named_steps["parse"]
        self.features = pipeline.named_steps["features"]
        self.clf = pipeline.named_steps["clf"]
        self.reasons = list(self.clf.classes_)
        self.min_confidence = float(meta["low_confidence"]["min_confidence"])
        self.min_margin = float(meta["low_confidence"]["min_margin"])
        self._columns = self._feature_columns()
        self._weights: dict[tuple[str, str | None], np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.meta.get("name", self.path.name if self.path else "model")

    def _feature_columns(self) -> dict:
        """Global column index of each lemma n-gram and each cue in the feature union."""
        offset, cols = 0, {"lemmas": {}, "cues": {}}
        for name, trans in self.features.transformer_list:
            names = trans.steps[1][1].get_feature_names_out()  # the vectoriser after the selector
            if name in cols:
                cols[name] = {str(n): offset + i for i, n in enumerate(names)}
            offset += len(names)
        return cols

    # -- public API ----------------------------------------------------------------------
    def classify(self, text: str, *, html: bool | None = None) -> Classification:
        """Classify one text (an email, a note, a chat message)."""
        if text is None or not str(text).strip():
            raise EmptyTextError()
        result = next(self.classify_many([text], html=html))
        if result.empty:
            raise EmptyTextError()
        if result.error:
            raise NegclassError(result.error)
        return result

    def classify_many(self, texts: Iterable[str], *, batch_size: int = 256,
                      html: bool | None = None, explain: bool | str = True) -> Iterator[Classification]:
        """Classify a stream of texts in batches, yielding one result per text, in order.

        An empty text yields a result with ``empty`` and ``error`` set instead of stopping the stream.
        ``explain`` finds the evidence for every result (True), for none (False), or only for
        the results that are refusals ("flagged").
        """
        it = iter(texts)
        while True:
            batch = list(islice(it, batch_size))
            if not batch:
                return
            yield from self._classify_batch(batch, html, explain)

    # -- internals -----------------------------------------------------------------------
    def _classify_batch(self, texts: list, html, explain: bool | str) -> list[Classification]:
        cleaned = [preprocess.clean(t if isinstance(t, str) else "", html=html) for t in texts]
        ok = [i for i, c in enumerate(cleaned) if c.text.strip()]
        results: list[Classification] = [_empty()] * len(texts)
        if not ok:
            return results
        proba, X, parsed, starts = self._read_windows([cleaned[i].text for i in ok])
        reasons = list(self.clf.decide(proba))
        signals = self.clf.predict_signal(X, reasons)
        for row, i in enumerate(ok):
            p = proba[row]
            order = np.argsort(p)[::-1]
            reason, signal = str(reasons[row]), signals[row]
            confidence = float(p[self.reasons.index(reason)])
            margin = float(p[order[0]] - p[order[1]])
            low = confidence < self.min_confidence or margin < self.min_margin or reason != self.reasons[order[0]]
            wanted = explain is True or (explain == "flagged" and reason != taxonomy.NONE)
            evidence = (self._evidence(parsed[row], X[row], reason, signal, texts[i], cleaned[i], starts[row])
                        if wanted else [])
            results[i] = Classification(
                reason=reason, signal=signal, confidence=round(confidence, 4),
                probabilities={r: round(float(v), 4) for r, v in zip(self.reasons, p)},
                low_confidence=bool(low), evidence=evidence,
                tactics=[] if reason == taxonomy.NONE else playbook.tactics_for(reason, signal),
                text_chars=len(cleaned[i].text), text=cleaned[i].text)
        return results

    def _read_windows(self, texts: list[str]):
        """Probabilities of cleaned texts, reading each whole: a long text is read in windows
        (``preprocess.windows``) and answered by the window most likely to be a refusal, its odds
        divided by the number of windows (``many_chances``).

        Returns one row per text: probabilities, feature row and parse of the chosen window, and
        the window's start in the text."""
        pieces, owner, starts = [], [], []
        for k, text in enumerate(texts):
            for a, b in preprocess.windows(text):
                pieces.append(text[a:b])
                owner.append(k)
                starts.append(a)
        parsed = self.parser.transform(pieces)
        X = transform_features(self.features, parsed)
        proba = self.clf.predict_proba(X)
        if len(pieces) == len(texts):
            return proba, X, parsed, starts
        none = self.reasons.index(taxonomy.NONE)
        best: dict[int, int] = {}
        for j, k in enumerate(owner):
            if k not in best or proba[j, none] < proba[best[k], none]:
                best[k] = j
        rows = [best[k] for k in range(len(texts))]
        n_windows = np.bincount(owner, minlength=len(texts))
        return (many_chances(proba[rows], n_windows, none), X[rows], [parsed[j] for j in rows],
                [starts[j] for j in rows])

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Reason probabilities (columns in ``reasons`` order) of already cleaned texts."""
        return self._read_windows(list(texts))[0] if len(texts) else np.zeros((0, len(self.reasons)))

    def _reason_weights(self, reason: str, signal: str | None) -> np.ndarray:
        key = (reason, signal)
        if key not in self._weights:
            self._weights[key] = self.clf.reason_weights(reason, signal)
        return self._weights[key]

    def _evidence(self, parsed: Parsed, x, reason: str, signal, original: str, cleaned, window_start: int = 0,
                  top: int = 5) -> list[Evidence]:
        """Phrases whose features pushed towards ``reason``: cue matches and lemma n-grams."""
        w = self._reason_weights(reason, signal)
        if hasattr(x, "tocsr"):  # one sparse row: look values up instead of making it dense
            row = x.tocsr()
            x = dict(zip(row.indices.tolist(), row.data.tolist()))
        else:
            x = dict(enumerate(np.asarray(x).ravel().tolist()))
        n = len(parsed.lemmas)
        token_score = np.zeros(n)
        vocab = self._columns["lemmas"]
        occurrences: dict[int, list[tuple[int, int]]] = {}
        for size in (1, 2, 3):
            for i in range(n - size + 1):
                col = vocab.get(" ".join(parsed.lemmas[i:i + size]))
                if col is not None:
                    occurrences.setdefault(col, []).append((i, i + size))
        for col, places in occurrences.items():
            share = x.get(col, 0.0) * w[col] / len(places)
            for a, b in places:
                token_score[a:b] += share / (b - a)
        candidates: list[tuple[float, int, int, str | None]] = []
        cue_cols = self._columns["cues"]
        cue_counts = parsed.cue_counts()
        for name, a, b in parsed.cues:
            col = cue_cols.get(CUE_PREFIX + name)
            if col is None:
                continue
            tokens = [k for k, (s, e) in enumerate(parsed.spans) if s >= a and e <= b]
            score = x.get(col, 0.0) * w[col] / cue_counts[CUE_PREFIX + name] + float(token_score[tokens].sum())
            if score > 0 and name not in CONTEXT_CUES:
                candidates.append((score, a, b, name))
        # runs of positively weighted tokens
        threshold = max(0.02, float(np.percentile(token_score, 90))) if n else 0.0
        k = 0
        while k < n:
            if token_score[k] > threshold:
                j = k
                while j + 1 < n and token_score[j + 1] > 0 and parsed.spans[j + 1][0] - parsed.spans[j][1] <= 2:
                    j += 1
                candidates.append((float(token_score[k:j + 1].sum()), parsed.spans[k][0], parsed.spans[j][1], None))
                k = j + 1
            else:
                k += 1
        chosen: list[tuple[float, int, int, str | None]] = []
        for cand in sorted(candidates, key=lambda c: -c[0]):
            if all(cand[2] <= c[1] or cand[1] >= c[2] for c in chosen):
                chosen.append(cand)
            if len(chosen) == top:
                break
        out = []
        for score, a, b, cue in sorted(chosen, key=lambda c: c[1]):
            a, b = _with_negation(parsed.text, a, b)
            phrase = parsed.text[a:b]
            start = cleaned.offset + window_start + a if cleaned.offset is not None else None
            if start is None:
                found = original.find(phrase)
                start = found if found >= 0 else None
            out.append(Evidence(text=phrase, start=start, end=None if start is None else start + len(phrase),
                                weight=round(float(score), 4), cue=cue))
        return out


_NEGATION_AFTER = re.compile(r"(?:n[\'\u2019]t|\s+(?:not|never)\b)", re.IGNORECASE)
_NEGATION_BEFORE = re.compile(r"\b(?:not|never|no|cannot|\w+n[\'\u2019]t)\s+$", re.IGNORECASE)


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
    new = odds / (1.0 + odds)
    out = proba * (new / p_ref)[:, None]
    out[:, none] = 1.0 - new
    return out


def _with_negation(text: str, a: int, b: int) -> tuple[int, int]:
    """Widen the phrase ``text[a:b]`` over a negation right before or after it, so evidence
    never turns "please don't" into "please do"."""
    after = _NEGATION_AFTER.match(text, b)
    if after:
        b = after.end()
    before = _NEGATION_BEFORE.search(text[max(0, a - 16):a])
    if before:
        a = a - (len(text[max(0, a - 16):a]) - before.start())
    return a, b


def load_model(path: str | Path | None = None) -> Model:
    """Load a model directory (default: ``$NEGCLASS_MODEL`` or the shipped model)."""
    model_dir = Path(path) if path else registry.default_model_dir()
    pipeline, meta = store.load(model_dir)
    return Model(pipeline, meta, model_dir)
