"""Model directories on disk: atomic writes, a SHA-256 manifest checked before unpickling.

A model directory holds ``pipeline.joblib`` (the fitted scikit-learn ``Pipeline``),
``meta.json`` (labels, thresholds, versions, data fingerprint), ``metrics.json``,
``MODEL_CARD.md`` and ``manifest.json`` with the SHA-256 of every other file.

Unpickling can run code, so ``load`` refuses any directory whose files do not match their
manifest. The manifest guards against corruption and tampering by someone who cannot also
rewrite the manifest; only load model directories from sources you trust.
Which directory is the default is decided in ``registry`` (``registry.default_model_dir``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import ModelError
from ..files import atomic_write_text, follow_umask  # noqa: F401  (atomic_write_text: used here and by callers)

PIPELINE = "pipeline.joblib"
META = "meta.json"
METRICS = "metrics.json"
CARD = "MODEL_CARD.md"
MANIFEST = "manifest.json"
FORMAT = 2  # 2: the pipeline is the whole model (cleaning, windows, decision; see negclass.model.pipeline)


def shipped_model_dir() -> Path:
    """The default model that comes with negclass: ``default/`` in the ``negclass.models`` package
    data, which is the repository's ``models/default`` (``pyproject.toml`` maps the package there),
    so it is found the same way in a source checkout and in an installed wheel."""
    from importlib import resources

    try:
        found = resources.files("negclass.models").joinpath("default")
    except ModuleNotFoundError:  # negclass imported from a source tree that was never installed
        raise ModelError("the shipped model (package negclass.models) is not installed: install negclass "
                         "(pip install -e . in a checkout), or give a model directory with --model") from None
    if not isinstance(found, Path):  # e.g. imported from a zip file: a model directory must be on disk
        raise ModelError(f"the shipped model is not a directory on disk ({found}); install negclass "
                         "into a directory, or give a model directory with --model")
    return found


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save(out_dir: Path, pipeline, meta: dict, metrics: dict, card: str) -> Path:
    """Write a complete model directory, replacing ``out_dir`` only once everything is written."""
    import joblib

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        joblib.dump(pipeline, tmp / PIPELINE, compress=3)
        (tmp / META).write_text(json.dumps({"format": FORMAT, **meta}, indent=2, sort_keys=True) + "\n", "utf-8")
        (tmp / METRICS).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", "utf-8")
        (tmp / CARD).write_text(card, "utf-8")
        manifest = {name: sha256_file(tmp / name) for name in (PIPELINE, META, METRICS, CARD)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
        follow_umask(tmp, directory=True)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def add_metrics(model_dir: Path, key: str, block: dict) -> None:
    """Record a figure measured after training (``metrics[key] = block``) in a model directory:
    the metrics, the card rebuilt from them, and the manifest are rewritten; the pipeline and the
    metadata are not touched. The directory is verified first."""
    from .card import model_card

    model_dir = Path(model_dir)
    verify(model_dir)
    meta = read_json(model_dir, META)
    metrics = {**read_json(model_dir, METRICS), key: block}
    atomic_write_text(model_dir / METRICS, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    atomic_write_text(model_dir / CARD, model_card(meta, metrics))
    manifest = {name: sha256_file(model_dir / name) for name in (PIPELINE, META, METRICS, CARD)}
    atomic_write_text(model_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def verify(model_dir: Path) -> dict:
    """Check every file against the manifest; return the manifest or raise ``ModelError``."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"no model at {model_dir} (expected a directory made by 'negclass train')")
    try:
        manifest = json.loads((model_dir / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{model_dir} has no {MANIFEST}; it was not written by 'negclass train'") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{model_dir / MANIFEST} is corrupt") from None
    for name in (PIPELINE, META):
        if name not in manifest:
            raise ModelError(f"{model_dir / MANIFEST} does not list {name}")
    for name, digest in manifest.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelError(f"{path} is missing")
        if sha256_file(path) != digest:
            raise ModelError(f"{path} does not match its checksum: the file was changed or truncated; "
                             "refusing to load it (retrain or restore the model)")
    return manifest


def read_json(model_dir: Path, name: str) -> dict:
    return json.loads((Path(model_dir) / name).read_text("utf-8"))


# the packages whose version decides what a saved model computes: scikit-learn unpickles the
# pipeline; spaCy and its lookup tables make the lemmas every feature is built from
MODEL_PACKAGES = ("scikit-learn", "spacy", "spacy-lookups-data")


def installed_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _retrain_hint(model_dir: Path) -> str:
    """How to remake a model: never into the installed package (the shipped model is remade by
    reinstalling negclass, whose pins match it)."""
    try:
        shipped = Path(model_dir).resolve() == shipped_model_dir().resolve()
    except ModelError:
        shipped = False
    if shipped:
        return "reinstall negclass (pip install --force-reinstall negclass) so its pinned versions match the shipped model"
    return f"retrain it with your labelled data: negclass train --data FILE --out {model_dir}"


def check_meta(model_dir: Path, meta: dict) -> None:
    """The one check of a model's format and of the versions it was made with (same minor
    version of each of ``MODEL_PACKAGES`` that the model recorded); ``ModelError`` says how to fix."""
    if meta.get("format") != FORMAT:
        raise ModelError(f"{model_dir} uses model format {meta.get('format')}, this negclass reads {FORMAT}; retrain it")
    for package in MODEL_PACKAGES:
        made_with = meta.get("versions", {}).get(package)
        if made_with is None:  # not recorded by older models
            continue
        have = installed_version(package)
        if made_with.split(".")[:2] != have.split(".")[:2]:
            raise ModelError(f"{model_dir} was made with {package} {made_with}, but {have or 'none'} is installed; "
                             f"install {package}=={made_with}, or {_retrain_hint(model_dir)}")


def load(model_dir: Path):
    """Verify, then load ``(pipeline, meta)`` from a model directory."""
    import joblib

    model_dir = Path(model_dir)
    verify(model_dir)
    meta = read_json(model_dir, META)
    check_meta(model_dir, meta)
    try:
        try:
            pipeline = joblib.load(model_dir / PIPELINE)
        except ModuleNotFoundError as exc:
            if exc.name not in MOVED_MODULES:
                raise
            with moved_modules():  # a model saved before the modules moved into subpackages
                pipeline = joblib.load(model_dir / PIPELINE)
    except Exception as exc:  # a verified file that still fails is a version problem
        raise ModelError(f"cannot load {model_dir / PIPELINE}: {exc}; retrain the model") from None
    return pipeline, meta


# A pickle names the module of every class and function it holds. Models saved before negclass
# was split into subpackages (mail, model, batch, training, apps) name the old top-level modules;
# these are the ones a saved pipeline can refer to, with where they are now.
MOVED_MODULES = {"negclass.features": "negclass.model.features",
                 "negclass.estimator": "negclass.model.estimator",
                 "negclass.pipeline": "negclass.model.pipeline",
                 "negclass.preprocess": "negclass.mail.cleaning"}


@contextmanager
def moved_modules():
    """While unpickling an older model: its old module names point at the modules' new places.

    The names are added to ``sys.modules`` only for the duration and removed afterwards, so no
    module lives at an old path; saving the loaded pipeline again (``save``) writes the new names.
    """
    import importlib

    added = []
    try:
        for old, new in MOVED_MODULES.items():
            if old not in sys.modules:
                sys.modules[old] = importlib.import_module(new)
                added.append(old)
        yield
    finally:
        for old in added:
            sys.modules.pop(old, None)
