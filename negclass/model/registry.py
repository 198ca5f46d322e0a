"""Where models live and which one is the default.

* The shipped model is package data (``negclass.models``, the project's ``models/default``;
  ``store.shipped_model_dir``), read-only; its registry name is ``shipped``.
* Models you train live in ``<home>/models/<name>/``, where ``<home>`` is ``$NEGCLASS_HOME`` or the
  user data directory (``platformdirs.user_data_dir("negclass")``, e.g. ``~/.local/share/negclass``).
* ``<home>/default.json`` names the default model and the one before it (for rollback). It is
  replaced atomically (temp file, then rename), and only after the new model directory is
  completely written, so an interrupted training run leaves the old default in place.
* ``$NEGCLASS_MODEL`` or ``--model`` (a directory, or a registered name) overrides the default.

Every model directory is checked against its SHA-256 manifest (``store.verify``) before it is
made the default and again by ``store.load`` before anything is unpickled.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError, NegclassError
from . import store

SHIPPED = "shipped"
POINTER = "default.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def home() -> Path:
    env = os.environ.get("NEGCLASS_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("negclass", appauthor=False))


def models_dir() -> Path:
    return home() / "models"


def check_name(name: str) -> str:
    if not _NAME.match(name or "") or name == SHIPPED:
        raise NegclassError(f"bad model name {name!r}: use letters, digits, '.', '_' or '-' "
                            f"(up to 64, not starting with a dot), and not {SHIPPED!r}")
    return name


def path_of(name: str) -> Path:
    """The directory of a registered model (``shipped`` is the model installed with negclass)."""
    if name == SHIPPED:
        return store.shipped_model_dir()
    return models_dir() / check_name(name)


def new_name(prefix: str = "") -> str:
    """A fresh name from the current UTC time, e.g. ``20260126-141503``."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = f"{prefix}{stamp}"
    name, k = base, 2
    while (models_dir() / name).exists():
        name, k = f"{base}-{k}", k + 1
    return name


# -- the default pointer ------------------------------------------------------------------------
def read_pointer() -> dict:
    path = home() / POINTER
    try:
        state = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {"default": None, "previous": None}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{path} is corrupt; delete it to go back to the shipped model, "
                         "then 'negclass models use NAME'") from None
    return {"default": state.get("default"), "previous": state.get("previous")}


def _write_pointer(default: str, previous: str | None) -> None:
    store.atomic_write_text(home() / POINTER, json.dumps({"default": default, "previous": previous}, indent=2) + "\n")


def default_name() -> str:
    """The registered default (``shipped`` when none was chosen)."""
    return read_pointer()["default"] or SHIPPED


def default_model_dir() -> Path:
    """``$NEGCLASS_MODEL`` if set, else the registry's default, else the shipped model."""
    env = os.environ.get("NEGCLASS_MODEL")
    if env:
        return resolve(env)
    name = default_name()
    path = path_of(name)
    if name != SHIPPED and not path.is_dir():
        raise ModelError(f"the default model {name!r} is missing from {models_dir()}; "
                         f"'negclass models' lists the others, 'negclass models use {SHIPPED}' goes back to the shipped one")
    return path


def resolve(spec: str | Path) -> Path:
    """A model directory from a path or a registered name."""
    p = Path(spec).expanduser()
    if p.is_dir() or os.sep in str(spec) or (os.altsep and os.altsep in str(spec)):
        return p
    if str(spec) == SHIPPED or (_NAME.match(str(spec)) and (models_dir() / str(spec)).is_dir()):
        return path_of(str(spec))
    return p


def check(model_dir: Path) -> dict:
    """Everything ``store.load`` checks, without unpickling: manifest, format, package versions."""
    store.verify(model_dir)
    meta = store.read_json(model_dir, store.META)
    store.check_meta(model_dir, meta)
    return meta


def use(name: str) -> tuple[str, str | None]:
    """Make a registered model the default after checking it; returns ``(new, previous)``."""
    path = path_of(name)
    if not path.is_dir():
        raise NegclassError(f"no model named {name!r}; 'negclass models' lists them")
    check(path)
    current = default_name()
    if current == name:
        return name, read_pointer()["previous"]
    _write_pointer(name, current)
    return name, current


def rollback() -> tuple[str, str]:
    """Make the previous default the default again (and the current one the previous)."""
    state = read_pointer()
    previous = state["previous"]
    if not previous:
        raise NegclassError("no previous default to go back to")
    current = state["default"] or SHIPPED
    path = path_of(previous)
    if not path.is_dir():
        raise NegclassError(f"the previous default {previous!r} no longer exists")
    check(path)
    _write_pointer(previous, current)
    return previous, current


# -- listing ------------------------------------------------------------------------------------
@dataclass
class Entry:
    name: str
    path: Path
    created: str | None
    train_examples: int | None
    heldout_examples: int | None
    heldout_macro_f1: float | None
    files: dict
    default: bool
    previous: bool
    problem: str | None = None

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d


def entry(name: str, path: Path, state: dict | None = None) -> Entry:
    state = state or read_pointer()
    is_default = (state["default"] or SHIPPED) == name
    meta, metrics, problem = {}, {}, None
    try:
        meta = store.read_json(path, store.META)
        metrics = store.read_json(path, store.METRICS)
        store.verify(path)
    except (OSError, ValueError, ModelError) as exc:
        problem = str(exc) if isinstance(exc, ModelError) else f"unreadable: {exc}"
    data = meta.get("data", {})
    heldout = (metrics.get("heldout") or {}).get("model") or {}
    files = data.get("per_file") or dict.fromkeys(data.get("files", []))
    return Entry(name, path, meta.get("created"), data.get("train", {}).get("examples"),
                 data.get("heldout", {}).get("examples"), heldout.get("macro_f1"), files,
                 is_default, state["previous"] == name, problem)


def entries() -> list[Entry]:
    """The shipped model (if present) and every registered model, oldest first."""
    state = read_pointer()
    out = []
    if store.shipped_model_dir().is_dir():
        out.append(entry(SHIPPED, store.shipped_model_dir(), state))
    root = models_dir()
    if root.is_dir():
        for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            out.append(entry(d.name, d, state))
    return sorted(out, key=lambda e: (e.name != SHIPPED, e.created or "", e.name))
