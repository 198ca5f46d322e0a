"""The subpackages import only downwards: apps > training > batch > model > mail > errors, files
(the import-linter contract in pyproject.toml, checked here so that every test run checks it)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    if not LINT.exists():
        pytest.fail(f"{LINT} is missing: pip install -e '.[test]' installs import-linter")
    env = None if pythonpath is None else {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([str(LINT), "--no-cache", "--no-logo"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_layers_contract_is_kept():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_an_import_upwards_breaks_the_contract(tmp_path):
    # a copy of the package in which reading mail imports the command line
    shutil.copytree(ROOT / "negclass", tmp_path / "negclass",
                    ignore=shutil.ignore_patterns("__pycache__", "data", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    ingest = tmp_path / "negclass" / "mail" / "ingest.py"
    ingest.write_text(ingest.read_text("utf-8") + "\n\ndef _upwards():\n    from ..apps import cli  # noqa: F401\n",
                      "utf-8")
    run = _lint(tmp_path, pythonpath=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout and "negclass.mail.ingest -> negclass.apps.cli" in run.stdout
