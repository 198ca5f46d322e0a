"""Pick the messages whose labels would teach the model most (uncertainty sampling).

Each message gets an uncertainty score from the model's reason probabilities:

* ``margin`` (default): 1 - (highest - second highest); the model hesitates between two reasons;
* ``entropy``: normalised entropy of all four probabilities; the probability is spread out;
* ``confidence``: 1 - highest probability; least confident first.

Messages are streamed, only the best ``3 n`` are held, and repeated texts are picked once. The
output has the scored columns plus ``text``, ``uncertainty`` and empty ``correct_reason``,
``correct_signal`` and ``confirmed`` columns: fill those in and pass the file to ``negclass train
--data``.
"""
from __future__ import annotations

import heapq
import math
import os
import tempfile
from itertools import count, islice
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from ..errors import NegclassError
from ..files import follow_umask
from ..model import taxonomy
from . import dataset

MEASURES = ("margin", "entropy", "confidence")
LABEL_COLUMNS = [dataset.CORRECT_REASON, dataset.CORRECT_SIGNAL, dataset.CONFIRMED]


def uncertainty(probs: Iterable[float], by: str = "margin") -> float:
    p = sorted((float(x) for x in probs), reverse=True)
    if not p:
        return 0.0
    if by == "margin":
        return 1.0 - (p[0] - (p[1] if len(p) > 1 else 0.0))
    if by == "entropy":
        h = -sum(x * math.log(x) for x in p if x > 0)
        return h / math.log(len(p)) if len(p) > 1 else 0.0
    if by == "confidence":
        return 1.0 - p[0]
    raise NegclassError(f"unknown measure {by!r}; expected one of {', '.join(MEASURES)}")


def _from_scored(path: Path, text_column: str) -> Iterator[dict]:
    """Rows of a scored file that were classified, with their text when it can be found."""
    rows = [(lineno, row) for lineno, row in dataset.read_rows(path)
            if dataset.blank(row.get("error")) and not dataset.blank(row.get("reason"))
            and str(row.get("skipped", "")).strip().lower() not in dataset.YES]
    if text_column != "text":
        for _, row in rows:
            row["text"] = row.get(text_column)
    missing = [(lineno, row, None if dataset.blank(row.get("source")) else str(row["source"]))
               for lineno, row in rows if dataset.blank(row.get("text"))]
    if missing:
        try:
            dataset.fill_texts(path, missing)
        except NegclassError:
            pass  # the texts are a convenience here: the probabilities are what counts
    yield from (row for _, row in rows)


def _from_messages(inputs, model, fmt, text_column, id_column, batch_size: int = 256) -> Iterator[dict]:
    from ..batch.schema import snippet
    from ..mail import ingest

    messages = (m for m in ingest.read(inputs, fmt, text_column, id_column) if m.error is None and m.text)
    while batch := list(islice(messages, batch_size)):
        for msg, res in zip(batch, model.classify_many([m.text for m in batch], html=None, explain=False)):
            if res.error:
                continue
            row = {"id": msg.id, "source": msg.source, "date": msg.date, "from": msg.sender, "subject": msg.subject,
                   "text_chars": res.text_chars, "reason": res.reason, "signal": res.signal,
                   "confidence": res.confidence, "low_confidence": res.low_confidence, "text": msg.text,
                   "snippet": snippet(res.text)}
            row.update({f"p_{r}": p for r, p in res.probabilities.items()})
            yield row


def pick(rows: Iterable[dict], n: int = 50, by: str = "margin") -> list[dict]:
    """The ``n`` most uncertain rows, most uncertain first; repeated texts count once."""
    if n < 1:
        raise NegclassError("-n must be at least 1")
    uncertainty([0.5, 0.5], by)  # reject an unknown measure before reading anything
    keys = [f"p_{r}" for r in taxonomy.reasons()]
    heap: list = []
    tie = count()
    for row in rows:
        try:
            probs = [float(row[k]) for k in keys]
        except (KeyError, TypeError, ValueError):
            continue
        item = (round(uncertainty(probs, by), 6), -next(tie), row)
        if len(heap) < 3 * n:
            heapq.heappush(heap, item)
        else:
            heapq.heappushpop(heap, item)
    out, seen = [], set()
    for score, _, row in sorted(heap, key=lambda x: (-x[0], -x[1])):
        text = row.get("text")
        key = dataset.fold(text) if not dataset.blank(text) else ("id", row.get("id"))
        if key in seen:
            continue
        seen.add(key)
        out.append({**row, "uncertainty": score})
        if len(out) == n:
            break
    return out


def suggest(inputs: list[Path], n: int = 50, by: str = "margin", model=None, fmt: str | None = None,
            text_column: str = "text", id_column: str = "id") -> pd.DataFrame:
    """Pick from a scored file (its probabilities are used as they are) or from messages to classify."""
    inputs = [Path(p) for p in inputs]
    if len(inputs) == 1 and inputs[0].is_file() and inputs[0].suffix.lower() in {".csv", ".jsonl", ".parquet"} \
            and looks_scored(inputs[0]):
        rows = _from_scored(inputs[0], text_column)
    else:
        if model is None:
            from ..model.predict import load_model
            model = load_model()
        rows = _from_messages(inputs, model, fmt, text_column, id_column)
    picked = pick(rows, n, by)
    from ..batch.schema import columns

    cols = ["rank"] + columns() + ["uncertainty", "text"] + LABEL_COLUMNS
    frame = pd.DataFrame([{**r, "rank": i + 1} for i, r in enumerate(picked)], columns=cols)
    for c in LABEL_COLUMNS:
        frame[c] = ""
    return frame.drop(columns=["error", "skipped", "tactics"])


def looks_scored(path: Path) -> bool:
    """Whether a table was written by ``negclass score`` (its first row has the scored columns)."""
    try:
        first = next(iter(dataset.read_rows(path)), None)
    except NegclassError:
        return False
    return first is not None and dataset.is_scored(first[1].keys())


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write CSV, JSONL or Parquet by extension, atomically."""
    path = Path(path)
    kind = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}.get(path.suffix.lower())
    if kind is None:
        raise NegclassError(f"{path}: output must end in .csv, .jsonl or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if kind == "csv":
            frame.to_csv(tmp, index=False, encoding="utf-8")
        elif kind == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        else:
            frame.astype({c: "string" for c in ("id", "source", "date", "from", "subject", "reason", "signal",
                                                 "text", *LABEL_COLUMNS) if c in frame}).to_parquet(tmp, index=False)
        follow_umask(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(frame: pd.DataFrame, width: int = 88) -> str:
    """The picks as text: a line with the whole id, then the start of the text that was classified
    (the ``snippet`` of a scored file, without quoted history and signatures) on the next."""
    lines = [f"{'#':>3} {'uncert.':>7}  {'reason':13} {'conf':>5}  id", f"{'':>3} text that was classified"]
    for row in frame.to_dict("records"):
        shown = row.get("snippet")
        if not isinstance(shown, str) or not shown.strip():
            shown = row.get("text") if isinstance(row.get("text"), str) else ""
        text = " ".join(shown.split())
        text = text[:width - 1] + "…" if len(text) > width else text
        lines.append(f"{row['rank']:>3} {row['uncertainty']:>7.3f}  {row['reason']!s:13} {float(row['confidence']):>5.2f}  "
                     f"{row['id']}")
        lines.append(f"{'':>3} {text}")
    return "\n".join(lines)
