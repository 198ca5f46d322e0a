"""The progress bar's total is counted without parsing, and equals what is then read."""
from __future__ import annotations

import io

import pytest

from negclass.batch import progress
from negclass.mail import ingest

from ..conftest import FIXTURES

MAIL = FIXTURES / "mail"


@pytest.mark.parametrize("name", ["box.mbox", "truncated.mbox", "thread.mbox", "maildir", "emltree", "table.jsonl",
                                  "table.parquet", "nasty", "clients"])
def test_count_equals_the_units_read(name):
    inputs = ingest.check_inputs([MAIL / name])
    assert progress.count_messages(inputs) == sum(1 for _ in ingest.units([MAIL / name]))


def test_count_is_none_where_not_cheap():
    assert progress.count_messages(ingest.check_inputs([MAIL / "table.csv"])) is None


def test_bar_shows_total_rate_and_time_left_in_plain_ascii_where_needed():
    class Latin1(io.StringIO):
        encoding = "latin-1"

    out = Latin1()
    with progress.bar(100, stream=out) as bar:
        bar.update(50)
    shown = out.getvalue()
    assert "50/100" in shown and "%" in shown and "msg/s" in shown and "<" in shown
    assert all(ord(c) < 128 for c in shown)
    quiet = io.StringIO()
    with progress.bar(100, stream=quiet, enabled=False) as bar:
        bar.update(50)
    assert quiet.getvalue() == ""


def test_bar_draws_on_a_terminal_that_reports_no_size():
    """A new pseudo-terminal reports 0 x 0 (as serial consoles and some CI runners do): tqdm alone
    draws nothing there."""
    import os
    import select
    import subprocess
    import sys

    master, slave = os.openpty()
    code = "from negclass.batch import progress\nwith progress.bar(10) as b:\n    b.update(10)\n"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    try:
        subprocess.run([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=env,
                       timeout=60, check=True)
        out = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(slave)
        os.close(master)
    assert b"10/10" in out and b"100%" in out, out
