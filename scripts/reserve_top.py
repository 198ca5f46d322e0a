#!/usr/bin/env python
"""Precision at the top of a real mailbox: the messages the model ranks highest in the reserve.

The reserve is every message of the given mailboxes with ``int(sha256(Message-ID), 16) % 5 == 0``
(never labelled, never trained on; see data/README.md). Step 1 ranks it by P(refusal) and writes
the top N for blind reading; step 2 reads two annotators' verdicts and writes the audit table.

    python scripts/reserve_top.py rank MBOX [MBOX.gz ...] --top 20 --out top.jsonl [--model DIR]
    python scripts/reserve_top.py verdicts top.jsonl R1.jsonl R2.jsonl --out data/audit/precision_at_20.csv \
        [--model models/default]     # also records the figure in the model's metrics and card
"""
from __future__ import annotations

import argparse
import csv
import gzip
import heapq
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import negclass  # noqa: E402
from negclass.mail import cleaning, ingest  # noqa: E402
from negclass.model import store, taxonomy  # noqa: E402
from mine_pool import reserved  # noqa: E402


def reserve_messages(paths: list[Path]):
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            if path.suffix == ".gz":
                plain = Path(tmp) / path.stem
                with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                path = plain
            for msg in ingest.read([path]):
                if msg.error is None and msg.text and reserved(msg.id):
                    yield msg


def rank(args) -> int:
    model = negclass.load_model(args.model)
    msgs = list(reserve_messages(args.mbox))
    results = model.classify_many([m.text for m in msgs], explain=False)
    scored = [(1.0 - r.probabilities["none"], k, r) for k, r in enumerate(results) if r.error is None]
    flagged = sum(r.reason != taxonomy.NONE for _, _, r in scored)
    print(f"{len(msgs)} reserved messages, {len(scored)} scored, {flagged} flagged as refusals", file=sys.stderr)
    top = heapq.nlargest(args.top, scored, key=lambda t: t[0])
    with open(args.out, "w", encoding="utf-8") as f:
        for rank_, (p, k, r) in enumerate(top, 1):
            text = cleaning.clean(msgs[k].text, html=msgs[k].html).text
            f.write(json.dumps({"id": f"top{rank_:02d}", "message_id": msgs[k].id, "p_refusal": round(p, 4),
                                "reason": r.reason, "signal": r.signal, "reserve_size": len(scored),
                                "reserve_flagged": flagged, "text": text},
                               ensure_ascii=False) + "\n")
    return 0


def verdicts(args) -> int:
    top = [json.loads(line) for line in open(args.top, encoding="utf-8")]
    readers = [{(row := json.loads(line))["id"]: row for line in open(p, encoding="utf-8") if line.strip()}
               for p in args.verdicts]
    rows, both = [], 0
    for t in top:
        v = [r.get(t["id"], {}).get("reason", "") for r in readers]
        refusal = [x not in ("", "none") for x in v]
        both += all(refusal)
        rows.append({"rank": t["id"][3:], "message_id": t["message_id"], "p_refusal": t["p_refusal"],
                     "model_reason": t["reason"], "reader1": v[0], "reader2": v[1],
                     "genuine": "yes" if all(refusal) else ("split" if any(refusal) else "no")})
    tmp = Path(str(args.out) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    tmp.replace(args.out)
    either = sum(r["genuine"] != "no" for r in rows)
    print(f"precision at {len(rows)}: {both}/{len(rows)} genuine by both readers, {either}/{len(rows)} by at least one")
    if args.model:  # the figure goes into the model's metrics and card
        reserve = top[0].get("reserve_size") if top else None
        flagged = top[0].get("reserve_flagged") if top else None
        out = args.out.resolve()
        store.add_metrics(args.model, "reserve_audit", {
            "n": len(rows), "both": both, "either": either, "reserve": reserve, "flagged": flagged,
            "file": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(args.out)})
        print(f"recorded in {args.model}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rank")
    r.add_argument("mbox", type=Path, nargs="+")
    r.add_argument("--top", type=int, default=20)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--model", type=Path)
    v = sub.add_parser("verdicts")
    v.add_argument("top", type=Path)
    v.add_argument("verdicts", type=Path, nargs=2)
    v.add_argument("--out", type=Path, required=True)
    v.add_argument("--model", type=Path, help="also record the figure in this model's metrics and card")
    args = ap.parse_args()
    return rank(args) if args.cmd == "rank" else verdicts(args)


if __name__ == "__main__":
    raise SystemExit(main())
