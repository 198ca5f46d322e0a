"""The scored file: its columns and their types, and the row of one message.

One place for what ``negclass score`` writes, read by the writers (``output``), the web API, the
Spark schema and ``suggest``. The prediction columns follow the taxonomy; the reading columns
(date in UTC, thread, counterparty, snippet, evidence, tactic titles, model) come after them, so
the older columns keep their places.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ..mail.message import Message
from ..model import taxonomy
from ..model.predict import Classification

MESSAGE_COLUMNS = ["id", "source", "date", "from", "subject", "text_chars"]
# added after the prediction columns, so the older columns keep their places
READING_COLUMNS = ["date_utc", "thread", "counterparty", "snippet", "evidence", "tactic_titles", "model"]
TEXT_COLUMN = "text"   # the whole classified text, with ``include_text``
NO_NEW_TEXT = "no new text (empty, or only quoted or forwarded text, signature or attachments)"
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
