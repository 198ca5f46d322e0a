"""The mbox scanner: the local reader, Spark's byte ranges and the progress count cut alike."""
from __future__ import annotations

import pytest

from negclass.mail import ingest, mbox

from ..conftest import FIXTURES

BOX = (b"".join(b"From a@b Mon Jan  1 00:00:00 2024\nSubject: %d\n\nhello\nFrom here on\n>From escaped\n\n" % i
                for i in range(40)) + b"From x\r\n\r\nFrom y\n")


def test_mbox_count_across_block_boundaries(tmp_path, monkeypatch):
    box = tmp_path / "b.mbox"
    box.write_bytes(BOX)
    expected = sum(1 for _ in ingest.units([box]))
    for block in (3, 7, 8, 9, 64, 1 << 20):
        monkeypatch.setattr(mbox, "_BLOCK", block)
        assert mbox.count(box) == expected, block


@pytest.mark.parametrize("name", ["box.mbox", "thread.mbox", "truncated.mbox"])
def test_byte_ranges_give_the_messages_of_the_whole_file(tmp_path, name):
    path = FIXTURES / "mail" / name
    if name == "box.mbox":
        path = tmp_path / name
        path.write_bytes(BOX)
    whole = [u.raw for u in mbox.units(path)]
    size = path.stat().st_size
    for step in (1, 17, 100, 4096, size + 1):
        starts = list(range(0, size, step))
        ranges = [(s, starts[k + 1] if k + 1 < len(starts) else size + 1) for k, s in enumerate(starts)]
        cut = [mbox.unit(lines, path, 0).raw for a, b in ranges for lines in mbox.range_messages(str(path), a, b)]
        assert cut == whole, step
