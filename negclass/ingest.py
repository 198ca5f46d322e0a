"""Read messages from mailbox exports and tables: one ``Message`` per message, streamed.

Formats: mbox, maildir, a folder tree of .eml, single .eml, .txt, CSV, JSONL and Parquet.
MIME is handled by the standard library's ``email`` package (``policy.default``). A message
that cannot be read becomes a ``Message`` with ``error`` set, never an exception.
"""
from __future__ import annotations

import email
import json
import mailbox
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

from .errors import NegclassError

FORMATS = ("mbox", "maildir", "emldir", "eml", "txt", "csv", "jsonl", "parquet")
_SUFFIX = {".mbox": "mbox", ".mbx": "mbox", ".eml": "eml", ".txt": "txt", ".csv": "csv",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class Message:
    id: str
    source: str
    text: str | None = None
    html: bool = False
    date: str | None = None
    sender: str | None = None
    subject: str | None = None
    error: str | None = None


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
    first = head.split(b"\n", 1)[0]
    if b":" in first and not first.startswith((b"{", b"[")) and b"," not in first.split(b":")[0]:
        return "eml"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    raise NegclassError(f"{path}: cannot tell its format; pass --format ({', '.join(FORMATS)})")


def _decode_part(part: EmailMessage) -> str:
    """Text of a MIME part, surviving unknown or lying charsets."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        raw = part.get_payload(decode=True) or b""
        for enc in (part.get_content_charset() or "utf-8", "utf-8", "cp1252"):
            try:
                return raw.decode(enc)
            except (LookupError, UnicodeError):
                continue
        return raw.decode("latin-1")


def parse_email(raw: bytes, msg_id: str, source: str) -> Message:
    """One RFC 822 message -> ``Message`` with its best text body (plain preferred to HTML)."""
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient; this is a last resort
        return Message(msg_id, source, error=f"unreadable message: {exc}")
    out = Message(msg_id, source)
    try:
        out.id = str(msg.get("Message-ID") or "").strip() or msg_id
        out.date = _header(msg, "Date")
        out.sender = _header(msg, "From")
        out.subject = _header(msg, "Subject")
    except Exception as exc:
        out.error = f"bad header: {exc}"
    if not msg.keys() and not raw.strip():
        out.error = "empty message"
        return out
    try:
        body = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        body = None
    if body is None:
        if msg.get_content_maintype() in {"multipart", "text"} or not msg.keys():
            out.error = out.error or "no text body"
        else:
            out.error = out.error or f"no text body (only {msg.get_content_type()})"
        return out
    out.text = _decode_part(body)
    out.html = body.get_content_subtype() == "html"
    return out


def _header(msg, name: str) -> str | None:
    value = msg.get(name)
    return None if value is None else str(value)


def _read_mbox(path: Path) -> Iterator[Message]:
    with open(path, "rb") as fh:
        if not fh.read(5).startswith(b"From "):
            yield Message(f"{path}#0", str(path), error="not an mbox file (it does not start with a 'From ' line)")
            return
    box = mailbox.mbox(str(path), create=False)
    try:
        for i, key in enumerate(box.iterkeys()):
            try:
                raw = box.get_bytes(key)
            except Exception as exc:
                yield Message(f"{path}#{i}", str(path), error=f"unreadable message: {exc}")
                continue
            yield parse_email(raw, f"{path}#{i}", str(path))
    finally:
        box.close()


def _read_maildir(path: Path) -> Iterator[Message]:
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for i, key in enumerate(sorted(box.iterkeys())):
        try:
            raw = box.get_bytes(key)
        except Exception as exc:
            yield Message(f"{path}#{key}", str(path), error=f"unreadable message: {exc}")
            continue
        yield parse_email(raw, f"{path}#{key}", str(path))


def _read_eml(path: Path) -> Iterator[Message]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield Message(str(path), str(path), error=f"cannot read: {exc.strerror}")
        return
    if b"\x00" in raw[:4096]:
        yield Message(str(path), str(path), error="binary file, not an email")
        return
    yield parse_email(raw, str(path), str(path))


def _read_emldir(path: Path) -> Iterator[Message]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".eml")
    for f in files:
        yield from _read_eml(f)


def _read_txt(path: Path) -> Iterator[Message]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    yield Message(str(path), str(path), text=text)


def _table_rows(path: Path, fmt: str, text_column: str, id_column: str) -> Iterator[Message]:
    def make(i: int, row: dict) -> Message:
        rid = row.get(id_column)
        rid = f"{path}#{i}" if rid is None or str(rid).strip() == "" or rid != rid else str(rid)
        if text_column not in row:
            return Message(rid, str(path), error=f"no column {text_column!r} (use --text-column)")
        text = row.get(text_column)
        if text is None or text != text:  # None or NaN
            return Message(rid, str(path), error="empty text")
        return Message(rid, str(path), text=str(text),
                       date=_opt(row.get("date")), sender=_opt(row.get("from")), subject=_opt(row.get("subject")))

    if fmt == "jsonl":
        with open(path, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:
                    yield Message(f"{path}#{i}", str(path), error=f"line {i + 1}: bad JSON ({exc})")
                    continue
                yield make(i, row)
    elif fmt == "csv":
        import pandas as pd
        try:
            chunks = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=2000,
                                 encoding="utf-8", encoding_errors="replace")
            i = 0
            for chunk in chunks:
                for row in chunk.to_dict("records"):
                    yield make(i, {k: (v if v != "" else None) for k, v in row.items()})
                    i += 1
        except Exception as exc:
            yield Message(f"{path}#csv", str(path), error=f"cannot read as CSV: {exc}")
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


def _opt(value) -> str | None:
    return None if value is None or value != value or str(value) == "" else str(value)


def read(paths, fmt: str | None = None, text_column: str = "text", id_column: str = "id") -> Iterator[Message]:
    """Stream messages from every input in turn."""
    for p in map(Path, paths):
        if not p.exists():
            raise NegclassError(f"{p}: no such file or directory")
        kind = fmt or detect_format(p)
        if kind not in FORMATS:
            raise NegclassError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")
        if kind in {"csv", "jsonl", "parquet"}:
            yield from _table_rows(p, kind, text_column, id_column)
        else:
            yield from {"mbox": _read_mbox, "maildir": _read_maildir, "emldir": _read_emldir,
                        "eml": _read_eml, "txt": _read_txt}[kind](p)
