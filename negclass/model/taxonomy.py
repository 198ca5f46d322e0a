"""The label set: reasons, their signals and the allowed channels, read from ``taxonomy.yaml``."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

NONE = "none"


@lru_cache(maxsize=None)
def _load() -> dict:
    text = resources.files("negclass").joinpath("data/taxonomy.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def reasons() -> list[str]:
    """All reason ids, in the fixed order used for probability columns."""
    return list(_load()["reasons"])


def refusal_reasons() -> list[str]:
    return [r for r in reasons() if r != NONE]


def signals(reason: str | None = None) -> list[str]:
    """Signal ids of one reason, or of all reasons in order."""
    table = _load()["reasons"]
    if reason is not None:
        return list(table[reason]["signals"])
    return [s for r in table for s in table[r]["signals"]]


def reason_of(signal: str) -> str:
    for reason, spec in _load()["reasons"].items():
        if signal in spec["signals"]:
            return reason
    raise KeyError(signal)


def reason_label(reason: str) -> str:
    return _load()["reasons"][reason]["label"]


def channels() -> list[str]:
    return list(_load()["channels"])


def difficulties() -> list[str]:
    return list(_load()["difficulties"])
