"""The playbook: descriptions, cues and tactics for each reason and signal (``playbook.yaml``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

import yaml

from . import taxonomy


@dataclass(frozen=True)
class Tactic:
    id: str
    title: str
    do: str
    say: str

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=None)
def _load() -> dict:
    text = resources.files("negclass").joinpath("data/playbook.yaml").read_text("utf-8")
    return yaml.safe_load(text)["reasons"]


def entry(reason: str) -> dict:
    """The raw playbook entry of one reason (summary, cues, posture, tactics, signals)."""
    if reason not in taxonomy.reasons():
        raise KeyError(f"unknown reason {reason!r}; expected one of {', '.join(taxonomy.reasons())}")
    return _load()[reason]


def _tactics(items: list[dict]) -> list[Tactic]:
    return [Tactic(id=t["id"], title=t["title"], do=" ".join(t["do"].split()), say=t["say"]) for t in items]


def tactics_for(reason: str, signal: str | None = None) -> list[Tactic]:
    """Tactics for a prediction: by reason, and by signal where the playbook splits by signal.

    Where a signal lists a ``priority``, those tactics come first. ``none`` has no tactics.
    """
    spec = entry(reason)
    signals = spec.get("signals") or {}
    if "tactics" in spec:
        tactics = _tactics(spec["tactics"])
    elif signal in signals:
        tactics = _tactics(signals[signal]["tactics"])
    else:  # split by signal but none given: every signal's tactics
        tactics = [t for s in signals.values() for t in _tactics(s["tactics"])]
    priority = (signals.get(signal) or {}).get("priority", []) if signal else []
    rank = {tid: i for i, tid in enumerate(priority)}
    return sorted(tactics, key=lambda t: rank.get(t.id, len(rank)))


def render(reason: str | None = None) -> str:
    """The playbook as readable text, for one reason or all of them."""
    chosen = [reason] if reason else taxonomy.reasons()
    out: list[str] = []
    for r in chosen:
        spec = entry(r)
        out.append(f"{r} — {taxonomy.reason_label(r)}")
        out.append("=" * len(out[-1]))
        out.append(" ".join(spec["summary"].split()))
        if spec.get("cues"):
            out.append("\nHow it shows:")
            out.extend(f"  - {c}" for c in spec["cues"])
        if spec.get("posture"):
            out.append("\nPosture: " + " ".join(spec["posture"].split()))
        for sig, sspec in (spec.get("signals") or {}).items():
            out.append(f"\n  [{sig}] {sspec['description']}")
            out.append("    e.g. " + "; ".join(f'"{c}"' for c in sspec.get("cues", [])))
        groups = [(None, spec["tactics"])] if "tactics" in spec else [
            (sig, s["tactics"]) for sig, s in (spec.get("signals") or {}).items()]
        for sig, items in groups:
            if not items:
                continue
            out.append("\nTactics" + (f" when {sig}:" if sig else ":"))
            for t in _tactics(items):
                out.append(f"  * {t.title} ({t.id})")
                out.append(f"      {t.do}")
                out.append(f"      Say: {t.say}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
