"""files: atomic writes and the modes the umask asks for."""
from __future__ import annotations

import os
import stat

import pytest

from negclass import files


@pytest.fixture
def umask():
    """Set a umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_current_umask_reads_the_mask_without_changing_it(umask, mask):
    umask(mask)
    assert files.current_umask() == mask
    assert os.umask(mask) == mask       # still the same afterwards


def test_a_folder_and_everything_in_it_get_the_mode_of_a_plain_mkdir_and_open(tmp_path, umask):
    umask(0o027)
    top = tmp_path / "model"
    (top / "inner").mkdir(parents=True)
    for p in (top, top / "inner"):
        p.chmod(0o700)
    (top / "a.bin").write_bytes(b"1")
    (top / "inner" / "b.txt").write_text("2")
    for p in (top / "a.bin", top / "inner" / "b.txt"):
        p.chmod(0o600)
    files.follow_umask(top, directory=True)
    modes = {p.relative_to(top).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [top, *top.rglob("*")]}
    assert modes == {".": 0o750, "inner": 0o750, "a.bin": 0o640, "inner/b.txt": 0o640}
    files.follow_umask(top / "a.bin")
    assert stat.S_IMODE((top / "a.bin").stat().st_mode) == 0o640


def test_atomic_write_text_creates_folders_replaces_and_writes_utf8(tmp_path):
    path = tmp_path / "new" / "deeper" / "page.html"
    files.atomic_write_text(path, "first")
    files.atomic_write_text(path, "second: déjà vu ✓")
    assert path.read_bytes() == "second: déjà vu ✓".encode("utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]


def test_a_failed_atomic_write_keeps_the_old_content_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_text(path, "new content that never lands")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
