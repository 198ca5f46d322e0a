"""Classify texts with a saved model and attach evidence and playbook tactics."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import EmptyTextError, NegclassError
from . import playbook, registry, store, taxonomy
from .features import CUE_PREFIX, Parsed
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
    """A loaded model directory: ``classify`` one text, ``classify_many`` a stream of them.

    The saved ``pipeline`` is the whole model (see ``negclass.model.pipeline``): its ``predict_proba``
    and ``predict`` on raw messages give the probabilities and reasons reported here. This class
    runs the same steps one at a time so that it can also report the signal, the evidence and
    the tactics of each result."""

    def __init__(self, pipeline, meta: dict, path: Path | None = None):
        self.pipeline = pipeline
        self.meta = meta
        self.path = path
        self.cleaner = pipeline.named_steps["clean"]
        self.reader = pipeline.named_steps["read"]
        self.clf = self.reader.clf
        self.reasons = list(self.reader.classes_)
        self._columns = self._feature_columns()
        self._weights: dict[tuple[str, str | None], np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.meta.get("name", self.path.name if self.path else "model")

    def _feature_columns(self) -> dict:
        """Column index of each lemma n-gram and each cue in the feature union."""
        cols: dict[str, dict[str, int]] = {"lemmas": {}, "cues": {}}
        for i, name in enumerate(self.reader.get_feature_names_out()):
            view, _, feature = str(name).partition("__")
            if view in cols:
                cols[view][feature] = i
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
        cleaned = self.cleaner.clean(texts, html=html)
        results: list[Classification] = [_empty()] * len(texts)
        reading = self.reader.read([c.text for c in cleaned])
        if not reading.rows:
            return results
        reasons, low = self.reader.decide(reading.proba)
        signals = self.reader.predict_signal(reading, reasons)
        for row, i in enumerate(reading.rows):
            p = reading.proba[row]
            reason, signal = str(reasons[row]), signals[row]
            confidence = float(p[self.reasons.index(reason)])
            wanted = explain is True or (explain == "flagged" and reason != taxonomy.NONE)
            evidence = (self._evidence(reading.parsed[row], reading.X[row], reason, signal, texts[i], cleaned[i],
                                       reading.starts[row]) if wanted else [])
            results[i] = Classification(
                reason=reason, signal=signal, confidence=round(confidence, 4),
                probabilities={r: round(float(v), 4) for r, v in zip(self.reasons, p)},
                low_confidence=bool(low[row]), evidence=evidence,
                tactics=[] if reason == taxonomy.NONE else playbook.tactics_for(reason, signal),
                text_chars=len(cleaned[i].text), text=cleaned[i].text)
        return results

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
