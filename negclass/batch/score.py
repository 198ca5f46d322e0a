"""Batch scoring: messages in, one result row per message out, in input order.

``score_units`` takes the cheap units streamed by ``ingest.units`` and cuts them into chunks of
raw messages; each chunk is parsed, cleaned and classified either in this process or, with
``jobs > 1``, in worker processes that each hold one loaded model. At most ``2 * jobs`` chunks are
in flight, so memory stays flat however large the input; rows come back in input order.

``ScoreRun`` is a whole run from input files to an output: the rows go to a spool as they are
scored (``output.Spool``), so an interrupted run is continued where it stopped (``resume``);
``score_file`` does all of it in one call. The columns of the rows are in ``schema``.
"""
from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Iterable, Iterator

from ..mail import ingest
from ..mail.ingest import to_message
from ..mail.message import Message, RawMail
from ..model import taxonomy
from ..model.predict import Classification, Model
from .output import Spool
from .schema import columns, to_row

CHUNK = 512


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


# -- a whole run, resumable ---------------------------------------------------------------------
def run_key(inputs: list[tuple[Path, str]], *, text_column: str = "text", id_column: str | None = None,
            me: Me = Me(), model_path=None) -> dict:
    """What identifies a run, so that only the same run is resumed: each checked input (its
    resolved path, size, modification time and format), the table options, who we are, the model."""
    def stamp(p: Path) -> list:
        st = p.stat()
        return [str(p.resolve()), st.st_size, st.st_mtime_ns]

    return {"inputs": [stamp(Path(p)) + [k] for p, k in inputs], "text_column": text_column,
            "id_column": id_column, "me": sorted(me.addresses), "me_domain": sorted(me.domains),
            "model": str(model_path)}


class ScoreRun:
    """Score inputs into a sink (an ``output.Spool``, or ``output.StreamRows`` for a stream).

    With a spool made with ``resume`` (``ScoreRun.to_file``), the rows an interrupted run already
    wrote are skipped: the inputs are read again from the start and the first ``done`` units are
    passed over unread, so no row is lost or written twice. ``batches`` scores the rest, writing
    each chunk's rows to the sink before yielding them; ``finish`` writes the output."""

    def __init__(self, paths, sink, *, model_path=None, fmt: str | None = None, text_column: str = "text",
                 id_column: str | None = None, me: Me = Me()):
        self.paths, self.sink, self.model_path = list(paths), sink, model_path
        self.fmt, self.text_column, self.id_column, self.me = fmt, text_column, id_column, me
        self.summary = Summary()

    @classmethod
    def to_file(cls, paths, out, *, model_path, fmt: str | None = None, text_column: str = "text",
                id_column: str | None = None, me: Me = Me(), include_text: bool = False, resume: bool = False,
                overwrite: bool = False, inputs: list[tuple[Path, str]] | None = None) -> "ScoreRun":
        """A run into the file ``out``, resumable. ``inputs`` are the checked inputs when the caller
        has them already (``ingest.check_inputs``). Raises ``NegclassError`` when an interrupted
        run of ``out`` exists and neither ``resume`` nor ``overwrite`` is given, or when it was
        another run (other inputs or options) and ``resume`` is."""
        if inputs is None:
            inputs = ingest.check_inputs(paths, fmt, text_column, id_column)
        key = run_key(inputs, text_column=text_column, id_column=id_column, me=me, model_path=model_path)
        spool = Spool(out, columns(include_text=include_text), key, resume=resume, overwrite=overwrite)
        return cls(paths, spool, model_path=model_path, fmt=fmt, text_column=text_column, id_column=id_column, me=me)

    @property
    def done(self) -> int:
        """Rows written so far (when resuming, at first those of the interrupted run)."""
        return self.sink.done

    def batches(self, *, model: Model | None = None, jobs: int = 1) -> Iterator[list[dict]]:
        """Score what is left (see ``score_units``), one list of rows per chunk, written first."""
        units = islice(ingest.units(self.paths, self.fmt, self.text_column, self.id_column), self.sink.done, None)
        for rows in score_units(units, model=model, model_path=self.model_path, me=self.me, jobs=jobs):
            self.sink.write(rows)
            for row in rows:
                self.summary.add(row)
            yield rows

    def close(self) -> None:
        """Stop writing; an interrupted run stays resumable."""
        self.sink.close()

    def finish(self) -> int:
        """Write the output (atomically) and remove the spool; the number of rows in it."""
        return self.sink.finish()


def score_file(paths, out, *, model: Model | None = None, model_path=None, fmt: str | None = None,
               text_column: str = "text", id_column: str | None = None, me: Me = Me(), include_text: bool = False,
               jobs: int = 1, resume: bool = False, overwrite: bool = False) -> tuple[int, Summary]:
    """Score ``paths`` into the file ``out`` (.csv, .jsonl or .parquet) as ``negclass score`` does,
    continuing an interrupted run with ``resume``; returns the rows in the file and what this call
    scored. ``model_path`` is the model directory (loaded here unless ``model`` is given)."""
    from ..model import registry
    from ..model.predict import load_model

    if model_path is None:
        model_path = model.path if model is not None and model.path else registry.default_model_dir()
    model_path = Path(model_path).resolve()
    if model is None:
        model = load_model(model_path)
    run = ScoreRun.to_file(paths, out, model_path=model_path, fmt=fmt, text_column=text_column, id_column=id_column,
                           me=me, include_text=include_text, resume=resume, overwrite=overwrite)
    try:
        for _ in run.batches(model=model, jobs=jobs):
            pass
    finally:
        run.close()
    return run.finish(), run.summary
