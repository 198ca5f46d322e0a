"""One message as negclass reads it, and the limits every reader applies."""
from __future__ import annotations

from dataclasses import dataclass

EMPTY_FILE = "the file is empty"
MAX_MESSAGE_BYTES = 50 << 20  # a larger single message becomes an error row (never held in memory whole)
LINE_CHUNK = 1 << 20          # long lines are read in pieces of at most this many bytes


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


def too_large(mid: str, source: str, size: int) -> Message:
    return Message(mid, source, error=f"message too large ({size / (1 << 20):.0f} MB; the limit is "
                                         f"{MAX_MESSAGE_BYTES >> 20} MB)")
