"""Corrections made on the web page, kept as a labelled JSONL file that ``negclass train --data`` reads.

Each line is one example in the corpus format: ``id``, ``text``, ``reason``, ``signal`` and
``source`` = ``web-correction``. The id is derived from the text, so correcting the same text
again replaces the earlier line instead of adding a conflicting one (``dataset.load`` refuses
one id with two labels). The file is rewritten atomically (temporary file, then rename).
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from ...errors import EmptyTextError, NegclassError
from ...model import registry, store, taxonomy

FILENAME = "corrections.jsonl"
SOURCE = "web-correction"


def default_path() -> Path:
    """``corrections.jsonl`` in the user data directory (``$NEGCLASS_HOME`` or the platform's)."""
    return registry.home() / FILENAME


def example_id(text: str) -> str:
    return "web-" + hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:12]


def check_label(reason: str, signal: str | None) -> tuple[str, str | None]:
    """The label normalised, or a ``NegclassError`` saying what is wrong with it."""
    reason = (reason or "").strip()
    signal = (signal or "").strip() or None
    if reason not in taxonomy.reasons():
        raise NegclassError(f"unknown reason {reason!r}; choose one of {', '.join(taxonomy.reasons())}")
    if reason == taxonomy.NONE and signal is not None:
        raise NegclassError("'none' has no signal; leave the signal empty")
    if signal is not None and signal not in taxonomy.signals(reason):
        raise NegclassError(f"signal {signal!r} is not one of {reason}'s: {', '.join(taxonomy.signals(reason))}")
    return reason, signal


class Corrections:
    """The corrections file; safe to use from several threads of one process."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else default_path()
        self._lock = threading.Lock()

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []

    def count(self) -> int:
        return sum(1 for line in self._lines() if line.strip())

    def add(self, text: str, reason: str, signal: str | None = None) -> tuple[dict, bool]:
        """Record that ``text`` is ``reason`` (and ``signal``); returns the record and whether it
        replaced an earlier correction of the same text."""
        if text is None or not text.strip():
            raise EmptyTextError("empty text: nothing to correct")
        reason, signal = check_label(reason, signal)
        record = {"id": example_id(text), "text": text, "reason": reason, "signal": signal, "source": SOURCE}
        with self._lock:
            kept, replaced = [], False
            for line in self._lines():
                if not line.strip():
                    continue
                try:
                    same = json.loads(line).get("id") == record["id"]
                except (ValueError, AttributeError):
                    same = False  # keep a line we cannot read rather than lose it
                if same:
                    replaced = True
                else:
                    kept.append(line)
            kept.append(json.dumps(record, ensure_ascii=False))
            store.atomic_write_text(self.path, "\n".join(kept) + "\n")
        return record, replaced
