"""RFC 822 and MIME: one raw message -> ``Message`` with its best text body, and the rules for
undeclared text (charset detection, binary content) that every reader shares.

MIME is handled by the standard library's ``email`` package, parsed with ``policy.compat32``
(see ``parse_email``).
"""
from __future__ import annotations

import base64
import binascii
import codecs
import email
import re
from email import policy
from email.header import decode_header, make_header
from email.message import Message as MimeMessage

from .message import Message

BINARY = "binary content, not text"

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
