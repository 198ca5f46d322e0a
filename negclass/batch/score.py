"""Batch scoring: messages in, one result row per message out, in input order.

``score_units`` takes the cheap units streamed by ``ingest.units`` and cuts them into chunks of
raw messages; each chunk is parsed, cleaned and classified either in this process or, with
``jobs > 1``, in worker processes that each hold one loaded model. At most ``2 * jobs`` chunks are
in flight, so memory stays flat however large the input; rows come back in input order.
"""
from __future__ import annotations

import gc
import os
import re
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from itertools import chain, islice
from typing import Iterable, Iterator

from ..mail.ingest import Message, RawMail, to_message
from ..model import taxonomy
from ..model.predict import Classification, Model

MESSAGE_COLUMNS = ["id", "source", "date", "from", "subject", "text_chars"]
# added after the prediction columns, so the older columns keep their places
READING_COLUMNS = ["date_utc", "thread", "counterparty", "snippet", "evidence", "tactic_titles", "model"]
TEXT_COLUMN = "text"   # the whole classified text, with ``include_text``
NO_NEW_TEXT = "no new text (empty, or only quoted or forwarded text, signature or attachments)"
CHUNK = 512
SNIPPET_CHARS = 200
EVIDENCE_SEP = "; "

# The type of every non-string column of a scored file: the one place the CSV/JSONL/Parquet writer,
# the web API and the Spark schema take them from. ``p_*`` columns are floats.
COLUMN_TYPES = {"text_chars": "int", "confidence": "float", "low_confidence": "bool", "skipped": "bool"}


def column_type(column: str) -> str:
    """"int", "float", "bool" or "str"."""
    return "float" if column.startswith("p_") else COLUMN_TYPES.get(column, "str")


def prediction_columns() -> list[str]:
    return (["reason", "signal", "confidence", "low_confidence"]
            + [f"p_{r}" for r in taxonomy.reasons()] + ["tactics", "error", "skipped"])


def columns(include_text: bool = False) -> list[str]:
    """The columns of a scored file, in order; ``include_text`` adds the whole classified text last."""
    return MESSAGE_COLUMNS + prediction_columns() + READING_COLUMNS + ([TEXT_COLUMN] if include_text else [])


def date_utc(value: str | None) -> str | None:
    """A Date header (RFC 2822, or ISO 8601 from a table) as ISO 8601 in UTC, ``None`` when unparseable.

    A date without a time zone (or with ``-0000``, "unknown zone") is taken as UTC."""
    if not value or not str(value).strip():
        return None
    text = " ".join(str(value).split())
    dt = None
    try:
        dt = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if dt is None:
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    try:
        dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    if not 1970 <= dt.year <= 2200:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|sv|vs|antw|rif|r|ref)\s*(?:\[\d+\])?\s*[:：]\s*"
                             r"|\[[^\]]{1,40}\]\s*)+", re.IGNORECASE)


