"""Read messages from mailbox exports and tables: one ``Message`` per message, streamed.

Formats: mbox (streamed, any size), maildir, a folder tree of .eml/.msg, single .eml, Outlook
.msg (optional extra ``negclass[msg]``), .txt, CSV, JSONL and Parquet. MIME is handled by the
standard library's ``email`` package (``policy.compat32``, see ``parse_email``). A message that
cannot be read becomes a ``Message`` with ``error`` set, never an exception.

Reading happens in two steps so that parsing can run in worker processes: ``units`` streams
cheap, picklable units (``RawMail`` with the raw bytes of one message, or an already built
``Message`` for table rows and unreadable inputs), and ``to_message`` turns a unit into a
``Message``. ``read`` chains both.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import csv
import email
import json
import re
import sys
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from pathlib import Path
from typing import Iterator

from ..errors import DataError, NegclassError

BINARY = "binary content, not text"
EMPTY_FILE = "the file is empty"
MAX_MESSAGE_BYTES = 50 << 20  # a larger single message becomes an error row (never held in memory whole)
_LINE_CHUNK = 1 << 20         # mbox lines are read in pieces of at most this many bytes
ID_COLUMNS = ("id", "message_id", "msg_id", "message-id", "messageid")  # tried in order, case ignored
FORMATS = ("mbox", "maildir", "emldir", "eml", "msg", "txt", "csv", "jsonl", "parquet")
MSG_EXTRA_HINT = "reading Outlook .msg files needs the optional extra: pip install 'negclass[msg]'"
_SUFFIX = {".mbox": "mbox", ".mbx": "mbox", ".eml": "eml", ".msg": "msg", ".txt": "txt", ".csv": "csv",
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
    thread_ref: str | None = None   # the thread's root: first Message-ID in References, else In-Reply-To

    @property
    def address(self) -> str | None:
        """The sender's e-mail address, lower-cased (None when there is none)."""
        if not self.sender:
            return None
        from email.utils import parseaddr

        addr = parseaddr(self.sender)[1] or (self.sender if "@" in self.sender else "")
        return addr.strip().strip("<>").lower() or None


@dataclass
class RawMail:
    """The raw bytes of one RFC 822 message, not parsed yet."""

    raw: bytes
    id: str
    source: str


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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_BINARY_SAMPLE = 16384
_BINARY_SHARE = 0.05  # more control characters than this in the sample: not text


def looks_binary(data: bytes | str) -> bool:
    """The one rule for "binary content, not text", used by every reader, ``classify`` and the web page.

    True when the start of ``data`` holds a NUL, or more than 5% control characters (other than
    tab, line feed, form feed and carriage return; for text also C1 controls and U+FFFD, which is
    what undecodable bytes become). Text in any language, in any charset, stays well under that.
    """
    sample = data[:_BINARY_SAMPLE]
    if not sample:
        return False
    if isinstance(sample, bytes):
        if b"\x00" in sample:
            return True
        control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13)) + sample.count(b"\x7f")
    else:
        if "\x00" in sample:
            return True
        control = len(_CONTROL.findall(sample))
    return control / len(sample) > _BINARY_SHARE


_LATIN_ALPHABETS = ("Basic Latin", "Latin", "General Punctuation", "Currency Symbols", "Letterlike Symbols",
                    "Spacing Modifier Letters", "Control character")


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(raw: bytes) -> tuple[str, str]:
    """Bytes of undeclared text -> ``(text, encoding)``; never fails.

    A byte-order mark says UTF-8, UTF-16 or UTF-32 (Notepad's "Unicode"); then UTF-8. Otherwise 8-bit text is almost always cp1252
    (Windows, Excel, old mail), which ``charset_normalizer`` tends to mislabel on short texts, so
    its guess is used only when it finds a non-Latin script (Cyrillic, Greek, CJK ...). Then
    cp1252, then latin-1, which decodes any byte.
    """
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(enc), enc
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:1 << 20]).best()
    except Exception:
        best = None
    if best is not None and not all(a.startswith(_LATIN_ALPHABETS) for a in best.alphabets):
        try:
            return raw.decode(best.encoding), best.encoding
        except (LookupError, UnicodeError):
            pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_text_bytes(raw: bytes) -> tuple[str | None, str | None]:
    """Undeclared text (a .txt file, standard input) -> ``(text, None)``, or ``(None, BINARY)``."""
    if looks_binary(raw) and not raw.startswith(tuple(bom for bom, _ in _BOMS)):
        return None, BINARY
    text = decode_text(raw)[0]
    return (None, BINARY) if looks_binary(text) else (text, None)


def not_utf8(byte: int, offset: int, reason: str) -> str:
    """The message for a table that is not UTF-8: ``score`` and ``train`` refuse it alike."""
    return (f"not UTF-8 text ({reason}, byte 0x{byte:02x} at offset {offset}); "
            "save the file as UTF-8 (in Excel: 'CSV UTF-8')")


