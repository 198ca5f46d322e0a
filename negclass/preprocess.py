"""Clean a message down to what its author newly wrote: HTML to text, quoted replies,
forwarded chains and signatures removed (quoted-reply parsing by ``mail-parser-reply``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Lotus Notes / Outlook forward markers that the reply parser does not know.
_FORWARD = re.compile(
    r"^[ \t]*-{3,}[ \t]*(?:Forwarded by|Original Message|Forwarded message)[^\n]*$"
    r"|^[ \t]*Begin forwarded message:[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|span)\b", re.IGNORECASE)
_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "sv")


@dataclass(frozen=True)
class Cleaned:
    text: str            # the author's new text
    offset: int | None   # where ``text`` starts in the original, when it is a verbatim slice


@lru_cache(maxsize=1)
def _reply_parser():
    from mailparser_reply import EmailReplyParser

    return EmailReplyParser(languages=list(_LANGUAGES))


def html_to_text(html: str) -> str:
    import html2text

    conv = html2text.HTML2Text()
    conv.ignore_links = True
    conv.ignore_images = True
    conv.ignore_emphasis = True
    conv.body_width = 0
    return conv.handle(html)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:2000]))


def new_text(text: str) -> str:
    """The newest reply of a message: quoted history, forwards and signature cut off.

    A message that is only a forward (nothing written above it) keeps the forwarded text,
    since then that is what the sender is passing on.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    m = _FORWARD.search(text)
    if m and text[: m.start()].strip():
        text = text[: m.start()]
    try:
        replies = _reply_parser().read(text).replies
    except Exception:  # the parser is heuristic; never lose a message over it
        replies = []
    body = replies[0].body.strip() if replies else ""
    if not body:  # everything looked quoted or like a signature: keep the original
        body = text.strip()
    return body


def clean(text: str, html: bool | None = None) -> Cleaned:
    """Clean one message. ``html`` forces HTML handling; ``None`` sniffs it."""
    if text is None:
        return Cleaned("", None)
    original = text
    if html or (html is None and looks_like_html(text)):
        text = html_to_text(text)
    body = new_text(text)
    pos = original.find(body) if body else -1
    return Cleaned(body, pos if pos >= 0 else None)
