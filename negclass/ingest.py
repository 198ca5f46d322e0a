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

import email
import json
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from pathlib import Path
from typing import Iterator

from .errors import NegclassError

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


def _decode_part(part: MimeMessage) -> str:
    """Text of a MIME part, surviving unknown, missing or lying charsets.

    The declared charset is tried strictly first; then UTF-8, then cp1252 (what undeclared
    8-bit mail almost always is), then latin-1, which decodes any byte.
    """
    try:
        raw = part.get_payload(decode=True)
    except Exception:
        raw = None
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
    if not _is_mbox(path):
        yield Message(f"{path}#0", src, error="not an mbox file (it does not start with a 'From ' line)")
        return
    i = 0
    lines: list[bytes] = []
    prev_blank = True
    with open(path, "rb") as fh:
        for line in fh:
            if prev_blank and line.startswith(b"From ") and lines:
                yield _mbox_unit(lines, path, i)
                i += 1
                lines = []
            lines.append(line)
            prev_blank = line in (b"\n", b"\r\n")
    if lines:
        yield _mbox_unit(lines, path, i)


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
            raw = f.read_bytes()
        except OSError as exc:
            yield Message(f"{path}#{f.name}", str(path), error=f"cannot read: {exc.strerror}")
            continue
        yield RawMail(raw, f"{path}#{f.name.split(':', 1)[0]}", str(f))


def _units_eml(path: Path) -> Iterator[RawMail | Message]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield Message(str(path), str(path), error=f"cannot read: {exc.strerror}")
        return
    if b"\x00" in raw[:4096]:
        yield Message(str(path), str(path), error="binary file, not an email")
        return
    yield RawMail(raw, str(path), str(path))


def _units_emldir(path: Path) -> Iterator[RawMail | Message]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".eml", ".msg"})
    for f in files:
        if f.suffix.lower() == ".msg":
            yield from _units_msg(f, strict=False)
        else:
            yield from _units_eml(f)


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


def to_message(unit: RawMail | Message) -> Message:
    """Parse a unit from ``units`` (a ``Message`` passes through)."""
    if isinstance(unit, Message):
        return unit
    return parse_email(unit.raw, unit.id, unit.source)


def check_inputs(paths, fmt: str | None = None) -> list[tuple[Path, str]]:
    """Each input with its format, or a ``NegclassError`` naming the first bad one."""
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
        out.append((p, kind))
    return out


def units(paths, fmt: str | None = None, text_column: str = "text",
          id_column: str = "id") -> Iterator[RawMail | Message]:
    """Stream the units of every input in turn (see the module docstring)."""
    for p, kind in check_inputs(paths, fmt):
        if kind in {"csv", "jsonl", "parquet"}:
            yield from _table_rows(p, kind, text_column, id_column)
        else:
            yield from {"mbox": _units_mbox, "maildir": _units_maildir, "emldir": _units_emldir,
                        "eml": _units_eml, "msg": _units_msg, "txt": _read_txt}[kind](p)


def read(paths, fmt: str | None = None, text_column: str = "text", id_column: str = "id") -> Iterator[Message]:
    """Stream messages from every input in turn."""
    for unit in units(paths, fmt, text_column, id_column):
        yield to_message(unit)