def _decode_part(part: MimeMessage) -> str:
    """Text of a MIME part, surviving unknown, missing or lying charsets.

    The declared charset is tried strictly first; then UTF-8, then cp1252 (what undeclared
    8-bit mail almost always is), then latin-1, which decodes any byte.
    """
    try:
        raw = part.get_payload(decode=True)
    except Exception:
        raw = None
    if raw is not None and str(part.get("content-transfer-encoding", "")).strip().lower() == "base64":
        raw = _lenient_base64(part, raw)
    if raw is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    declared = part.get_content_charset()
    for enc in (declared, "utf-8", "cp1252"):
        if not enc:
            continue
        try:
            return raw.decode(enc)
        except (LookupError, UnicodeError):
            continue
    return raw.decode("latin-1")


_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def _lenient_base64(part: MimeMessage, decoded: bytes) -> bytes:
    """The standard library returns a base64 body it cannot decode as the base64 text itself;
    decode it again ignoring stray characters and broken padding instead."""
    payload = part.get_payload(decode=False)
    if not isinstance(payload, str):
        return decoded
    data = payload.encode("ascii", errors="ignore")
    if decoded != data and decoded.strip() != data.strip():
        return decoded  # it was decoded
    data = _NOT_BASE64.sub(b"", data)
    data = data[:len(data) - len(data) % 4] if len(data) % 4 == 1 else data + b"=" * (-len(data) % 4)
    try:
        return base64.b64decode(data)
    except (ValueError, binascii.Error):
        return decoded


def _find_body(root: MimeMessage, part: MimeMessage, preferencelist: tuple[str, ...]):
    """The search of ``EmailMessage.get_body``, on a message parsed with ``policy.compat32``.

    The same depth-first walk as the standard library's (attachments skipped; for
    multipart/related only the root part, found by its ``start`` parameter or else the first
    part), reading headers as plain strings instead of ``policy.default``'s structured header
    objects, which cost several times the rest of parsing.
    """
    if part.get_content_disposition() == "attachment":
        return
    maintype, subtype = part.get_content_type().split("/")
    if maintype == "text":
        if subtype in preferencelist:
            yield preferencelist.index(subtype), part
        return
    if maintype != "multipart" or not root.is_multipart():
        return
    subparts = part.get_payload() if part.is_multipart() else []
    if subtype != "related":
        for sub in subparts:
            yield from _find_body(root, sub, preferencelist)
        return
    candidate = None
    start = part.get_param("start")
    if start:
        candidate = next((sub for sub in subparts if sub["content-id"] == start), None)
    if candidate is None and subparts:
        candidate = subparts[0]
    if candidate is not None:
        yield from _find_body(root, candidate, preferencelist)


def _get_body(msg: MimeMessage, preferencelist: tuple[str, ...] = ("plain", "html")):
    best, body = len(preferencelist), None
    for prio, part in _find_body(msg, msg, preferencelist):
        if prio < best:
            best, body = prio, part
            if prio == 0:
                break
    return body


def parse_email(raw: bytes, msg_id: str, source: str) -> Message:
    """One RFC 822 message -> ``Message`` with its best text body (plain preferred to HTML).

    The body is the one ``EmailMessage.get_body(("plain", "html"))`` picks; the message is
    parsed with ``policy.compat32``, which keeps header values as strings (see ``_find_body``).
    """
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:  # the parser is lenient; this is a last resort
        return Message(msg_id, source, error=f"unreadable message: {exc}")
    out = Message(msg_id, source)
    try:
        out.id = _header(msg, "Message-ID") or msg_id
        out.date = _header(msg, "Date")
        out.sender = _header(msg, "From")
        out.subject = _header(msg, "Subject")
        out.thread_ref = _thread_ref(_header(msg, "References"), _header(msg, "In-Reply-To"))
    except Exception as exc:
        out.error = f"bad header: {exc}"
    if not msg.keys() and not raw.strip():
        out.error = "empty message"
        return out
    try:
        body = _get_body(msg)
    except Exception:
        body = None
    if body is None:
        if msg.get_content_maintype() in {"multipart", "text"} or not msg.keys():
            out.error = out.error or "no text body"
        else:
            out.error = out.error or f"no text body (only {msg.get_content_type()})"
        return out
    try:
        out.text = _decode_part(body)
    except Exception as exc:
        out.error = out.error or f"undecodable body: {exc}"
        return out
    if looks_binary(out.text):
        out.text, out.error = None, out.error or BINARY
        return out
    out.html = body.get_content_subtype() == "html"
    return out


def _header(msg, name: str) -> str | None:
    """A header's decoded text, unfolded, with RFC 2047 encoded words decoded."""
    lname = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == lname), None)
    if value is None:
        return None
    value = str(value)
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except Exception:
            pass
    return " ".join(value.split()) or None


_MSGID = re.compile(r"<[^<>\s]+>")