def normalise_subject(subject: str | None) -> str:
    """A subject without reply/forward prefixes ("Re:", "Fwd:", "AW:", "[list]") and case, spaces squeezed."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject or "").split()).lower()


def thread_key(msg: Message) -> str | None:
    """Which conversation a message belongs to: the first Message-ID in References (the thread's
    root), else In-Reply-To (``Message.thread_ref``); failing both, ``subject:`` and the
    normalised subject; ``None`` when there is neither."""
    if msg.thread_ref:
        return msg.thread_ref
    subject = normalise_subject(msg.subject)
    return f"subject:{subject}" if subject else None


def snippet(text: str | None, chars: int = SNIPPET_CHARS) -> str | None:
    if not text:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[:chars - 1].rstrip() + "…"


@dataclass(frozen=True)
class Me:
    """Who "we" are: our own messages are skipped (addresses and domains, case-insensitive)."""

    addresses: frozenset = frozenset()
    domains: frozenset = frozenset()

    @classmethod
    def of(cls, addresses: Iterable[str] = (), domains: Iterable[str] = ()) -> "Me":
        return cls(frozenset(a.strip().lower() for a in addresses if a and a.strip()),
                   frozenset(d.strip().lower().lstrip("@") for d in domains if d and d.strip()))

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains)

    def sent(self, msg: Message) -> bool:
        addr = msg.address
        if not addr:
            return False
        if addr in self.addresses:
            return True
        domain = addr.rsplit("@", 1)[-1]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


def to_row(msg: Message, result: Classification | None, skipped: bool = False) -> dict:
    """One scored row (``columns(include_text=True)``: writers keep the columns they were given)."""
    row = dict.fromkeys(columns(include_text=True))
    row |= {"id": msg.id, "source": msg.source, "date": msg.date, "date_utc": date_utc(msg.date),
            "thread": thread_key(msg), "counterparty": msg.address, "from": msg.sender,
            "subject": msg.subject, "text_chars": None, "error": msg.error, "skipped": skipped}
    if result is not None and msg.error is None:
        row["text_chars"] = result.text_chars
        row["error"] = NO_NEW_TEXT if result.empty else result.error
        if result.error is None:
            row.update(reason=result.reason, signal=result.signal, confidence=result.confidence,
                       low_confidence=result.low_confidence,
                       tactics=";".join(t.id for t in result.tactics),
                       tactic_titles=EVIDENCE_SEP.join(t.title for t in result.tactics) or None,
                       snippet=snippet(result.text), text=result.text or None,
                       evidence=EVIDENCE_SEP.join(" ".join(e.text.split()) for e in
                                                  sorted(result.evidence, key=lambda e: -e.weight)) or None)
            row.update({f"p_{r}": p for r, p in result.probabilities.items()})
    return row


@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    skipped: int = 0
    low_confidence: int = 0
    per_reason: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def add(self, row: dict) -> None:
        self.rows += 1
        if row.get("skipped"):
            self.skipped += 1
            return
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
                f"skipped {self.skipped}; errors {self.errors}; {self.rate:.0f} messages/s")


def score_messages(model: Model, messages: list[Message], me: Me = Me(), batch_size: int = 256,
                   explain: bool | str = "flagged") -> list[dict]:
    """Rows for a list of messages, in order: our own ones skipped, the rest classified. Evidence
    is found for the flagged rows (``explain="flagged"``, the default: the phrases behind a
    refusal are what a reviewer reads, and finding them costs time), for every row
    (``explain=True``) or for none (``False``)."""
    todo: dict[bool | None, list[int]] = {}
    skipped = set()
    for i, m in enumerate(messages):
        if m.error is None and me and me.sent(m):
            skipped.add(i)
        elif m.error is None:
            todo.setdefault(True if m.html else None, []).append(i)
    results: dict[int, Classification] = {}
    for html, idx in todo.items():
        # html=None lets the cleaner sniff HTML in table rows and plain-text mail
        for i, r in zip(idx, model.classify_many([messages[i].text or "" for i in idx], batch_size=batch_size,
                                                 html=html, explain=explain)):
            results[i] = r
    rows = [to_row(m, results.get(i), skipped=i in skipped) for i, m in enumerate(messages)]
    name = getattr(model, "name", None)  # any object with classify_many scores; only a Model has a name
    for row in rows:
        row["model"] = name
    return rows


def score(model: Model, messages: Iterable[Message], batch_size: int = 256, me: Me = Me()) -> Iterator[dict]:
    """Score messages in batches, yielding one row per message, in input order."""
    it = iter(messages)
    while batch := list(islice(it, batch_size)):
        yield from score_messages(model, batch, me, batch_size)


# -- worker processes -------------------------------------------------------------------------
_WORKER: dict = {}
# Scoring makes many short-lived objects while the loaded model holds hundreds of thousands of
# long-lived ones (vocabularies, caches); with the default thresholds the garbage collector
# keeps re-scanning the latter. Batch scoring moves what exists to the permanent generation and
# collects the young generation less often (reference counting frees almost everything anyway).
# Worth 3-5% of throughput on the sample mailbox (BENCHMARKS.md).
GC_THRESHOLD = (50_000, 50, 1000)
_GC_LOCK = threading.Lock()
_GC = {"depth": 0, "threshold": None, "froze": False}


@contextmanager
def _gc_for_batch():
    """The collector settings of ``GC_THRESHOLD`` while a chunk is scored in this process.

    Entered and left around each chunk, never across a ``yield``, so a generator that is left
    unfinished leaves nothing behind. On leaving, the thresholds are the ones found on entering,
    and only what was frozen here is unfrozen: if objects were already frozen (by the application
    scoring), nothing is frozen or unfrozen. Runs in several threads share one setting, restored
    by the last to leave."""
    with _GC_LOCK:
        if _GC["depth"] == 0:
            _GC["threshold"] = gc.get_threshold()
            _GC["froze"] = gc.get_freeze_count() == 0
            if _GC["froze"]:
                gc.freeze()
            gc.set_threshold(*GC_THRESHOLD)
        _GC["depth"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC["depth"] -= 1
            if _GC["depth"] == 0:
                gc.set_threshold(*_GC["threshold"])
                if _GC["froze"]:
                    gc.unfreeze()


def _init_worker(model_path, me: Me) -> None:
    import signal

    from ..model.predict import load_model

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the parent, which stops us

    if _WORKER.get("path") != str(model_path) or "model" not in _WORKER:
        _WORKER["model"] = load_model(model_path)
        _WORKER["path"] = str(model_path)
    _WORKER["me"] = me
    gc.freeze()  # a worker process lives for one scoring run, and its settings with it: see GC_THRESHOLD
    gc.set_threshold(*GC_THRESHOLD)


def _score_chunk(chunk: list) -> list[dict]:
    return score_messages(_WORKER["model"], [_safe_message(u) for u in chunk], _WORKER["me"])


def _safe_message(unit: RawMail | Message) -> Message:
    try:
        return to_message(unit)
    except Exception as exc:  # parse_email is meant never to raise; never lose the row if it does
        return Message(unit.id, unit.source, error=f"unreadable message: {exc}")


def default_jobs() -> int:
    """Worker processes by default: one per CPU core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def score_units(units: Iterable[RawMail | Message], *, model: Model | None = None, model_path=None,
                me: Me = Me(), jobs: int = 1, chunk_size: int | None = None) -> Iterator[list[dict]]:
    """Yield lists of rows, one list per chunk of input units, in input order.

    With ``jobs == 1`` the given ``model`` (or one loaded from ``model_path``) scores in this
    process; with more, ``jobs`` worker processes each load the model from ``model_path`` once.
    """
    it = iter(units)
    size = chunk_size or CHUNK
    chunks = iter(lambda: list(islice(it, size)), [])
    first = next(chunks, [])
    chunks = chain([first], chunks) if first else iter(())
    if jobs > 1 and len(first) < size:
        jobs = 1  # the whole input fits in one chunk: starting workers would only cost time
    if jobs <= 1:
        if model is None:
            from ..model.predict import load_model
            model = load_model(model_path)
        for chunk in chunks:
            with _gc_for_batch():
                rows = score_messages(model, [_safe_message(u) for u in chunk], me)
            yield rows
        return

    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if model is not None and "fork" in mp.get_all_start_methods():
        # forked workers inherit the loaded model instead of loading it again
        _WORKER.update(model=model, path=str(model_path))
        ctx = mp.get_context("fork")
    else:
        ctx = mp.get_context("spawn" if os.name != "posix" else "forkserver")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(model_path, me))
    finished = False
    try:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_score_chunk, chunk))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        finished = True
    finally:
        if not finished:  # interrupted or failed: stop the workers now instead of draining the queue
            procs = list(getattr(pool, "_processes", {}).values())
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.join(2)
        pool.shutdown(wait=finished, cancel_futures=not finished)
