"""Read messages from mailbox exports and tables: one ``Message`` per message, streamed.

Formats: mbox (streamed, any size; ``mbox``), maildir, a folder tree of .eml/.msg, single .eml,
Outlook .msg (optional extra ``negclass[msg]``), .txt, CSV, JSONL and Parquet. Raw mail is parsed
by ``mime.parse_email``. A message that cannot be read becomes a ``Message`` with ``error`` set,
never an exception.

Reading happens in two steps so that parsing can run in worker processes: ``units`` streams
cheap, picklable units (``RawMail`` with the raw bytes of one message, or an already built
``Message`` for table rows and unreadable inputs), and ``to_message`` turns a unit into a
``Message``. ``read`` chains both.
"""
from __future__ import annotations

import codecs
import csv
import json
import sys
from pathlib import Path
from typing import Iterator

from ..errors import DataError, NegclassError, NotUTF8Error
from . import mbox, message
from .message import EMPTY_FILE, Message, RawMail, too_large
from .mime import BINARY, looks_binary, parse_email, read_text_bytes

ID_COLUMNS = ("id", "message_id", "msg_id", "message-id", "messageid")  # tried in order, case ignored
FORMATS = ("mbox", "maildir", "emldir", "eml", "msg", "txt", "csv", "jsonl", "parquet")
MSG_EXTRA_HINT = "reading Outlook .msg files needs the optional extra: pip install 'negclass[msg]'"
_SUFFIX = {".mbox": "mbox", ".mbx": "mbox", ".eml": "eml", ".msg": "msg", ".txt": "txt", ".csv": "csv",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def detect_format(path: Path) -> str:
    """Guess an input's format from what it is, then its name, then its first bytes."""
    path = Path(path)
    if path.is_dir():
        if all((path / d).is_dir() for d in ("cur", "new")):
            return "maildir"
        return "emldir"
    fmt = _SUFFIX.get(path.suffix.lower())
    if fmt:
        return fmt
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"From "):
        return "mbox"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE compound file: Outlook .msg
        return "msg"
    first = head.split(b"\n", 1)[0]
    if b":" in first and not first.startswith((b"{", b"[")) and b"," not in first.split(b":")[0]:
        return "eml"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    raise NegclassError(f"{path}: cannot tell its format; pass --format ({', '.join(FORMATS)})")


def not_utf8(byte: int, offset: int, reason: str) -> str:
    """The message for a table that is not UTF-8: ``score`` and ``train`` refuse it alike."""
    return (f"not UTF-8 text ({reason}, byte 0x{byte:02x} at offset {offset}); "
            "save the file as UTF-8 (in Excel: 'CSV UTF-8')")


def _units_maildir(path: Path) -> Iterator[RawMail | Message]:
    files = []
    for sub in ("cur", "new"):
        d = path / sub
        if d.is_dir():
            files += [f for f in d.iterdir() if f.is_file() and not f.name.startswith(".")]
    for f in sorted(files, key=lambda f: (f.name.split(":", 1)[0], f.parent.name)):
        try:
            if f.stat().st_size > message.MAX_MESSAGE_BYTES:
                yield too_large(f"{path}#{f.name.split(':', 1)[0]}", str(f), f.stat().st_size)
                continue
            raw = f.read_bytes()
        except OSError as exc:
            yield Message(f"{path}#{f.name}", str(path), error=f"cannot read: {exc.strerror}")
            continue
        yield RawMail(raw, f"{path}#{f.name.split(':', 1)[0]}", str(f))


def _read_one_file(path: Path) -> bytes | Message:
    """The bytes of a file holding one message, or an error row (too large, unreadable)."""
    try:
        size = path.stat().st_size
        if size > message.MAX_MESSAGE_BYTES:
            return too_large(str(path), str(path), size)
        return path.read_bytes()
    except OSError as exc:
        return Message(str(path), str(path), error=f"cannot read: {exc.strerror}")


def _units_eml(path: Path) -> Iterator[RawMail | Message]:
    raw = _read_one_file(path)
    if isinstance(raw, Message):
        yield raw
        return
    if looks_binary(raw):
        yield Message(str(path), str(path), error=BINARY)
        return
    yield RawMail(raw, str(path), str(path))


