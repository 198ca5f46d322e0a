"""Read and validate labelled examples (CSV, JSONL or Parquet) against the taxonomy.

Two kinds of file are accepted:

* **Labelled files**: every row has ``text`` and ``reason`` (optionally ``signal`` and the other
  ``COLUMNS``); every row is used.
* **Scored files** written by ``negclass score`` (recognised by their ``confidence`` and ``p_none``
  columns). Their ``reason`` and ``signal`` are the model's guesses, so a row is used only when a
  person marked it, with columns that ``score`` never writes:

  - ``correct_reason`` (and optionally ``correct_signal``) filled in: the corrected label; or
    ``correct_signal`` alone: the predicted reason is kept, the signal corrected;
  - ``confirmed`` set to yes/y/true/1/x: the row's ``reason`` and ``signal`` as they now stand
    are right (so a ``reason`` edited in place counts once ``confirmed`` says yes).

  Every other row is ignored, so an untouched scored file contributes nothing. The text of a
  row is its ``text`` column when there is one, else it is read again from the message's
  ``source`` (the mailbox or table that was scored) by the mail reader (``fill_texts``).

Every problem raises ``DataError`` naming the file and line (row number for Parquet).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError, NotUTF8Error
from ..mail.ingest import csv_records, not_utf8
from ..model import taxonomy

COLUMNS = ["id", "text", "reason", "signal", "channel", "source", "difficulty", "sector", "message_id", "kind"]
CORRECT_REASON, CORRECT_SIGNAL, CONFIRMED = "correct_reason", "correct_signal", "confirmed"
YES = {"yes", "y", "true", "1", "x", "ok", "✓", "✔"}
NO = {"", "no", "n", "false", "0"}
NEAR_DUPLICATE = 0.9   # TF-IDF cosine (word 1-2-grams) at or above which two texts are near-duplicates


def blank(value) -> bool:
    """Nothing in a cell: None, NaN or only white space."""
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def is_scored(columns) -> bool:
    """Whether a table with these columns was written by ``negclass score``."""
    return {"confidence", f"p_{taxonomy.NONE}"} <= set(columns)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise NotUTF8Error(path, line, not_utf8(raw[exc.start], exc.start, exc.reason)) from None


def _jsonl_rows(path: Path, text: str):
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, lineno, f"not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(path, lineno, "expected a JSON object per line")
        yield lineno, row


def _csv_rows(path: Path, text: str):
    """Rows with the line each record starts on (records may span lines)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise DataError(path, 1, "empty file or empty header line; expected a header such as 'text,reason'")
        header = [h.strip() for h in header]
        for lineno, record in csv_records(reader):
            if len(record) > len(header):
                if any(field.strip() for field in record[len(header):]):
                    raise DataError(path, lineno, f"{len(record)} fields but the header has {len(header)} "
                                                  "(a comma or quote out of place?)")
                record = record[:len(header)]
            record += [""] * (len(header) - len(record))
            yield lineno, dict(zip(header, record))
    except csv.Error as exc:
        raise DataError(path, reader.line_num, f"cannot read as CSV ({exc})") from None


def _parquet_rows(path: Path):
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DataError(path, None, f"cannot read as Parquet ({exc})") from None
    for i, row in enumerate(table.to_pylist(), 1):
        yield i, row


