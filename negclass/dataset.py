"""Read and validate labelled examples (CSV or JSONL) against the taxonomy."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from . import taxonomy
from .errors import DataError

COLUMNS = ["id", "text", "reason", "signal", "channel", "source", "difficulty", "sector", "message_id"]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _rows(path: Path):
    """Yield (line number, dict) from a CSV or JSONL file, with the file's own line numbers."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        try:
            handle = path.open(encoding="utf-8")
            with handle:
                for lineno, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataError(path, lineno, f"not valid JSON ({exc.msg})") from None
                    if not isinstance(row, dict):
                        raise DataError(path, lineno, "expected a JSON object per line")
                    yield lineno, row
        except UnicodeDecodeError as exc:
            raise DataError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    elif suffix == ".csv":
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(path, None, f"cannot read as CSV ({exc})") from None
        # line numbers: header is line 1; rows with embedded newlines make this approximate
        for i, row in enumerate(frame.to_dict("records")):
            yield i + 2, row
    else:
        raise DataError(path, None, f"unsupported file type {suffix or '(none)'}; use .csv or .jsonl")


def validate_row(row: dict, path: Path, lineno: int) -> dict:
    """Check one labelled row; return it normalised (signal None for none, strings stripped)."""
    reasons = taxonomy.reasons()
    if "text" not in row:
        raise DataError(path, lineno, "missing column 'text'")
    if "reason" not in row:
        raise DataError(path, lineno, "missing column 'reason'")
    text = row.get("text")
    if _blank(text):
        raise DataError(path, lineno, "empty text")
    reason = str(row["reason"]).strip() if not _blank(row["reason"]) else ""
    if reason not in reasons:
        raise DataError(path, lineno, f"unknown reason {reason!r}; expected one of {', '.join(reasons)}")
    signal = None if _blank(row.get("signal")) else str(row["signal"]).strip()
    if reason == taxonomy.NONE and signal is not None:
        raise DataError(path, lineno, f"signal {signal!r} given for reason 'none'; leave it empty")
    if signal is not None and signal not in taxonomy.signals(reason):
        if signal in taxonomy.signals():
            raise DataError(path, lineno, f"signal {signal!r} belongs to {taxonomy.reason_of(signal)!r}, not {reason!r}")
        raise DataError(path, lineno, f"unknown signal {signal!r}; expected one of {', '.join(taxonomy.signals(reason))}")
    channel = None if _blank(row.get("channel")) else str(row["channel"]).strip()
    if channel is not None and channel not in taxonomy.channels():
        raise DataError(path, lineno, f"unknown channel {channel!r}; expected one of {', '.join(taxonomy.channels())}")
    out = {k: (None if _blank(row.get(k)) else str(row.get(k))) for k in COLUMNS}
    out.update(text=str(text), reason=reason, signal=signal, channel=channel)
    if out["id"] is None:
        out["id"] = "h-" + hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:12]
    return out


def load(paths) -> pd.DataFrame:
    """Load labelled files into one frame with columns ``COLUMNS`` plus ``file`` and ``line``.

    Any contract violation raises ``DataError`` naming the file and line; duplicate ids too.
    """
    records = []
    seen: dict[str, str] = {}
    for p in [Path(p) for p in paths]:
        if not p.exists():
            raise DataError(p, None, "no such file")
        for lineno, row in _rows(p):
            rec = validate_row(row, p, lineno)
            where = f"{p}:{lineno}"
            if rec["id"] in seen:
                raise DataError(p, lineno, f"duplicate id {rec['id']!r} (first at {seen[rec['id']]})")
            seen[rec["id"]] = where
            rec.update(file=str(p), line=lineno)
            records.append(rec)
    if not records:
        raise DataError(", ".join(map(str, paths)) or "(no files)", None, "no labelled examples found")
    return pd.DataFrame.from_records(records, columns=COLUMNS + ["file", "line"])


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 over ids, texts and labels: which data a model was trained on."""
    h = hashlib.sha256()
    for row in frame[["id", "text", "reason", "signal"]].itertuples(index=False):
        h.update(json.dumps(list(row), ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()
