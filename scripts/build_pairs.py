#!/usr/bin/env python
"""Turn minimal pairs written from real mail into labelled rows, and check what separates them.

Each pair is one real email edited twice in the same sentences: once into a refusal for a given
signal, once into an engaged reply (``none``). The rows go to ``data/corpus/enron_pairs.jsonl``
with the source message's Message-ID as provenance; pairs of earlier rounds are kept. The check lists the tokens that best predict
the side of a pair: when the edit carries the label, no single word should separate the sides.

    python scripts/build_pairs.py SRC_DIR OUT_DIR PID_TO_MESSAGE_ID.json [--write] [--top 25] [--held-back FILE]
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.mail import cleaning  # noqa: E402
from negclass.model import taxonomy  # noqa: E402
from negclass.training import dataset  # noqa: E402

OUT = ROOT / "data" / "corpus" / "enron_pairs.jsonl"
HELD = [ROOT / "data" / "real-test.jsonl", ROOT / "data" / "real-dev.jsonl",
        ROOT.parent / "shared" / "data" / "devset.jsonl", ROOT.parent / "shared" / "data" / "real-devset.jsonl"]
sys.path.insert(0, str(ROOT / "scripts"))
from validate_corpus import GIVEAWAYS as LABEL_WORDS  # noqa: E402

EXTRA_GIVEAWAYS = re.compile(r"\b(emotional|refus(al|e)|stance)\b", re.IGNORECASE)
WORD = re.compile(r"[a-z']+")
QUOTE_LINE = "-----Original Message-----"


def load(src_dir: Path, out_dir: Path, pid_mid: dict) -> tuple[list[dict], collections.Counter]:
    items = {}
    for path in sorted(src_dir.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            it = json.loads(line)
            items[it["pid"]] = it
    rows, problems, sources, done = [], collections.Counter(), [], set()
    for path in sorted(out_dir.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                p = json.loads(line)
            except json.JSONDecodeError:
                problems["not JSON"] += 1
                continue
            if p.get("pid") in done:  # a pid written twice (two writers, or a rewrite): the first is kept
                problems["pid written twice"] += 1
                continue
            done.add(p.get("pid"))
            it = items.get(p.get("pid"))
            ref, eng = (p.get("refusal") or "").strip(), (p.get("engaged") or "").strip()
            if it is None or not ref or not eng:
                problems["unknown pid or empty side"] += 1
                continue
            if it["placement"] == "quoted_reply":  # the sides are the replies; the email goes under them, quoted
                ref, eng = (f"{side}\n\n{QUOTE_LINE}\n{it['text']}" for side in (ref, eng))
            if ref == eng:
                problems["identical sides"] += 1
                continue
            if any(g.search(side) for g in (LABEL_WORDS, EXTRA_GIVEAWAYS) for side in (ref, eng)):
                problems["taxonomy word"] += 1
                continue
            ref_clean, eng_clean = cleaning.clean(ref).text, cleaning.clean(eng).text
            if not ref_clean or not eng_clean or ref_clean == eng_clean:
                problems["edit only in quoted or forwarded text"] += 1  # the model would never see it
                continue
            mid = pid_mid[it["pid"]]
            base = hashlib.sha256(mid.encode("utf-8")).hexdigest()[:12]
            common = {"channel": "email", "source": "enron-pairs", "difficulty": "hard",
                      "message_id": mid, "kind": it["placement"]}
            sources.append(it["text"])
            rows.append({"id": f"pair-{base}-r", "text": ref_clean, "reason": it["reason"],
                         "signal": it["signal"], **common})
            rows.append({"id": f"pair-{base}-e", "text": eng_clean,
                         "reason": taxonomy.NONE, "signal": "", **common})
    # the corpus repeats an email under several Message-IDs: a pair whose source email is also a
    # measured text (real test or dev, the shared dev sets) would leak it into training
    held = [r.text for r in dataset.load([p for p in HELD if p.exists()]).itertuples()]
    leaks = {m.a for m in dataset.similar(sources, held)} if sources and held else set()
    repeats = {m.b for m in dataset.similar(sources)} - leaks  # the same email under two Message-IDs
    if repeats:
        problems["source repeats another pair's source"] += len(repeats)
    leaks |= repeats
    if leaks:
        problems["source repeats a test or dev text"] += len(leaks)
        rows = [r for k, r in enumerate(rows) if k // 2 not in leaks]
    return rows, problems


def separating_tokens(rows: list[dict], top: int) -> list[tuple[str, float, int, int]]:
    """Tokens by smoothed log-odds of appearing on the refusal side rather than the engaged side."""
    ref, eng = collections.Counter(), collections.Counter()
    n_ref = n_eng = 0
    for r in rows:
        words = set(WORD.findall(r["text"].lower()))
        if r["reason"] == taxonomy.NONE:
            eng.update(words)
            n_eng += 1
        else:
            ref.update(words)
            n_ref += 1
    scores = []
    for w in set(ref) | set(eng):
        a, b = ref[w], eng[w]
        if a + b < 10:
            continue
        lo = math.log((a + 1) / (n_ref - a + 1)) - math.log((b + 1) / (n_eng - b + 1))
        scores.append((w, lo, a, b))
    scores.sort(key=lambda s: -abs(s[1]))
    return scores[:top]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("pid_mid", type=Path)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--held-back", type=Path, metavar="FILE",
                    help="write this round's pairs alone to FILE (a held-back file) instead of the corpus")
    args = ap.parse_args()
    pid_mid = json.loads(args.pid_mid.read_text("utf-8"))
    rows, problems = load(args.src, args.out, pid_mid)
    out = args.held_back or OUT
    if out == OUT and OUT.exists():  # pairs of earlier rounds stay; this round's source emails take this round's pairs (or none)
        new_ids = set(pid_mid.values())
        earlier = [json.loads(line) for line in OUT.read_text("utf-8").splitlines() if line.strip()]
        earlier = [r for r in earlier if r["message_id"] not in new_ids]
        # cleaned again with today's cleaner; a pair whose edit then falls in quoted text is dropped
        by_pair = collections.defaultdict(dict)
        for r in earlier:
            by_pair[r["id"][:-2]][r["id"][-1]] = r | {"text": cleaning.clean(r["text"]).text}
        earlier = []
        for sides in by_pair.values():
            if set(sides) == {"r", "e"} and sides["r"]["text"] and sides["e"]["text"] \
                    and sides["r"]["text"] != sides["e"]["text"]:
                earlier += [sides["r"], sides["e"]]
            else:
                problems["edit only in quoted or forwarded text"] += 1
        print(f"{len(rows) // 2} new pairs, {len(earlier) // 2} from earlier rounds")
        rows = earlier + rows
    per = collections.Counter(r["signal"] for r in rows if r["reason"] != taxonomy.NONE)
    print(f"{len(rows) // 2} pairs; left out: {dict(problems) or 'none'}")
    print("per signal:", dict(sorted(per.items())))
    print("per placement:", dict(collections.Counter(r["kind"] for r in rows if r["reason"] != taxonomy.NONE)))
    print("most side-predictive tokens (log-odds refusal vs engaged, refusal count, engaged count):")
    for w, lo, a, b in separating_tokens(rows, args.top):
        print(f"  {w:16}{lo:+.2f}{a:>6}{b:>6}")
    if args.write:
        tmp = out.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        tmp.replace(out)
        print(f"wrote {len(rows)} rows to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
