"""Score messages on Apache Spark with the same code as ``negclass score``.

``score(df)`` turns a DataFrame of messages into the rows of ``negclass score`` (its columns, one
row out per row in) through ``mapInPandas``: each Python worker loads the model once, from a
copy shipped with ``SparkContext.addFile`` and verified against its manifest by ``load_model``
exactly as locally, and scores every Arrow batch with ``score.score_messages`` (own mail skipped,
``Model.classify_many``, ``schema.to_row``), the function behind the command line.

``read_eml`` (Spark's ``binaryFile`` source) and ``read_mbox`` (byte ranges of mbox files, split
at message boundaries by ``mail.mbox``) turn raw mail into message rows with ``mime.parse_email``; cleaning
(HTML, quotes, signatures) happens inside ``classify_many`` as in ``negclass score``.

Needs the optional extra: ``pip install 'negclass[spark]'`` and a Java runtime. See docs/spark.md.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ModelError, NegclassError

SPARK_EXTRA_HINT = "the Spark engine needs the optional extra: pip install 'negclass[spark]' (and a Java runtime)"
MESSAGE_FIELDS = ["id", "source", "date", "from", "subject", "text", "html", "error", "thread_ref"]
RANGE_BYTES = 64 << 20  # mbox bytes per task in read_mbox
_SHIPPED: dict[tuple[str, str], str] = {}   # (application id, content digest) -> name given to addFile
_EXECUTOR: dict = {}                        # per Python worker: the loaded model and its path


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise NegclassError(SPARK_EXTRA_HINT) from None


def session(master: str = "local[*]", app_name: str = "negclass"):
    """A SparkSession for ``master``. In local mode the Python workers run this interpreter (the one
    negclass is installed in) unless ``PYSPARK_PYTHON`` says otherwise."""
    _require_pyspark()
    from pyspark.sql import SparkSession

    if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable
    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.ui.showConsoleProgress", "false").getOrCreate())


# -- output schema ----------------------------------------------------------------------------
def _schema(include_text: bool = False):
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType, StructField, StructType

    from ..batch.schema import column_type, columns

    types = {"int": LongType(), "float": DoubleType(), "bool": BooleanType(), "str": StringType()}
    return StructType([StructField(c, types[column_type(c)]) for c in columns(include_text)])


def _message_schema():
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType

    return StructType([StructField(c, BooleanType() if c == "html" else StringType()) for c in MESSAGE_FIELDS])


def _frame(rows: list[dict], cols: list[str]):
    import pandas as pd

    pdf = pd.DataFrame(rows, columns=cols)
    dtypes = {"text_chars": "Int64", "low_confidence": "boolean", "skipped": "boolean", "html": "boolean"}
    return pdf.astype({c: t for c, t in dtypes.items() if c in pdf.columns})


# -- shipping the model -------------------------------------------------------------------------
def ship_model(spark, model_dir: str | Path | None = None) -> str:
    """Verify a model directory and add it to the job's files; return the name executors open it by.

    The name carries a digest of the files' content, so a changed model is shipped again instead of
    Spark keeping the copy it already has.
    """
    from ..model import registry, store

    model_dir = Path(model_dir) if model_dir else registry.default_model_dir()
    store.verify(model_dir)  # fail early on the driver; every executor verifies its own copy again
    h = hashlib.sha256()
    for f in sorted(p for p in model_dir.iterdir() if p.is_file()):
        h.update(f.name.encode() + b"\0" + store.sha256_file(f).encode())
    digest = h.hexdigest()[:20]
    sc = spark.sparkContext
    key = (sc.applicationId, digest)
    if key not in _SHIPPED:
        name = f"negclass-model-{digest}"
        staged = Path(tempfile.gettempdir()) / f"negclass-spark-{os.getuid() if hasattr(os, 'getuid') else 0}" / name
        if staged.exists():
            shutil.rmtree(staged)
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(model_dir, staged, ignore=shutil.ignore_patterns(".*"))
        sc.addFile(str(staged), recursive=True)
        _SHIPPED[key] = name
    return _SHIPPED[key]


def _executor_model(name: str):
    """The model on this Python worker, loaded (and verified) once per worker process."""
    from pyspark import SparkFiles

    from ..model.predict import load_model

    path = SparkFiles.get(name)
    if _EXECUTOR.get("path") != path:
        _EXECUTOR.clear()
        try:
            _EXECUTOR["model"] = load_model(path)
        except ModelError as exc:
            import socket
            raise ModelError(f"negclass model on executor {socket.gethostname()}: {exc}") from None
        _EXECUTOR["path"] = path
    return _EXECUTOR["model"]


# -- scoring ------------------------------------------------------------------------------------
def _messages(pdf, text_col: str, id_col: str):
    """Message objects for the rows of one pandas batch (a bad row becomes a Message with error)."""
    from ..mail.message import Message

    def val(row: dict, col: str):
        v = row.get(col)
        return None if v is None or (isinstance(v, float) and v != v) else v

    out = []
    for i, row in enumerate(pdf.to_dict("records")):
        rid = val(row, "_negclass_id")
        source = val(row, "source")
        try:
            if text_col not in row:
                out.append(Message(rid, source, error=f"no column {text_col!r} (use --text-column)"))
                continue
            text, error = val(row, text_col), val(row, "error")
            html = bool(val(row, "html")) if "html" in row and val(row, "html") is not None else False
            msg = Message(rid, None if source is None else str(source),
                          text=None if text is None else str(text), html=html,
                          date=_opt(val(row, "date")), sender=_opt(val(row, "from")), subject=_opt(val(row, "subject")),
                          error=None if error is None else str(error), thread_ref=_opt(val(row, "thread_ref")))
            if msg.error is None and msg.text is None:
                msg.error = "empty text"
            out.append(msg)
        except Exception as exc:
            out.append(Message(rid, source, error=f"unreadable row: {exc}"))
    return out


def _opt(value) -> str | None:
    return None if value is None or str(value) == "" else str(value)


def _score_batch(model, messages: list, me) -> list[dict]:
    """Rows for one batch; if the batch fails, each message alone; if one fails, an error row."""
    from ..batch.schema import to_row
    from ..batch.score import score_messages

    try:
        return score_messages(model, messages, me)
    except Exception:
        rows = []
        for m in messages:
            try:
                rows.extend(score_messages(model, [m], me))
            except Exception as exc:
                m.error = f"cannot score: {type(exc).__name__}: {exc}"
                rows.append(to_row(m, None))
        return rows


def _scorer(model_name: str, text_col: str, id_col: str, me, keep: list[str], include_text: bool = False):
    from ..batch.schema import columns

    cols = columns(include_text)

    def run(batches: Iterator) -> Iterator:
        model = _executor_model(model_name)
        for pdf in batches:
            out = _frame(_score_batch(model, _messages(pdf, text_col, id_col), me), cols)
            for k in keep:
                out[k] = pdf[k].to_numpy()
            yield out

    return run


def score(df, text_col: str = "text", id_col: str = "id", *, model: str | Path | None = None,
          me: Iterable[str] = (), me_domain: Iterable[str] = (), keep: Iterable[str] = (), include_text: bool = False):
    """Score a DataFrame of messages: the columns of ``negclass score``, one row per input row.

    ``text_col`` holds the message text (HTML is detected, or say so with a boolean ``html``
    column); ``id_col`` the id (a missing id becomes ``SOURCE#row-N``: unique, but N is not the
    row number). ``source``,
    ``date``, ``from``, ``subject`` and ``error`` columns are used when present (``read_eml`` and
    ``read_mbox`` make them). ``me``/``me_domain``: our own addresses and domains, skipped.
    ``model``: a model directory (default: as ``negclass score``). ``keep``: input columns of
    simple types (numbers, strings, booleans) to carry through after the prediction columns, e.g.
    a key to join on. ``include_text`` adds the classified text as a last ``text`` column. Lazy, like
    any transformation.
    """
    _require_pyspark()
    from pyspark.sql import functions as F

    from ..batch.score import Me

    spark = df.sparkSession
    name = ship_model(spark, model)
    wanted = [c for c in dict.fromkeys([text_col, "source", "date", "from", "subject", "html", "error", "thread_ref"])
              if c in df.columns]
    prefix = F.coalesce(F.col("source").cast("string"), F.lit("row")) if "source" in df.columns else F.lit("row")
    rid = F.concat(prefix, F.lit("#row-"), F.monotonically_increasing_id().cast("string"))
    if id_col in df.columns:
        rid = F.coalesce(F.col(f"`{id_col}`").cast("string"), rid)
    keep = [k for k in dict.fromkeys(keep)]
    clash = [k for k in keep if k in _schema(include_text).fieldNames() or k not in df.columns]
    if clash:
        raise NegclassError(f"keep={clash}: not an input column, or the name of an output column")
    cast = [F.col(f"`{c}`").cast("boolean" if c == "html" else "string").alias(c) for c in wanted]
    slim = df.select(rid.alias("_negclass_id"), *cast, *[F.col(f"`{k}`").alias(f"_keep_{k}") for k in keep])
    schema = _schema(include_text)
    for k in keep:
        schema = schema.add(k, df.schema[k].dataType)
    renamed = [f"_keep_{k}" for k in keep]

    def run(batches):
        for pdf in batches:
            yield pdf.rename(columns=dict(zip(renamed, keep)))

    return slim.mapInPandas(_chain(run, _scorer(name, text_col, id_col, Me.of(me, me_domain), keep, include_text)),
                            schema)


def _chain(first, second):
    return lambda batches: second(first(batches))


# -- raw mail -----------------------------------------------------------------------------------
def _local(uri: str) -> str:
    """A file: URI as a plain path (other URIs unchanged)."""
    from urllib.parse import unquote, urlparse

    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    return uri


def _message_row(msg) -> dict:
    return {"id": msg.id, "source": msg.source, "date": msg.date, "from": msg.sender, "subject": msg.subject,
            "text": msg.text, "html": bool(msg.html), "error": msg.error, "thread_ref": msg.thread_ref}


def _parse_eml_batches(batches: Iterator) -> Iterator:
    from ..mail.message import Message
    from ..mail.mime import BINARY, looks_binary, parse_email

    for pdf in batches:
        rows = []
        for path, content in zip(pdf["path"], pdf["content"]):
            path = _local(path)
            raw = bytes(content) if content is not None else b""
            try:
                if looks_binary(raw):  # as ingest reads a single .eml
                    msg = Message(path, path, error=BINARY)
                else:
                    msg = parse_email(raw, path, path)
            except Exception as exc:
                msg = Message(path, path, error=f"unreadable message: {exc}")
            rows.append(_message_row(msg))
        yield _frame(rows, MESSAGE_FIELDS)


def read_eml(spark, path: str, glob: str = "*.eml"):
    """Message rows from .eml files below ``path`` (any Hadoop path; Spark's ``binaryFile`` source).

    Columns ``id, source, date, from, subject, text, html, error``, one row per file, ready for
    ``score``; a file that cannot be parsed is a row with ``error``.
    """
    raw = (spark.read.format("binaryFile").option("pathGlobFilter", glob)
           .option("recursiveFileLookup", "true").load(str(path)).select("path", "content"))
    return raw.mapInPandas(_parse_eml_batches, _message_schema())


def _mbox_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".mbox", ".mbx"})
    if not path.exists():
        raise NegclassError(f"{path}: no such file or directory")
    return [path]


def _count_range(task: tuple) -> int:
    from ..mail import mbox

    path, start, end = task
    return sum(1 for _ in mbox.range_messages(path, start, end))


def _parse_mbox_batches(batches: Iterator) -> Iterator:
    from ..mail import mbox
    from ..mail.ingest import to_message
    from ..mail.message import Message

    for pdf in batches:
        for path, start, end, first, name in zip(pdf["path"], pdf["start"], pdf["end"], pdf["first"], pdf["name"]):
            rows = []
            try:
                if start == 0 and not mbox.is_mbox(Path(path)):
                    rows.append(_message_row(Message(f"{name}#0", name, error=mbox.NOT_MBOX)))
                else:
                    for k, lines in enumerate(mbox.range_messages(path, int(start), int(end))):
                        unit = mbox.unit(lines, Path(name), int(first) + k)
                        try:
                            msg = to_message(unit)
                        except Exception as exc:
                            msg = Message(unit.id, unit.source, error=f"unreadable message: {exc}")
                        rows.append(_message_row(msg))
            except OSError as exc:
                rows.append(_message_row(Message(f"{name}@{start}", name, error=f"cannot read: {exc}")))
            yield _frame(rows, MESSAGE_FIELDS)


def read_mbox(spark, path: str | Path, range_bytes: int = RANGE_BYTES):
    """Message rows from an mbox file (or every .mbox/.mbx below a folder), split across tasks.

    Each file is cut into byte ranges of about ``range_bytes``; a task reads the messages whose
    ``From `` line starts in its range, so one large mbox is read in parallel. Ids and sources are
    those of ``negclass score`` (``PATH#N`` unless the message has a Message-ID); a first pass
    counts the messages per range to number them. The path must be readable at the same place on
    every executor (local mode, or a shared file system).
    """
    _require_pyspark()
    tasks = []
    for f in _mbox_files(Path(path)):
        size = f.stat().st_size
        bounds = list(range(0, size, max(1, int(range_bytes)))) or [0]
        tasks += [(str(f.resolve()), str(f), s, min(s + range_bytes, size) if i < len(bounds) - 1 else size + 1)
                  for i, s in enumerate(bounds)]
    sc = spark.sparkContext
    counts = sc.parallelize([(t[0], t[2], t[3]) for t in tasks], max(1, len(tasks))).map(_count_range).collect()
    rows, first, last_name = [], 0, None
    for (real, name, start, end), n in zip(tasks, counts):
        if name != last_name:
            first, last_name = 0, name
        rows.append((real, start, end, first, name))
        first += n
    ranges = spark.createDataFrame(rows, "path string, start long, end long, first long, name string")
    ranges = ranges.repartition(max(1, len(rows)))  # one range per task
    return ranges.mapInPandas(_parse_mbox_batches, _message_schema())


# -- command line -------------------------------------------------------------------------------
def _read_input(spark, path: Path, kind: str, text_col: str, id_col: str):
    from pyspark.sql import functions as F

    p = str(path)
    if kind == "parquet":
        df = spark.read.parquet(p)
    elif kind == "csv":
        df = spark.read.csv(p, header=True, multiLine=True, escape='"', mode="PERMISSIVE")
    elif kind == "jsonl":
        df = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record").json(p)
        if "_corrupt_record" in df.columns:
            df = df.withColumn("error", F.when(F.col("_corrupt_record").isNotNull(), F.lit("bad JSON")))
    elif kind == "mbox":
        return read_mbox(spark, path)
    elif kind in {"eml", "emldir"}:
        return read_eml(spark, p)
    else:
        raise NegclassError(f"{path}: the Spark engine reads parquet, csv, jsonl, mbox and .eml; "
                            f"this is {kind} (use --engine local)")
    keep = [F.col(f"`{c}`") for c in df.columns if c in {text_col, id_col, "date", "from", "subject", "error"}]
    df = df.select(*keep)
    return df.withColumn("source", F.lit(p))


# An executor's exception reaches the driver only as the text of its Python traceback, whose last
# line names the exception's type as Python prints it (module and class); a ModelError is known by that.
_MODEL_ERROR = re.compile(rf"(?<![\w.]){re.escape(ModelError.__module__)}\.{ModelError.__qualname__}: (.+)")


def executor_model_error(exc: BaseException) -> str | None:
    """The message of a ``ModelError`` raised on an executor, from the failed job's exception."""
    found = _MODEL_ERROR.search(str(exc))
    return found.group(1).strip() if found else None


def cli_score(args) -> int:
    """``negclass score --engine spark``: inputs read and scored by Spark, written as Parquet."""
    from ..batch.schema import columns
    from ..mail import ingest
    from ..model import registry

    _require_pyspark()
    if args.resume:
        raise NegclassError("--resume works with --engine local only (a Spark job is retried by Spark)")
    out = Path(args.out)
    if out.suffix.lower() not in {".parquet", ".pq"}:
        raise NegclassError(f"--out {out}: the Spark engine writes Parquet; name the output .parquet")
    inputs = ingest.check_inputs(args.inputs, args.format)
    id_column = args.id_column or "id"  # Spark reads tables itself: the id column is not detected
    model_dir = (args.model or registry.default_model_dir()).resolve()
    started = time.perf_counter()
    spark = session(args.master)
    from pyspark.sql import functions as F

    frames = []
    for n, (path, kind) in enumerate(inputs):
        df = _read_input(spark, path, kind, args.text_column, id_column)
        # input order: which input, then position in it, kept through the shuffle below
        frames.append(df.withColumn("_negclass_in", F.lit(n).cast("long"))
                      .withColumn("_negclass_k", F.monotonically_increasing_id()))
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    df = df.repartition(max(spark.sparkContext.defaultParallelism * 2, df.rdd.getNumPartitions()))
    scored = score(df, args.text_column, id_column, model=model_dir, me=args.me, me_domain=args.me_domain,
                   keep=["_negclass_in", "_negclass_k"], include_text=getattr(args, "include_text", False))
    tmp = out.with_name(f".{out.name}.spark-partial")
    if tmp.exists():
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    try:
        cols = columns(getattr(args, "include_text", False))
        scored.orderBy("_negclass_in", "_negclass_k").select(*[F.col(f"`{c}`") for c in cols]).write.parquet(str(tmp))
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        message = executor_model_error(exc)
        if message:
            raise NegclassError(message) from None
        raise
    if out.exists():
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    os.replace(tmp, out)
    if not args.quiet:
        print(_summary(spark, out, time.perf_counter() - started), file=sys.stderr)
        print(f"wrote {out} (a Parquet dataset folder, rows in input order)", file=sys.stderr)
    return 0


def _summary(spark, out: Path, seconds: float) -> str:
    from pyspark.sql import functions as F

    from ..model import taxonomy

    res = spark.read.parquet(str(out))
    stats = res.agg(F.count(F.lit(1)).alias("rows"),
                    F.sum(F.col("skipped").cast("int")).alias("skipped"),
                    F.sum((F.col("error").isNotNull() & ~F.coalesce(F.col("skipped"), F.lit(False))).cast("int"))
                    .alias("errors"),
                    F.sum(F.col("low_confidence").cast("int")).alias("low")).first()
    per = {r["reason"]: r["count"] for r in res.groupBy("reason").count().collect()}
    reasons = ", ".join(f"{r} {per.get(r, 0)}" for r in taxonomy.reasons())
    return (f"{stats['rows']} rows: {reasons}; low confidence {stats['low'] or 0}; skipped {stats['skipped'] or 0}; "
            f"errors {stats['errors'] or 0}; {stats['rows'] / max(seconds, 1e-9):.1f} messages/s "
            f"(Spark start-up included)")
