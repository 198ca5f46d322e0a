"""The mbox format: where one message ends and the next begins, read as a stream.

A message starts at a "From " line that opens the file or follows a blank line, so an unescaped
"From " inside a paragraph does not split one. ``units`` streams a whole file for ``ingest``;
``range_messages`` reads the messages that start in one byte range, so that Spark can read one
large file in parallel (``apps.spark.read_mbox``); ``count`` counts the messages without parsing
them, for the progress bar. All three cut where the others do.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from . import message
from .message import EMPTY_FILE, Message, RawMail, too_large

NOT_MBOX = "not an mbox file (it does not start with a 'From ' line)"
_ESCAPED_FROM = re.compile(rb">+From ")


def is_mbox(path: Path) -> bool:
    """Whether the file starts as an mbox does, with a "From " line."""
    with open(path, "rb") as fh:
        return fh.read(5) == b"From "


def units(path: Path) -> Iterator[RawMail | Message]:
    """Stream an mbox one message at a time: a new message starts at a "From " line that opens
    the file or follows a blank line (so an unescaped "From " inside a paragraph does not split)."""
    src = str(path)
    if path.stat().st_size == 0:
        yield Message(f"{path}#0", src, error=EMPTY_FILE)
        return
    if not is_mbox(path):
        yield Message(f"{path}#0", src, error=NOT_MBOX)
        return
    i = 0
    lines: list[bytes] = []
    size = 0
    prev_blank = at_start = True
    limit, chunk = message.MAX_MESSAGE_BYTES, message.LINE_CHUNK
    with open(path, "rb") as fh:
        # pieces of at most LINE_CHUNK bytes: a huge line (or file without line breaks) is never read whole
        while piece := fh.readline(chunk):
            if at_start and prev_blank and piece.startswith(b"From ") and size:
                yield unit(lines, path, i) if lines else too_large(f"{path}#{i}", str(path), size)
                i += 1
                lines, size = [], 0
            size += len(piece)
            if size > limit:
                lines = []  # too large: counted on to the next separator, not kept
            else:
                lines.append(piece)
            at_start = piece.endswith(b"\n")
            prev_blank = piece in (b"\n", b"\r\n")
    if size:
        yield unit(lines, path, i) if lines else too_large(f"{path}#{i}", str(path), size)


def unit(lines: list[bytes], path: Path, i: int) -> RawMail:
    """The ``i``-th message of the mbox ``path`` from its lines, the "From " separator line first."""
    body = lines[1:]  # drop the "From " separator line
    if body and body[-1] in (b"\n", b"\r\n"):
        body = body[:-1]  # the blank line before the next separator belongs to the format
    # undo the mbox ">From " escaping of body lines (mboxrd rule: one '>' less)
    body = [line[1:] if line.startswith(b">") and _ESCAPED_FROM.match(line) else line for line in body]
    return RawMail(b"".join(body), f"{path}#{i}", str(path))


def _prev_line_blank(fh, pos: int) -> bool:
    """Whether the line before offset ``pos`` (a line start) is empty."""
    if pos == 0:
        return True
    fh.seek(max(0, pos - 3))
    tail = fh.read(pos - max(0, pos - 3))
    return tail.endswith(b"\n\n") or tail.endswith(b"\n\r\n") or tail in (b"\n", b"\r\n")


def range_messages(path: str, start: int, end: int) -> Iterator[list[bytes]]:
    """The messages whose ``From `` separator line starts in ``[start, end)``, as lists of lines
    (``unit`` makes each a ``RawMail``). Lines are read whole: no size limit applies here."""
    with open(path, "rb") as fh:
        if start > 0:
            fh.seek(start - 1)
            fh.readline()  # to the first line start at or after ``start``
        pos = fh.tell()
        prev_blank = _prev_line_blank(fh, pos)
        fh.seek(pos)
        lines: list[bytes] | None = None
        for line in fh:
            boundary = prev_blank and line.startswith(b"From ")
            if boundary:
                if lines:
                    yield lines
                if pos >= end:
                    return
                lines = []
            if lines is not None:
                lines.append(line)
            prev_blank = line in (b"\n", b"\r\n")
            pos += len(line)
        if lines:
            yield lines


_BLOCK = 8 << 20


def count(path: Path) -> int:
    """How many messages ``units`` cuts an mbox into, counted in blocks without parsing."""
    seps = (b"\n\nFrom ", b"\n\r\nFrom ")
    with open(path, "rb") as fh:
        n = int(fh.read(5) == b"From ")
        fh.seek(0)
        tail = b""
        while block := fh.read(_BLOCK):
            data = tail + block
            # the last 7 bytes are read again with the next block: a separator across the boundary is
            # found there; one lying wholly inside them is counted now and not again
            tail = data[-7:]
            n += sum(data.count(s) for s in seps) - sum(tail.count(s) for s in seps)
    return n