def read_rows(path: Path):
    """Yield (line number, dict) from a CSV, JSONL or Parquet file, with the file's own line numbers."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        yield from _jsonl_rows(path, _decode(path, path.read_bytes()))
    elif suffix == ".csv":
        yield from _csv_rows(path, _decode(path, path.read_bytes()))
    elif suffix in {".parquet", ".pq"}:
        yield from _parquet_rows(path)
    else:
        raise DataError(path, None, f"unsupported file type {suffix or '(none)'}; use .csv, .jsonl or .parquet")


def validate_row(row: dict, path: Path, lineno: int) -> dict:
    """Check one labelled row; return it normalised (signal None for none, strings stripped)."""
    reasons = taxonomy.reasons()
    if "text" not in row:
        raise DataError(path, lineno, "missing column 'text'")
    if "reason" not in row:
        raise DataError(path, lineno, "missing column 'reason'")
    text = row.get("text")
    if blank(text):
        raise DataError(path, lineno, "empty text")
    reason = str(row["reason"]).strip() if not blank(row["reason"]) else ""
    if reason not in reasons:
        raise DataError(path, lineno, f"unknown reason {reason!r}; expected one of {', '.join(reasons)}")
    signal = None if blank(row.get("signal")) else str(row["signal"]).strip()
    if reason == taxonomy.NONE and signal is not None:
        raise DataError(path, lineno, f"signal {signal!r} given for reason 'none'; leave it empty")
    if signal is not None and signal not in taxonomy.signals(reason):
        if signal in taxonomy.signals():
            raise DataError(path, lineno, f"signal {signal!r} belongs to {taxonomy.reason_of(signal)!r}, not {reason!r}")
        raise DataError(path, lineno, f"unknown signal {signal!r}; expected one of {', '.join(taxonomy.signals(reason))}")
    channel = None if blank(row.get("channel")) else str(row["channel"]).strip()
    if channel is not None and channel not in taxonomy.channels():
        raise DataError(path, lineno, f"unknown channel {channel!r}; expected one of {', '.join(taxonomy.channels())}")
    out = {k: (None if blank(row.get(k)) else str(row.get(k))) for k in COLUMNS}
    out.update(text=str(text), reason=reason, signal=signal, channel=channel)
    if out["id"] is None:
        out["id"] = "h-" + hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:12]
    return out


# -- scored files -------------------------------------------------------------------------------
def scored_label(row: dict, path: Path, lineno: int) -> tuple[str, str | None, str] | None:
    """``(reason, signal, how)`` a person gave this scored row, or None when they did not mark it.

    ``how`` is ``"corrected"`` or ``"confirmed"``. See the module docstring for the rule.
    """
    mark = row.get(CONFIRMED)
    mark = "" if blank(mark) else str(mark).strip().lower()
    if mark not in YES and mark not in NO:
        raise DataError(path, lineno, f"{CONFIRMED!r} is {row.get(CONFIRMED)!r}; use yes (or leave it empty)")
    reason, signal = row.get(CORRECT_REASON), row.get(CORRECT_SIGNAL)
    if not blank(reason):
        return str(reason).strip(), None if blank(signal) else str(signal).strip(), "corrected"
    if not blank(signal):
        return _cell(row.get("reason")), str(signal).strip(), "corrected"
    if mark in YES:
        return _cell(row.get("reason")), None if blank(row.get("signal")) else _cell(row.get("signal")), "confirmed"
    return None


def _cell(value) -> str:
    return "" if blank(value) else str(value).strip()


def _scored_rows(path: Path, rows, counts: dict):
    """Turn the marked rows of a scored file into labelled rows; texts are filled in later."""
    for lineno, row in rows:
        label = scored_label(row, path, lineno)
        if label is None:
            continue
        reason, signal, how = label
        counts[how] = counts.get(how, 0) + 1
        if not blank(row.get("error")) and blank(row.get("text")):
            raise DataError(path, lineno, f"this message could not be scored ({row['error']}); "
                                          "it has no text to learn from: clear its label")
        out = {k: row.get(k) for k in ("id", "text", "channel", "difficulty", "sector")}
        out.update(reason=reason, signal=signal, message_id=None if blank(row.get("id")) else str(row["id"]))
        yield lineno, out, None if blank(row.get("source")) else str(row["source"])


def fill_texts(path: Path, pending: list[tuple[int, dict, str | None]]) -> None:
    """Fill in the text of scored rows of ``path`` that have no ``text``, read again from the mailbox
    or table named in their ``source`` (``ingest.read_texts``). ``pending`` holds ``(line, row,
    source)``; a text that cannot be found raises ``DataError`` naming the row's line."""
    from ..mail import ingest

    by_source: dict[str, list[tuple[int, dict]]] = {}
    for lineno, row, source in pending:
        if source is None:
            raise DataError(path, lineno, "no 'text' and no 'source' to read it from; add a 'text' column")
        by_source.setdefault(source, []).append((lineno, row))
    for source, rows in by_source.items():
        found = _locate(path, source)
        if found is None:
            raise DataError(path, rows[0][0], f"cannot find the text of this message: its source {source!r} does not "
                                              "exist here; run from the folder you scored in, or add a 'text' column")
        wanted = {str(r["id"]) for _, r in rows if not blank(r.get("id"))}
        try:
            texts, single = ingest.read_texts(found, wanted, named=source)
        except Exception as exc:  # noqa: BLE001 - any failure to re-read is the user's to fix
            raise DataError(path, rows[0][0], f"cannot read the text back from {source!r}: {exc}") from None
        for lineno, row in rows:
            text = texts.get(str(row.get("id"))) or single
            if blank(text):
                raise DataError(path, lineno, f"cannot find the text of message {row.get('id')!r} in {source!r}; "
                                              "add a 'text' column")
            row["text"] = text


