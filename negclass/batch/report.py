"""``negclass report``: a scored file as one self-contained HTML page a negotiator can work from.

The write end of the flow: it reads what ``negclass score`` wrote (CSV, JSONL or Parquet) and the
plain-words data files (taxonomy, playbook), never the model. The page holds its data as one JSON
block and draws itself with inline JavaScript: no network, it opens from disk.

What goes in: every flagged message (a refusal: reason other than ``none``), most likely first,
with its text and evidence, up to ``max_flagged``; a sample of at most ``sample_rest`` of the
other classified messages; and, for every classified message, a light record (date, sender,
reason, confidence, thread) behind the counterparty timelines and the thread views. The page says
what was left out.
"""
from __future__ import annotations

import csv
import html
import json
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from ..errors import DataError, NegclassError
from ..files import atomic_write_text
from ..model import playbook, taxonomy

MAX_FLAGGED = 20_000     # flagged messages kept whole (the most likely first)
SAMPLE_REST = 1_000      # other classified messages kept as a sample
TEXT_CHARS = 6_000       # text kept per message in the page
YES = {"true", "1", "yes", "y"}


# -- reading ------------------------------------------------------------------------------------
def read_scored(path: Path) -> list[dict]:
    """The rows of a scored file as dicts (``None`` for blanks); CSV values stay strings."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file")
    kind = path.suffix.lower()
    if kind not in {".csv", ".jsonl", ".ndjson", ".parquet"}:
        raise DataError(path, None, "a scored file ends in .csv, .jsonl or .parquet")
    try:
        if kind == ".csv":
            csv.field_size_limit(1 << 30)
            with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
                rows = list(csv.DictReader(fh))
        elif kind == ".parquet":
            import pyarrow.parquet as pq
            rows = pq.read_table(path).to_pylist()
        else:
            rows = []
            with open(path, encoding="utf-8", errors="replace") as fh:
                for lineno, line in enumerate(fh, 1):
                    if line.strip():
                        row = json.loads(line)
                        if not isinstance(row, dict):
                            raise ValueError(f"line {lineno} is not a JSON object")
                        rows.append(row)
    except (OSError, ValueError, csv.Error, UnicodeError) as exc:
        raise DataError(path, None, f"cannot read it as a scored file ({str(exc).splitlines()[0][:200]})") from None
    except Exception as exc:  # pyarrow's errors
        raise DataError(path, None, f"cannot read it as a scored file ({str(exc).splitlines()[0][:200]})") from None
    missing = sorted({"id", "reason", "confidence"} - set(rows[0] if rows else ()))
    if not rows:
        raise DataError(path, None, "no rows")
    if missing:
        raise DataError(path, None, f"not a file written by 'negclass score' (no {', '.join(missing)} column)")
    for row in rows:
        for k, v in row.items():
            if v == "" or (isinstance(v, float) and v != v):
                row[k] = None
    return rows


def _num(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def _yes(value) -> bool:
    return value is True or str(value).strip().lower() in YES


def _domain(address: str | None) -> str:
    return address.rsplit("@", 1)[1] if address and "@" in address else ""


def _signal_label(signal: str | None) -> str:
    if not signal:
        return ""
    try:
        spec = playbook.entry(taxonomy.reason_of(signal)).get("signals") or {}
    except KeyError:
        return signal
    return " ".join(str((spec.get(signal) or {}).get("description", signal)).split())


def _threads(rows: list[dict]) -> list[str]:
    """A thread key per row: the ``thread`` column, with a thread's root message (which has no
    References, so its key is its subject) joined to the replies that name it."""
    parent = {}

    def find(k):
        while parent.get(k, k) != k:
            parent[k] = parent.get(parent[k], parent[k])
            k = parent[k]
        return k

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    keys = [str(r.get("thread") or f"id:{r.get('id')}") for r in rows]
    ids = {str(r.get("id")) for r in rows if r.get("id")}
    for r, k in zip(rows, keys):
        parent.setdefault(k, k)
        rid = str(r.get("id") or "")
        if rid in ids and rid != k:
            parent.setdefault(rid, rid)
            union(k, rid)          # the root's own id and its subject key are one thread
    return [find(k) if k in parent else k for k in keys]


# -- building -----------------------------------------------------------------------------------
def build_data(rows: list[dict], *, source: str = "", scored_at: str | None = None,
               max_flagged: int = MAX_FLAGGED, sample_rest: int = SAMPLE_REST, text_chars: int = TEXT_CHARS) -> dict:
    """The JSON the page draws itself from."""
    reasons = taxonomy.reasons()
    r_index = {r: i for i, r in enumerate(reasons)}
    classified, errors, skipped = [], 0, 0
    for i, r in enumerate(rows):
        if _yes(r.get("skipped")):
            skipped += 1
        elif r.get("error") or r.get("reason") not in r_index:
            errors += 1
        else:
            classified.append(i)
    thread_of = _threads(rows)
    per_reason = Counter(rows[i]["reason"] for i in classified)
    low = sum(_yes(rows[i].get("low_confidence")) for i in classified)
    flagged = sorted((i for i in classified if rows[i]["reason"] != taxonomy.NONE),
                     key=lambda i: (-(_num(rows[i].get("confidence")) or 0), i))
    rest = [i for i in classified if rows[i]["reason"] == taxonomy.NONE]
    kept_flagged = flagged[:max_flagged]
    # evenly spread over the file, so the sample covers every period and mailbox
    kept_rest = rest if len(rest) <= sample_rest else [rest[k * len(rest) // sample_rest] for k in range(sample_rest)]
    has_text = any(rows[i].get("text") for i in kept_flagged[:50] + kept_rest[:50])

    cps: dict[str, int] = {}
    subjects: dict[str, int] = {}
    threads: dict[str, int] = {}
    light, light_of = [], {}
    for i in classified:
        r = rows[i]
        cp = (r.get("counterparty") or "").strip().lower() or (r.get("from") or "").strip() or "(no sender)"
        light_of[i] = len(light)
        light.append([r.get("date_utc") or None, cps.setdefault(cp, len(cps)), r_index[r["reason"]],
                      round(_num(r.get("confidence")) or 0, 3), threads.setdefault(thread_of[i], len(threads)),
                      subjects.setdefault(str(r.get("subject") or ""), len(subjects)), -1,
                      int(_yes(r.get("low_confidence")))])

    messages = []
    for i in kept_flagged + kept_rest:
        r = rows[i]
        text = str(r.get("text") or r.get("snippet") or "")
        cut = len(text) > text_chars
        light[light_of[i]][6] = len(messages)
        messages.append({
            "n": light_of[i], "id": str(r.get("id") or ""), "from": r.get("from") or "", "date": r.get("date") or "",
            "signal": r.get("signal") or "", "text": text[:text_chars] + ("…" if cut else ""),
            "evidence": [e.strip() for e in str(r.get("evidence") or "").split(";") if e.strip()],
            "tactics": [t for t in str(r.get("tactics") or "").split(";") if t][:3],
            "source": r.get("source") or ""})

    # counterparties and threads worth a view: those with a flagged message
    by_cp, by_thread = defaultdict(list), defaultdict(list)
    for n, rec in enumerate(light):
        by_cp[rec[1]].append(n)
        by_thread[rec[4]].append(n)
    flagged_light = {light_of[i] for i in flagged}

    def by_date(ns):
        return sorted(ns, key=lambda n: (light[n][0] or "", n))

    cp_names = list(cps)
    cp_views = []
    for c, ns in by_cp.items():
        if any(n in flagged_light for n in ns):
            ns = by_date(ns)
            cp_views.append({"c": c, "address": cp_names[c], "domain": _domain(cp_names[c]), "rows": ns,
                             "flagged": sum(n in flagged_light for n in ns)})
    cp_views.sort(key=lambda v: (-v["flagged"], v["address"]))
    thread_views = []
    for t, ns in by_thread.items():
        if len(ns) > 1 and any(n in flagged_light for n in ns):
            ns = by_date(ns)
            changes = sum(light[a][2] != light[b][2] for a, b in zip(ns, ns[1:]))
            thread_views.append({"t": t, "rows": ns, "changes": changes})
    thread_views.sort(key=lambda v: (-v["changes"], -len(v["rows"])))

    tactics = {}
    for m in messages:
        for tid in m["tactics"]:
            tactics.setdefault(tid, None)
    catalogue = {}
    for reason in taxonomy.refusal_reasons():
        for t in playbook.tactics_for(reason):
            catalogue[t.id] = {"title": t.title, "do": t.do, "say": t.say}
    models = Counter(str(r.get("model")) for r in rows if r.get("model"))
    return {
        "source": source, "scored_at": scored_at, "built_at": _now(),
        "models": [m for m, _ in models.most_common()],
        "reasons": [{"id": r, "label": taxonomy.reason_label(r),
                     "summary": " ".join(playbook.entry(r)["summary"].split())} for r in reasons],
        "signals": {s: _signal_label(s) for s in taxonomy.signals()},
        "tactics": {tid: catalogue[tid] for tid in tactics if tid in catalogue},
        "counts": {"rows": len(rows), "classified": len(classified), "errors": errors, "skipped": skipped,
                   "low_confidence": low, "per_reason": {r: per_reason.get(r, 0) for r in reasons},
                   "flagged": len(flagged), "flagged_kept": len(kept_flagged), "rest": len(rest),
                   "rest_kept": len(kept_rest)},
        "has_text": has_text,
        "counterparties": cp_names, "subjects": list(subjects),
        "light": light, "messages": messages, "cp_views": cp_views, "thread_views": thread_views,
    }


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(data: dict) -> str:
    """The page: the template with the data inlined (``</`` escaped so no text can end the script)."""
    static = resources.files("negclass").joinpath("data")
    template = static.joinpath("report.html").read_text("utf-8")
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\u0021--")
    title = "Refusals in " + (Path(data["source"]).name if data.get("source") else "a scored file")
    return (template.replace("{{TITLE}}", html.escape(title))
            .replace("{{CSS}}", static.joinpath("report.css").read_text("utf-8"))
            .replace("{{JS}}", static.joinpath("report.js").read_text("utf-8"))
            .replace("{{DATA}}", blob))


def write(page: str, out: Path) -> None:
    """Write atomically (a temp file beside ``out``, renamed over it), with the mode the umask gives."""
    atomic_write_text(Path(out), page)


def report(scored: Path, out: Path, *, max_flagged: int = MAX_FLAGGED, sample_rest: int = SAMPLE_REST) -> dict:
    """Read ``scored``, write the page to ``out``; returns the counts and timings."""
    if Path(out).suffix.lower() not in {".html", ".htm"}:
        raise NegclassError(f"{out}: the report is an HTML page; name it .html")
    started = time.perf_counter()
    rows = read_scored(scored)
    scored_at = datetime.fromtimestamp(Path(scored).stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = build_data(rows, source=str(scored), scored_at=scored_at, max_flagged=max_flagged,
                      sample_rest=sample_rest)
    page = render(data)
    write(page, out)
    return {**data["counts"], "has_text": data["has_text"], "bytes": len(page.encode("utf-8")),
            "seconds": round(time.perf_counter() - started, 3)}