def _thread_ref(references: str | None, in_reply_to: str | None) -> str | None:
    """The Message-ID a reply chain starts from: the first in References, else In-Reply-To's."""
    for value in (references, in_reply_to):
        found = _MSGID.search(value or "")
        if found:
            return found.group(0)
        if value and value.strip() and " " not in value.strip():
            return value.strip()
    return None


_ESCAPED_FROM = re.compile(rb">+From ")


def _is_mbox(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"From "


def _units_mbox(path: Path) -> Iterator[RawMail | Message]:
    """Stream an mbox one message at a time: a new message starts at a "From " line that opens
    the file or follows a blank line (so an unescaped "From " inside a paragraph does not split)."""
    src = str(path)
    if path.stat().st_size == 0:
        yield Message(f"{path}#0", src, error=EMPTY_FILE)
        return
    if not _is_mbox(path):
        yield Message(f"{path}#0", src, error="not an mbox file (it does not start with a 'From ' line)")
        return
    i = 0
    lines: list[bytes] = []
    size = 0
    prev_blank = at_start = True
    with open(path, "rb") as fh:
        # pieces of at most _LINE_CHUNK bytes: a huge line (or file without line breaks) is never read whole
        while piece := fh.readline(_LINE_CHUNK):
            if at_start and prev_blank and piece.startswith(b"From ") and size:
                yield _mbox_unit(lines, path, i) if lines else _too_large(f"{path}#{i}", str(path), size)
                i += 1
                lines, size = [], 0
            size += len(piece)
            if size > MAX_MESSAGE_BYTES:
                lines = []  # too large: counted on to the next separator, not kept
            else:
                lines.append(piece)
            at_start = piece.endswith(b"\n")
            prev_blank = piece in (b"\n", b"\r\n")
    if size:
        yield _mbox_unit(lines, path, i) if lines else _too_large(f"{path}#{i}", str(path), size)


def _too_large(mid: str, source: str, size: int) -> Message:
    return Message(mid, source, error=f"message too large ({size / (1 << 20):.0f} MB; the limit is "
                                         f"{MAX_MESSAGE_BYTES >> 20} MB)")


def _mbox_unit(lines: list[bytes], path: Path, i: int) -> RawMail:
    body = lines[1:]  # drop the "From " separator line
    if body and body[-1] in (b"\n", b"\r\n"):
        body = body[:-1]  # the blank line before the next separator belongs to the format
    # undo the mbox ">From " escaping of body lines (mboxrd rule: one '>' less)
    body = [line[1:] if line.startswith(b">") and _ESCAPED_FROM.match(line) else line for line in body]
    return RawMail(b"".join(body), f"{path}#{i}", str(path))


def _units_maildir(path: Path) -> Iterator[RawMail | Message]:
    files = []
    for sub in ("cur", "new"):
        d = path / sub
        if d.is_dir():
            files += [f for f in d.iterdir() if f.is_file() and not f.name.startswith(".")]
    for f in sorted(files, key=lambda f: (f.name.split(":", 1)[0], f.parent.name)):
        try:
            if f.stat().st_size > MAX_MESSAGE_BYTES:
                yield _too_large(f"{path}#{f.name.split(':', 1)[0]}", str(f), f.stat().st_size)
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
        if size > MAX_MESSAGE_BYTES:
            return _too_large(str(path), str(path), size)
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
            yield from _units_mbox(f)
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
    """Raise a ``DataError`` naming the line when a table is not UTF-8 (read in pieces, any size)."""
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
                raise DataError(path, lines + data[:exc.start].count(b"\n"),
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
            raise NegclassError(f"{path}: {EMPTY_FILE}")
        check_utf8(path)
    columns = table_columns(path, fmt)
    if columns is None:
        return id_column
    shown = ", ".join(repr(c) for c in columns) or "none"
    if text_column not in columns:
        raise NegclassError(f"{path}: no column {text_column!r}; the columns are {shown} "
                            "(name the one holding the messages with --text-column)")
    if id_column and id_column not in columns:
        raise NegclassError(f"{path}: no column {id_column!r} for --id-column; the columns are {shown}")
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
                    yield _too_large(f"{path}#{i}", str(path), size)
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
    while piece := fh.readline(_LINE_CHUNK):
        if piece.endswith("\n"):
            yield piece, len(piece)
            continue
        parts, size = [piece], len(piece)
        while not piece.endswith("\n") and (piece := fh.readline(_LINE_CHUNK)):
            size += len(piece)
            if size <= MAX_MESSAGE_BYTES:
                parts.append(piece)
            else:
                parts = []
        yield ("".join(parts) if size <= MAX_MESSAGE_BYTES else None), size


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
            yield from {"mbox": _units_mbox, "maildir": _units_maildir, "emldir": _units_emldir,
                        "eml": _units_eml, "msg": _units_msg, "txt": _read_txt}[kind](p)


def read(paths, fmt: str | None = None, text_column: str = "text", id_column: str | None = None) -> Iterator[Message]:
    """Stream messages from every input in turn."""
    for unit in units(paths, fmt, text_column, id_column):
        yield to_message(unit)