def _locate(path: Path, source: str) -> Path | None:
    for candidate in (Path(source), path.parent / source):
        if candidate.exists():
            return candidate
    return None


# -- loading ------------------------------------------------------------------------------------
@dataclass
class FileSummary:
    """What one file contributed: all rows of a labelled file, the marked rows of a scored one."""

    path: Path
    kind: str          # "labelled" or "scored"
    rows: int          # data rows in the file
    used: int          # rows that became training examples
    corrected: int = 0
    confirmed: int = 0
    repeated: int = 0  # rows with the id, text and label of an example loaded before: used once

    def text(self) -> str:
        again = f"; {self.repeated} repeat examples loaded before (same id, text and label), used once" \
            if self.repeated else ""
        if self.kind == "labelled":
            return f"{self.path}: {self.used} labelled rows used{again}"
        return (f"{self.path}: scored file, {self.used} of {self.rows} rows used "
                f"({self.corrected} corrected, {self.confirmed} confirmed; unmarked rows ignored){again}")


def load_files(paths) -> tuple[pd.DataFrame, list[FileSummary]]:
    """Load labelled and scored files; the frame (see ``load``) and what each file contributed."""
    records = []
    summaries = []
    seen: dict[str, tuple[str, dict]] = {}
    for p in [Path(p) for p in paths]:
        if not p.exists():
            raise DataError(p, None, "no such file")
        if p.is_dir():
            raise DataError(p, None, "is a folder; give the labelled files inside it")
        rows = list(read_rows(p))
        scored = bool(rows) and is_scored(rows[0][1].keys())
        if scored:
            counts: dict = {}
            marked = list(_scored_rows(p, rows, counts))
            missing = [m for m in marked if blank(m[1].get("text"))]
            if missing:
                fill_texts(p, missing)
            labelled = [(lineno, row) for lineno, row, _ in marked]
            if not labelled:
                raise DataError(p, None, f"scored file with no corrected or confirmed rows: put the right reason in a "
                                         f"'{CORRECT_REASON}' column, or yes in a '{CONFIRMED}' column, for the rows "
                                         "you checked (see README: Retrain with your own examples)")
            summary = FileSummary(p, "scored", len(rows), len(labelled), counts.get("corrected", 0),
                                  counts.get("confirmed", 0))
        else:
            if rows:
                _check_columns(p, rows[0])
            labelled = rows
            summary = FileSummary(p, "labelled", len(rows), len(rows))
        for lineno, row in labelled:
            rec = validate_row(row, p, lineno)
            if rec["id"] in seen:
                first, before = seen[rec["id"]]
                if [before[k] for k in ("text", "reason", "signal")] == [rec[k] for k in ("text", "reason", "signal")]:
                    summary.used -= 1           # the same example given twice: use it once
                    summary.repeated += 1
                    continue
                raise DataError(p, lineno, f"duplicate id {rec['id']!r} (first at {first})")
            seen[rec["id"]] = (f"{p}:{lineno}", rec)
            rec.update(file=str(p), line=lineno)
            records.append(rec)
        summaries.append(summary)
    if not records:
        raise DataError(", ".join(map(str, paths)) or "(no files)", None, "no labelled examples found")
    return pd.DataFrame.from_records(records, columns=COLUMNS + ["file", "line"]), summaries


def _check_columns(path: Path, first: tuple[int, dict]) -> None:
    """Tables with a header must name ``text`` and ``reason`` in it (JSONL rows are checked one by one)."""
    if path.suffix.lower() in {".csv", ".parquet", ".pq"}:
        missing = [c for c in ("text", "reason") if c not in first[1]]
        if missing:
            raise DataError(path, 1, f"missing column {missing[0]!r}; the columns are {', '.join(first[1]) or '(none)'}")


def load(paths) -> pd.DataFrame:
    """Load labelled files into one frame with columns ``COLUMNS`` plus ``file`` and ``line``.

    Any contract violation raises ``DataError`` naming the file and line; duplicate ids too.
    """
    return load_files(paths)[0]


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 over ids, texts and labels: which data a model was trained on."""
    h = hashlib.sha256()
    for row in frame[["id", "text", "reason", "signal"]].itertuples(index=False):
        h.update(json.dumps(list(row), ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()


# -- duplicates and leakage ---------------------------------------------------------------------
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-cased, with runs of white space made one space: how two copies of a text compare."""
    return _SPACE.sub(" ", str(text)).strip().lower()