_MAIL_SUFFIXES = {".eml", ".msg", ".mbox", ".mbx"}


def _mail_files(path: Path) -> list[Path]:
    """The mail files in a folder tree (.eml, .msg, .mbox), hidden files left out, in name order."""
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _MAIL_SUFFIXES
                  and not p.name.startswith("."))


def _units_emldir(path: Path) -> Iterator[RawMail | Message]:
    for f in _mail_files(path):
        suffix = f.suffix.lower()
        if suffix == ".msg":
            yield from _units_msg(f, strict=False)
        elif suffix in {".mbox", ".mbx"}:
            yield from mbox.units(f)
        else:
            yield from _units_eml(f)


def _has_mail(path: Path, kind: str) -> bool:
    if kind == "maildir":
        return any(f.is_file() and not f.name.startswith(".")
                   for sub in ("cur", "new") if (path / sub).is_dir() for f in (path / sub).iterdir())
    return next(iter(_mail_files(path)), None) is not None


def _units_msg(path: Path, strict: bool = True) -> Iterator[Message]:
    """An Outlook .msg file, read with extract-msg (the optional extra ``negclass[msg]``)."""
    try:
        import extract_msg
    except ImportError:
        if strict:
            raise NegclassError(f"{path}: {MSG_EXTRA_HINT}") from None
        yield Message(str(path), str(path), error=MSG_EXTRA_HINT)
        return
    try:
        m = extract_msg.openMsg(str(path))
    except Exception as exc:
        yield Message(str(path), str(path), error=f"unreadable .msg file: {exc}")
        return
    try:
        out = Message(str(path), str(path))
        mid = getattr(m, "messageId", None)
        out.id = str(mid).strip() if mid else str(path)
        out.sender = _opt(getattr(m, "sender", None))
        out.subject = _opt(getattr(m, "subject", None))
        date = getattr(m, "date", None)
        out.date = None if date is None else str(date)
        body = getattr(m, "body", None)
        if body and str(body).strip():
            out.text = str(body)
        else:
            html = getattr(m, "htmlBody", None)
            if isinstance(html, bytes):
                html = html.decode("utf-8", errors="replace")
            if html:
                out.text, out.html = html, True
            else:
                out.error = "no text body"
        yield out
    except Exception as exc:
        yield Message(str(path), str(path), error=f"unreadable .msg file: {exc}")
    finally:
        try:
            m.close()
        except Exception:
            pass


def _read_txt(path: Path) -> Iterator[Message]:
    raw = _read_one_file(path)
    if isinstance(raw, Message):
        yield raw
        return
    text, error = read_text_bytes(raw)
    yield Message(str(path), str(path), text=text, error=error)


