#!/usr/bin/env python
"""Measure false alarms on the reserved part of the real mailbox sample.

A message is reserved when int(sha256(Message-ID), 16) % 5 == 0; reserved messages are never
labelled or trained on (see data/README.md). Nearly all real mail is not a refusal, so the share
flagged as a refusal (with low_confidence false) estimates the false-alarm rate.

    python scripts/false_alarms.py ../shared/data/enron-sample.mbox [--model DIR] [--all]
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import negclass  # noqa: E402
from negclass.mail import ingest  # noqa: E402


def reserved(message_id: str) -> bool:
    return int(hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest(), 16) % 5 == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mbox", type=Path)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--all", action="store_true", help="every message, not only the reserved part")
    args = ap.parse_args()
    model = negclass.load_model(args.model)
    msgs = [m for m in ingest.read([args.mbox]) if m.error is None and (args.all or reserved(m.id))]
    results = list(model.classify_many([m.text for m in msgs], explain=False))
    scored = [r for r in results if r.error is None]
    flagged = [r for r in scored if r.reason != "none"]
    confident = [r for r in flagged if not r.low_confidence]
    part = "all readable messages" if args.all else "reserved messages"
    print(f"{len(scored)} {part} scored: flagged as refusal {len(flagged)} ({len(flagged) / len(scored):.2%}), "
          f"of which not low-confidence {len(confident)} ({len(confident) / len(scored):.2%})")
    by_reason = {}
    for r in confident:
        by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
    print("confident flags per reason:", by_reason)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