def normalise(text: str) -> str:
    """The author's new words, lower-cased with runs of white space made one: what duplicates share."""
    from ..model.pipeline import MailCleaner

    cleaned = MailCleaner().as_labelled([str(text)])[0]  # what training reads of a labelled text
    return fold(cleaned)


@dataclass(frozen=True)
class Match:
    """Row ``a`` of the first frame looks like row ``b`` of the second."""

    a: int
    b: int
    similarity: float   # 1.0 for exact duplicates (after ``normalise``)

    @property
    def exact(self) -> bool:
        return self.similarity >= 1.0


def similar(a_texts, b_texts=None, threshold: float = NEAR_DUPLICATE) -> list[Match]:
    """Pairs of exact or near-duplicate texts: between ``a`` and ``b``, or within ``a`` if ``b`` is None."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    within = b_texts is None
    a = [normalise(t) for t in a_texts]
    b = a if within else [normalise(t) for t in b_texts]
    found: dict[tuple[int, int], float] = {}
    index: dict[str, list[int]] = {}
    for j, y in enumerate(b):
        index.setdefault(y, []).append(j)
    for i, x in enumerate(a):
        for j in index.get(x, ()):
            if not within or i < j:
                found[(i, j)] = 1.0
    if a and b:
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        try:
            vec.fit(a if within else a + b)
            sims = (vec.transform(a) @ vec.transform(b).T).tocoo()
        except ValueError:  # no words at all (punctuation only): exact matches are all there is
            sims = None
        if sims is not None:
            for i, j, s in zip(sims.row, sims.col, sims.data):
                i, j = int(i), int(j)
                if s >= threshold and (not within or i < j) and (i, j) not in found:
                    found[(i, j)] = round(min(float(s), 0.9999), 4)
    return [Match(i, j, s) for (i, j), s in sorted(found.items())]


def where(frame: pd.DataFrame, i: int) -> str:
    row = frame.iloc[i]
    return f"{row['file']}:{row['line']}"


def duplicates(frame: pd.DataFrame, new: pd.Series | None = None, threshold: float = NEAR_DUPLICATE) -> list[str]:
    """Readable lines for exact and near-duplicate pairs in ``frame``; with ``new`` (a boolean mask)
    only pairs that involve at least one new row (the rest was checked when the corpus was made)."""
    if new is None:
        idx = list(range(len(frame)))
        pairs = similar(frame["text"].tolist(), threshold=threshold)
        pairs = [(m, idx[m.a], idx[m.b]) for m in pairs]
    else:
        mask = pd.Series(new).to_numpy(dtype=bool)
        ni = [i for i in range(len(frame)) if mask[i]]
        oi = [i for i in range(len(frame)) if not mask[i]]
        within = similar(frame["text"].iloc[ni].tolist(), threshold=threshold)
        across = similar(frame["text"].iloc[ni].tolist(), frame["text"].iloc[oi].tolist(), threshold) if oi else []
        pairs = [(m, ni[m.a], ni[m.b]) for m in within] + [(m, ni[m.a], oi[m.b]) for m in across]
    lines = []
    for m, i, j in sorted(pairs, key=lambda p: (p[1], p[2])):
        ri, rj = frame.iloc[i], frame.iloc[j]
        kind = "exact duplicate" if m.exact else f"near-duplicate (similarity {m.similarity:.2f})"
        li, lj = _label(ri), _label(rj)
        labels = "" if li == lj else f"; labelled differently: {li} vs {lj}"
        lines.append(f"{where(frame, i)}: {kind} of {where(frame, j)}{labels}")
    return lines


def _label(row) -> str:
    return f"{row['reason']}/{'-' if blank(row['signal']) else row['signal']}"


def check_leakage(train: pd.DataFrame, evaluation: pd.DataFrame, what: str,
                  threshold: float = NEAR_DUPLICATE) -> None:
    """Refuse training rows that are also (exactly or nearly) in evaluation data: raise ``DataError``."""
    if not len(train) or not len(evaluation):
        return
    hits = similar(train["text"].tolist(), evaluation["text"].tolist(), threshold)
    if not hits:
        return
    first = hits[0]
    kind = "the same text as" if first.exact else f"a near-duplicate (similarity {first.similarity:.2f}) of"
    more = f" ({len(hits)} such rows, first shown)" if len(hits) > 1 else ""
    raise DataError(train.iloc[first.a]["file"], int(train.iloc[first.a]["line"]),
                    f"leakage: {kind} {what} example {where(evaluation, first.b)} (id {evaluation.iloc[first.b]['id']})"
                    f"{more}; an example used to measure the model cannot be trained on: remove it")
