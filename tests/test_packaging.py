"""negclass as a user installs it: the shipped model is package data, and a built wheel runs
``classify``, ``score`` and ``serve`` with nothing from the repository."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sysconfig
import sys
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from negclass.model import store
from negclass.training import train
from tests.conftest import FIXTURES, ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def test_every_package_directory_is_listed_for_the_wheel():
    cfg = _setuptools_config()
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "negclass").rglob("__init__.py")}
    assert found <= set(cfg["packages"]), f"not in pyproject.toml [tool.setuptools] packages: {found - set(cfg['packages'])}"
    assert cfg["package-dir"]["negclass.models"] == "models"
    assert cfg["package-data"]["negclass.models"] == ["default/*"]


def test_the_shipped_model_is_found_where_the_source_tree_keeps_it():
    assert store.shipped_model_dir() == ROOT / "models" / "default"
    store.verify(store.shipped_model_dir())


class _Dist:
    def __init__(self, direct_url: dict | None):
        self.direct_url = direct_url

    def read_text(self, name):
        assert name == "direct_url.json"
        return None if self.direct_url is None else json.dumps(self.direct_url)


@pytest.mark.parametrize("direct_url, found", [
    ({"url": ROOT.as_uri(), "dir_info": {"editable": True}}, True),
    ({"url": ROOT.as_uri(), "dir_info": {}}, False),                           # pip install . : a copy
    ({"url": (ROOT / "dist" / "negclass.whl").as_uri(), "archive_info": {}}, False),
    ({"url": Path("/somewhere/else").as_uri(), "dir_info": {"editable": True}}, False),  # not this code
    (None, False)])                                                           # from an index
def test_the_corpus_is_found_only_in_the_checkout_the_code_runs_from(monkeypatch, direct_url, found):
    monkeypatch.setattr("importlib.metadata.distributions", lambda name=None: [_Dist(direct_url)])
    corpus = train.checkout()
    assert (corpus == train.Corpus(ROOT)) if found else corpus is None
    if found:
        assert corpus.files and corpus.split.is_file() and corpus.tune.is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                ".hypothesis", "runs")


@pytest.mark.slow
def test_a_built_wheel_classifies_scores_and_serves_outside_the_repository(tmp_path):
    # build from a copy of the source tree, so no build/ or egg-info of an earlier build is reused
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", wheels, src], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel, = wheels.glob("negclass-*.whl")
    # a fresh virtualenv of its own; the wheel's dependencies come from this environment through a
    # .pth line (a plain path: no editable install of this checkout is visible there), so no index is needed
    venv_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(venv_dir)
    bin_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dependencies.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    installed = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    model = site / "negclass" / "models" / "default"
    assert sorted(p.name for p in model.iterdir()) == sorted([store.PIPELINE, store.META, store.METRICS, store.CARD,
                                                              store.MANIFEST])

    work = tmp_path / "work"  # outside the repository
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEGCLASS_MODEL", "VIRTUAL_ENV")}
    env["NEGCLASS_HOME"] = str(tmp_path / "home")
    script = bin_dir / ("negclass.exe" if os.name == "nt" else "negclass")  # the installed console script

    def negclass(*args, timeout=180):
        return subprocess.run([script, *map(str, args)], cwd=work, env=env,
                              capture_output=True, text=True, timeout=timeout)

    where = subprocess.run([python, "-c", "import negclass, negclass.models as m, negclass.model.store as s; "
                            "print(negclass.__file__); print(m.__file__); print(s.shipped_model_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    package, models, shipped = map(Path, where.stdout.split())
    assert package == site / "negclass" / "__init__.py"
    assert models == site / "negclass" / "models" / "__init__.py" and shipped == model
    assert ROOT not in package.parents and ROOT not in shipped.parents

    out = negclass("classify", "--json", "We've got two other bidders lined up, so there's no need for a meeting.")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reason"] == "too_strong"

    messages = [json.loads(line) for line in (FIXTURES / "labelled.jsonl").read_text("utf-8").splitlines() if line]
    out = negclass("score", FIXTURES / "labelled.jsonl", "--out", work / "scored.jsonl", "--quiet")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in (work / "scored.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [m["id"] for m in messages]
    assert all(r["reason"] and r["model"] == "default" for r in rows)

    # training needs labelled data the wheel does not carry: a clear message, no traceback
    out = negclass("train")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "comes with a source checkout" in out.stderr and len(out.stderr.strip().splitlines()) == 1

    port = _free_port()
    server = subprocess.Popen([script, "serve", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        page = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    page = resp.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.5)
        assert page is not None, server.stderr.read() if server.poll() is not None else "no answer"
        assert "negclass" in page.lower() and "<html" in page.lower()
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
