"""The progress bar of long runs: a total counted up front where that is cheap, rate and time left.

``count_messages`` counts what ``ingest.units`` will yield without parsing anything (mbox
separators, maildir and folder files, JSON lines, Parquet row counts) and gives ``None`` when
that is not cheap (CSV, whose quoted fields may span lines), so the bar shows a plain count.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..mail import mbox

def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            n += bool(line.strip())
    return n


def count_messages(inputs: list[tuple[Path, str]]) -> int | None:
    """How many units ``ingest.units`` yields for checked inputs, or ``None`` when not cheap to know."""
    total = 0
    for path, kind in inputs:
        path = Path(path)
        try:
            if kind == "mbox":
                total += max(mbox.count(path), 1)
            elif kind == "maildir":
                total += sum(1 for sub in ("cur", "new") if (path / sub).is_dir()
                             for f in (path / sub).iterdir() if f.is_file() and not f.name.startswith("."))
            elif kind == "emldir":
                total += sum(1 for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".eml", ".msg"})
            elif kind in {"eml", "msg", "txt"}:
                total += 1
            elif kind == "jsonl":
                total += _count_lines(path)
            elif kind == "parquet":
                import pyarrow.parquet as pq
                total += pq.ParquetFile(path).metadata.num_rows
            else:
                return None
        except Exception:  # counting is a nicety: a file the reader will complain about is not our business
            return None
    return total


def _size(stream) -> tuple[int, int] | None:
    """``None`` when the terminal reports its size (tqdm then follows resizes), else the columns
    and lines to use: $COLUMNS/$LINES or 80 x 24."""
    import os
    import shutil

    try:
        size = os.get_terminal_size(stream.fileno())
        if size.columns > 0 and size.lines > 0:
            return None
    except (AttributeError, OSError, ValueError):
        pass
    fallback = shutil.get_terminal_size((80, 24))
    return fallback.columns or 80, fallback.lines or 24


def bar(total: int | None, initial: int = 0, enabled: bool = True, stream=None):
    """A tqdm bar on ``stream`` (standard error): count/total, percentage, rate and time left.

    Plain ASCII unless the stream takes UTF-8, so it draws on any terminal; drawn at once (not
    only after the first chunk comes back from the workers)."""
    from tqdm import tqdm

    stream = stream or sys.stderr
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    # a terminal that reports no size (0 x 0: serial consoles, some IDEs and CI runners) makes tqdm
    # draw nothing at all; give it a size instead
    size = _size(stream)
    bar = tqdm(total=total, initial=initial, disable=not enabled, unit="msg", file=stream,
               ascii=encoding != "utf8", dynamic_ncols=size is None, ncols=size and size[0], nrows=size and size[1],
               mininterval=0.5, smoothing=0.1)
    if enabled:
        bar.refresh()
    return bar
