#!/usr/bin/env python
"""Turn one-sided edits of labelled real mail into rows: the other side of a real message.

A real refusal of the train split, edited in the sentences that turn something down so that its
author engages instead, becomes a ``none`` row; a real message that readers judged not to be a
refusal, edited so that its author declines, becomes a refusal row with the writer's signal. With
the untouched real message already in the corpus, each makes a minimal pair whose one real side
was read by two annotators. Rows go to ``data/corpus/enron_counterparts.jsonl``, with the source's
Message-ID as provenance (``--out`` another file, e.g. under ``data/held-back/``, to keep them out
of the default training data).

    python scripts/build_counterparts.py ITEMS_DIR OUTPUTS_DIR [--write] [--out FILE]

``ITEMS_DIR`` holds the items given to writers (``NAME.jsonl``, each line ``pid``, ``task``
``engage`` or ``refuse``, ``text``) and ``NAME_map.json`` (pid -> the source row's id in
``corpus/enron_pool.jsonl``); ``OUTPUTS_DIR`` the writers' ``out_NAME.jsonl``. An output is left
out when it is not JSON, repeats a pid, has no change, changes most of a text longer than a short
reply, uses a taxonomy word, or names a reason or signal the taxonomy does not have.
"""
from __future__ import annotations

import argparse
import collections
import difflib
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_pairs import EXTRA_GIVEAWAYS, LABEL_WORDS, separating_tokens  # noqa: E402

from negclass.files import atomic_write_text  # noqa: E402
from negclass.model import taxonomy  # noqa: E402

OUT = ROOT / "data" / "corpus" / "enron_counterparts.jsonl"
POOL = ROOT / "data" / "corpus" / "enron_pool.jsonl"
MAX_CHANGED = 0.6  # an edit that rewrites more than this share of the text is not minimal
SHORT = 200       # ... unless the text is this short: a one-line reply is all edit


def _changed_share(a: str, b: str) -> float:
    return 1.0 - difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def build(items_dir: Path, outputs_dir: Path, pool: dict[str, dict]) -> tuple[list[dict], collections.Counter, list[dict]]:
    """The rows, the count of each reason an output was left out, and both sides of each pair
    (the source and its edit) for the separating-token check."""
    rows, problems, pairs, seen = [], collections.Counter(), [], set()
    for items_path in sorted(items_dir.glob("*.jsonl")):
        name = items_path.stem
        items = {it["pid"]: it for it in map(json.loads, items_path.read_text("utf-8").splitlines())}
        source_of = json.loads((items_dir / f"{name}_map.json").read_text("utf-8"))
        out = outputs_dir / f"out_{name}.jsonl"
        if not out.exists():
            problems["no output file"] += len(items)
            continue
        for line in out.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                got = json.loads(line)
            except json.JSONDecodeError:
                problems["not JSON"] += 1
                continue
            item = items.get(got.get("pid"))
            if item is None or got["pid"] in seen:
                problems["unknown or repeated pid"] += 1
                continue
            seen.add(got["pid"])
            src = pool[source_of[got["pid"]]]
            engage = item["task"] == "engage"
            text = got.get("engaged" if engage else "refusal") or ""
            reason = taxonomy.NONE if engage else got.get("reason")
            signal = "" if engage else got.get("signal") or ""
            if not engage and (reason not in taxonomy.refusal_reasons() or signal not in taxonomy.signals(reason)):
                problems["unknown reason or signal"] += 1
                continue
            if text.strip() == src["text"].strip():
                problems["no change"] += 1
                continue
            if len(src["text"]) > SHORT and _changed_share(src["text"], text) > MAX_CHANGED:
                problems["not a minimal edit"] += 1
                continue
            if LABEL_WORDS.search(text) or EXTRA_GIVEAWAYS.search(text):
                problems["taxonomy word"] += 1
                continue
            side = "e" if engage else "r"
            rid = "cpair-" + hashlib.sha256(src["message_id"].encode()).hexdigest()[:12] + "-" + side
            rows.append({"id": rid, "text": text, "reason": reason, "signal": signal, "channel": src["channel"],
                         "source": "enron-pairs", "difficulty": "hard", "message_id": src["message_id"],
                         "kind": "counterpart"})
            refusal, engaged = (src["text"], text) if engage else (text, src["text"])
            pairs += [{"text": refusal, "reason": reason if not engage else src["reason"]},
                      {"text": engaged, "reason": taxonomy.NONE}]
    return rows, problems, pairs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("items", type=Path)
    ap.add_argument("outputs", type=Path)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT, help=f"where the rows go (default {OUT.relative_to(ROOT)})")
    args = ap.parse_args()
    pool = {r["id"]: r for r in map(json.loads, POOL.read_text("utf-8").splitlines())}
    rows, problems, pairs = build(args.items, args.outputs, pool)
    by = collections.Counter(f"{r['reason']}/{r['signal'] or '-'}" for r in rows)
    print(f"{len(rows)} rows: {dict(sorted(by.items()))}; left out: {dict(problems) or 'none'}")
    print("tokens that best separate the refusal side from the engaged side (log-odds, counts):")
    for token, lo, a, b in separating_tokens(pairs, args.top):
        print(f"  {token:15} {lo:+.2f}  {a:4} {b:4}")
    if args.write:
        atomic_write_text(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