def check_utf8(path: Path) -> None:
    """Raise a ``NotUTF8Error`` naming the line when a table is not UTF-8 (read in pieces, any size)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, offset = 1, 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = exc.object  # the bytes the decoder held back from the last piece, then this one
                at = offset - (len(data) - len(chunk)) + exc.start
                raise NotUTF8Error(path, lines + data[:exc.start].count(b"\n"),
                                not_utf8(data[exc.start], at, exc.reason)) from None
            if not chunk:
                return
            lines += chunk.count(b"\n")
            offset += len(chunk)


def _csv_reader(fh):
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    return csv.reader(fh)


def table_columns(path: Path, fmt: str) -> list[str] | None:
    """The columns of a table: the CSV header, the keys of the first JSONL object, the Parquet
    schema; None when they cannot be told (the rows then become error rows)."""
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            try:
                header = next(_csv_reader(fh), None)
            except csv.Error:
                return None
        return [h.strip() for h in header] if header else []
    if fmt == "jsonl":
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for line, _ in _bounded_lines(fh):
                if line is not None and line.strip():
                    try:
                        row = json.loads(line)
                    except ValueError:
                        return None
                    return list(row) if isinstance(row, dict) else None
        return []
    if fmt == "parquet":
        import pyarrow.parquet as pq
        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception:
            return None
    return None


def pick_id_column(columns, requested: str | None = None) -> str | None:
    """The id column: ``requested`` if given, else the first of ``ID_COLUMNS`` present (case ignored)."""
    if requested:
        return requested
    lower = {str(c).lower(): c for c in columns or ()}
    return next((lower[c] for c in ID_COLUMNS if c in lower), None)


def check_table(path: Path, fmt: str, text_column: str = "text", id_column: str | None = None) -> str | None:
    """Refuse a table that cannot be scored as a whole (not UTF-8, no text column, unknown id
    column) with a ``NegclassError``; returns the id column used (None: ids are FILE#ROW)."""
    if fmt in {"csv", "jsonl"}:
        if path.stat().st_size == 0:
            raise DataError(path, None, EMPTY_FILE)
        check_utf8(path)
    columns = table_columns(path, fmt)
    if columns is None:
        return id_column
    shown = ", ".join(repr(c) for c in columns) or "none"
    if text_column not in columns:
        raise DataError(path, None, f"no column {text_column!r}; the columns are {shown} "
                                    "(name the one holding the messages with --text-column)")
    if id_column and id_column not in columns:
        raise DataError(path, None, f"no column {id_column!r} for --id-column; the columns are {shown}")
    return pick_id_column(columns, id_column)


def _table_rows(path: Path, fmt: str, text_column: str, id_column: str | None) -> Iterator[Message]:
    id_column = pick_id_column(table_columns(path, fmt), id_column)

    def make(i: int, row: dict) -> Message:
        rid = row.get(id_column) if id_column else None
        rid = f"{path}#{i}" if rid is None or str(rid).strip() == "" or rid != rid else str(rid)
        if text_column not in row:
            return Message(rid, str(path), error=f"no column {text_column!r} (use --text-column)")
        text = row.get(text_column)
        if text is None or text != text or str(text).strip() == "":  # None, NaN or blank
            return Message(rid, str(path), error="empty text")
        text = str(text)
        if looks_binary(text):
            return Message(rid, str(path), error=BINARY)
        return Message(rid, str(path), text=text,
                       date=_opt(row.get("date")), sender=_opt(row.get("from")), subject=_opt(row.get("subject")))

    if fmt == "jsonl":
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for i, (line, size) in enumerate(_bounded_lines(fh)):
                if line is None:
                    yield too_large(f"{path}#{i}", str(path), size)
                    continue
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not a JSON object")
                except (ValueError, RecursionError) as exc:
                    yield Message(f"{path}#{i}", str(path), error=f"line {i + 1}: bad JSON ({exc})")
                    continue
                yield make(i, row)
    elif fmt == "csv":
        yield from _csv_rows(path, make)
    elif fmt == "parquet":
        import pyarrow.parquet as pq
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            yield Message(f"{path}#parquet", str(path), error=f"cannot read as Parquet: {exc}")
            return
        i = 0
        for batch in pf.iter_batches(batch_size=2000):
            for row in batch.to_pylist():
                yield make(i, row)
                i += 1


def _bounded_lines(fh) -> Iterator[tuple[str | None, int]]:
    """The lines of a text file with their sizes, read in pieces: a line longer than
    ``MAX_MESSAGE_BYTES`` (counted in characters) comes as ``None`` and is never held whole."""
    while piece := fh.readline(message.LINE_CHUNK):
        if piece.endswith("\n"):
            yield piece, len(piece)
            continue
        parts, size = [piece], len(piece)
        while not piece.endswith("\n") and (piece := fh.readline(message.LINE_CHUNK)):
            size += len(piece)
            if size <= message.MAX_MESSAGE_BYTES:
                parts.append(piece)
            else:
                parts = []
        yield ("".join(parts) if size <= message.MAX_MESSAGE_BYTES else None), size


def _csv_rows(path: Path, make) -> Iterator[Message]:
    """Stream CSV records; one with more or fewer fields than the header becomes an error row
    naming its line (never a row whose columns have shifted)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = _csv_reader(fh)
        i = 0
        try:
            header = next(reader, None)
            if not header:
                return
            header = [h.strip() for h in header]
            for lineno, record in csv_records(reader):
                if len(record) != len(header):
                    yield Message(f"{path}#{i}", str(path),
                                  error=f"line {lineno}: {len(record)} fields but the header has {len(header)} "
                                        "(a comma or quote out of place?)")
                else:
                    yield make(i, {k: (v if v != "" else None) for k, v in zip(header, record)})
                i += 1
        except csv.Error as exc:
            yield Message(f"{path}#{i}", str(path), error=f"line {reader.line_num}: cannot read as CSV ({exc})")


def csv_records(reader) -> Iterator[tuple[int, list[str]]]:
    """``(line where the record starts, fields)`` of each non-blank record after the header of a
    ``csv.reader``; a quoted field may span lines, so the start is tracked, not the current line."""
    start = reader.line_num + 1
    for record in reader:
        lineno, start = start, reader.line_num + 1
        if any(field.strip() for field in record):
            yield lineno, record


def _opt(value) -> str | None:
    return None if value is None or value != value or str(value) == "" else str(value)


def to_message(unit: RawMail | Message) -> Message:
    """Parse a unit from ``units`` (a ``Message`` passes through)."""
    if isinstance(unit, Message):
        return unit
    return parse_email(unit.raw, unit.id, unit.source)


def check_inputs(paths, fmt: str | None = None, text_column: str | None = None,
                 id_column: str | None = None) -> list[tuple[Path, str]]:
    """Each input with its format, or a ``NegclassError`` naming the first bad one (tables are
    checked too when ``text_column`` is given: see ``check_table``)."""
    out = []
    for p in map(Path, paths):
        if not p.exists():
            raise NegclassError(f"{p}: no such file or directory")
        kind = fmt or detect_format(p)
        if kind not in FORMATS:
            raise NegclassError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")
        if kind in {"mbox", "eml", "msg", "txt", "csv", "jsonl", "parquet"} and p.is_dir():
            raise NegclassError(f"{p}: is a folder, not a {kind} file")
        if kind == "msg":
            try:
                import extract_msg  # noqa: F401
            except ImportError:
                raise NegclassError(f"{p}: {MSG_EXTRA_HINT}") from None
        if kind in {"maildir", "emldir"} and not _has_mail(p, kind):
            raise NegclassError(f"no messages found in {p} (looked for mbox, maildir, .eml, .msg)")
        if text_column is not None and kind in {"csv", "jsonl", "parquet"}:
            check_table(p, kind, text_column, id_column)
        out.append((p, kind))
    return out


def units(paths, fmt: str | None = None, text_column: str = "text",
          id_column: str | None = None) -> Iterator[RawMail | Message]:
    """Stream the units of every input in turn (see the module docstring)."""
    for p, kind in check_inputs(paths, fmt, text_column, id_column):
        if kind in {"csv", "jsonl", "parquet"}:
            yield from _table_rows(p, kind, text_column, id_column)
        else:
            yield from {"mbox": mbox.units, "maildir": _units_maildir, "emldir": _units_emldir,
                        "eml": _units_eml, "msg": _units_msg, "txt": _read_txt}[kind](p)


def read(paths, fmt: str | None = None, text_column: str = "text", id_column: str | None = None) -> Iterator[Message]:
    """Stream messages from every input in turn."""
    for unit in units(paths, fmt, text_column, id_column):
        yield to_message(unit)


def read_texts(path: Path, ids, *, named: str | None = None) -> tuple[dict[str, str | None], str | None]:
    """The texts of the messages ``ids`` of one input, read again as ``read`` reads them.

    ``named`` is the name the input had when it was read before, if it is found under another
    path now: ids of the ``FILE#N`` kind carry that name. Returns the texts by id (``None`` for a
    message that could not be read) and, when the input holds exactly one readable message, its
    text (the id of a single .eml is its Message-ID, which the caller may not have)."""
    path = Path(path)
    named = str(path) if named is None else named
    wanted = set(ids)
    texts: dict[str, str | None] = {}
    first: list[Message] = []
    for msg in read([path]):
        if len(first) < 2:
            first.append(msg)
        key = msg.id if str(path) == named else msg.id.replace(str(path), named, 1)
        if key in wanted:
            texts[key] = msg.text if msg.error is None else None
    single = first[0].text if len(first) == 1 and first[0].error is None else None
    return texts, single
