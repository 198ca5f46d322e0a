"""Batch scoring: messages in, one result row per message out."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from . import taxonomy
from .ingest import Message
from .predict import Classification, Model

MESSAGE_COLUMNS = ["id", "source", "date", "from", "subject", "text_chars"]


def prediction_columns() -> list[str]:
    return (["reason", "signal", "confidence", "low_confidence"]
            + [f"p_{r}" for r in taxonomy.reasons()] + ["tactics", "error"])


def columns() -> list[str]:
    return MESSAGE_COLUMNS + prediction_columns()


def to_row(msg: Message, result: Classification | None) -> dict:
    row = {"id": msg.id, "source": msg.source, "date": msg.date, "from": msg.sender,
           "subject": msg.subject, "text_chars": None, "error": msg.error}
    if result is not None and msg.error is None:
        row["error"] = result.error
        if result.error is None:
            row.update(reason=result.reason, signal=result.signal, confidence=result.confidence,
                       low_confidence=result.low_confidence, text_chars=result.text_chars,
                       tactics=";".join(t.id for t in result.tactics))
            row.update({f"p_{r}": p for r, p in result.probabilities.items()})
    return row


@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    low_confidence: int = 0
    per_reason: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def add(self, row: dict) -> None:
        self.rows += 1
        if row.get("error"):
            self.errors += 1
            return
        self.per_reason[row["reason"]] = self.per_reason.get(row["reason"], 0) + 1
        self.low_confidence += bool(row.get("low_confidence"))

    @property
    def rate(self) -> float:
        return self.rows / max(time.perf_counter() - self.started, 1e-9)

    def text(self) -> str:
        reasons = ", ".join(f"{r} {self.per_reason.get(r, 0)}" for r in taxonomy.reasons())
        return (f"{self.rows} rows: {reasons}; low confidence {self.low_confidence}; "
                f"errors {self.errors}; {self.rate:.0f} messages/s")


def score(model: Model, messages: Iterable[Message], batch_size: int = 256) -> Iterator[dict]:
    """Score messages in batches, yielding one row per message, in input order."""
    batch: list[Message] = []

    def flush():
        readable = [m for m in batch if m.error is None]
        results = model.classify_many([m.text for m in readable], batch_size=batch_size, explain=False,
                                      html=None)
        by_id = dict(zip(map(id, readable), results))
        for m in batch:
            yield to_row(m, by_id.get(id(m)))

    for msg in messages:
        batch.append(msg)
        if len(batch) >= batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
