#!/usr/bin/env python
"""Pick real messages to label from a mailbox: pattern hits, the model's top ranks, a random sample.

Reads an mbox (plain or .gz), keeps the author's new words of each message, leaves out the
reserved fifth (``int(sha256(Message-ID), 16) % 5 == 0``, never labelled) and assigns every other
message to ``test``, ``dev`` or ``train`` by a second hash of its Message-ID, fixed before any
label is seen (see data/README.md). Writes one JSONL row per chosen message with the reasons it
was chosen, for annotation.

    python scripts/mine_pool.py POOL.mbox --out candidates.jsonl [--model DIR] [--top 600]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.mail import cleaning, ingest  # noqa: E402

# declining and stalling language (searched in the author's new words, lower-cased)
DECLINE = re.compile(r"\b(" + "|".join([
    r"pass(ing)? on", r"we('ll| will) pass", r"hold(ing)? off", r"not at this (time|point)", r"at this time we",
    r"wait(ing)? (for|until|till)", r"(need|have) to check with", r"check with (my|our)", r"run (it|this) by",
    r"not interested", r"no interest", r"not comfortable", r"uncomfortable", r"already (have|got|signed)",
    r"happy with (our|the) current", r"declin(e|ed|ing)", r"not in a position", r"not prepared to",
    r"unwilling", r"not willing", r"won'?t be (able|doing|signing|moving)", r"not going to", r"(don'?t|do not) want to",
    r"no need (to|for)", r"not ready", r"too busy", r"swamped", r"overwhelmed", r"(don'?t|do not|can'?t|cannot) trust",
    r"not authori[sz]ed", r"no authority", r"not my (call|decision)", r"let (them|him|her) (wait|sweat)",
    r"(don'?t|do not|not) (respond|reply|return)", r"no reason to", r"walk away", r"not worth",
    r"take it or leave it", r"final offer", r"(not|non)[- ]negotiable", r"on hold", r"put (this|it) off",
    r"not (a|our) priority", r"not the right time", r"premature", r"won'?t budge", r"(stand|hold) firm",
    r"refus(e|ed|ing)", r"reject(ed|ing)?", r"turn(ed)? (it |this )?down", r"no thanks", r"no thank you",
    r"not (do|doing) (that|this|the deal)", r"back off", r"not (sign|signing)", r"cannot agree", r"can'?t agree",
    r"no longer (interested|pursue|pursuing)", r"not pursue", r"not (move|moving) forward", r"drop (it|this)",
]) + r")\b")
DEAL = re.compile(r"\b(deal|offer|proposal|propose|contract|price|pricing|terms|negotiat\w*|agreement|rate|fee|"
                  r"counter\w*|bid|quote|settle\w*|purchase|buy|sell|transaction|term sheet|discuss\w*|meet\w*)\b")


# round 7: short declines of an offer, a pitch or an applicant (searched in new texts of at most
# 2,500 characters), and offer or hiring words with a negation (at most 1,500 characters)
SHORT_DECLINE = re.compile(
    r"\b(not interested|no interest|not at this time|at this time|we('ll| will)? pass|i('ll| will)? pass|pass on|"
    r"pass for now|declin\w*|no thanks|no thank you|not looking|not in the market|go(ing)? (with|in) (another|a different)|"
    r"other direction|not (a|the right) fit|happy with (our|my|the) current|already (have|using|use|signed|committed)|"
    r"filled the position|not (be )?(pursu|mov|proceed)\w*|not (going|able) to (proceed|move forward|pursue|participate|accept)|"
    r"unfortunately|regret|not prepared|no need|won'?t be|unable to (accept|proceed|participate|offer))\b")
OFFER_WORDS = re.compile(
    r"\b(candidate|resume|r[eé]sum[eé]|applicant|application|position|opening|interview\w*|recruit\w*|hire|hiring|job|"
    r"offer|proposal|vendor|services|product|solution|opportunit\w+|sponsor\w*|partnership|bid|rfp)\b")
NEGATION = re.compile(r"\b(not|no|unfortunately|regret|decided|filled|pass|declin\w+|without|other (candidates|direction|route)|"
                      r"doesn'?t|don'?t|won'?t|can'?t|cannot|isn'?t)\b")


def reserved(message_id: str) -> bool:
    return int(hashlib.sha256(message_id.strip().encode("utf-8")).hexdigest(), 16) % 5 == 0


def split_of(message_id: str) -> str:
    """test 45%, dev 20%, train 35%, by a hash independent of the reserve rule."""
    h = int(hashlib.sha256(("split:" + message_id.strip()).encode("utf-8")).hexdigest(), 16) % 20
    return "test" if h < 9 else "dev" if h < 13 else "train"


def read_new_texts(path: Path):
    """(message_id, subject, new text) of each readable, non-reserved message."""
    with tempfile.TemporaryDirectory() as tmp:
        if path.suffix == ".gz":
            plain = Path(tmp) / "pool.mbox"
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            path = plain
        for msg in ingest.read([path]):
            if msg.error or not msg.text or reserved(msg.id):
                continue
            text = cleaning.clean(msg.text, html=msg.html).text
            if text:
                yield msg.id, msg.subject or "", text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mbox", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", type=Path, help="model whose top-ranked messages are added (default model if omitted)")
    ap.add_argument("--top", type=int, default=600, help="how many of the model's top-ranked messages")
    ap.add_argument("--patterns", type=int, default=1400, help="how many pattern hits at most")
    ap.add_argument("--random", type=int, default=600, help="size of the random sample")
    ap.add_argument("--short", type=int, default=300, help="short replies (at most 8 words) in a sample of their own")
    ap.add_argument("--max-chars", type=int, default=4000, help="longer new texts are left out of the pattern sample")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="JSONL files whose message_id rows are skipped")
    ap.add_argument("--declines", action="store_true",
                    help="also pick every short decline (SHORT_DECLINE) and offer words with a negation (OFFER_WORDS)")
    args = ap.parse_args()

    skip = set()
    for f in args.exclude:
        for line in open(f, encoding="utf-8"):
            row = json.loads(line)
            skip.add(row.get("message_id") or row.get("id"))
    rows, seen = [], set()
    for mid, subject, text in read_new_texts(args.mbox):
        key = cleaning._tidy(text).lower()
        if mid in skip or key in seen:
            continue
        seen.add(key)
        rows.append({"message_id": mid, "subject": subject, "text": text, "split": split_of(mid)})
    print(f"{len(rows)} distinct readable messages outside the reserve", file=sys.stderr)

    rng = random.Random(args.seed)
    chosen: dict[str, set] = {}
    hits = []
    for i, r in enumerate(rows):
        low = r["text"].lower()
        n = len(DECLINE.findall(low))
        if n and DEAL.search(low) and len(r["text"]) <= args.max_chars:
            hits.append((n, rng.random(), i))
    print(f"{len(hits)} pattern hits", file=sys.stderr)
    hits.sort(reverse=True)
    for _, _, i in hits[: args.patterns]:
        chosen.setdefault(i, set()).add("pattern")
    for i in rng.sample(range(len(rows)), min(args.random, len(rows))):
        chosen.setdefault(i, set()).add("random")
    if args.declines:
        for i, r in enumerate(rows):
            low = r["text"].lower()
            if 20 <= len(low) <= 2500 and SHORT_DECLINE.search(low):
                chosen.setdefault(i, set()).add("short_decline")
            elif 40 <= len(low) <= 1500 and OFFER_WORDS.search(low) and NEGATION.search(low):
                chosen.setdefault(i, set()).add("offer_words")
    short = [i for i, r in enumerate(rows) if len(r["text"].split()) <= 8]
    for i in rng.sample(short, min(args.short, len(short))):
        chosen.setdefault(i, set()).add("short")
    if args.top:
        import negclass

        model = negclass.load_model(args.model)
        results = model.classify_many([r["text"] for r in rows], explain=False)
        score = [(1.0 - r.probabilities.get("none", 1.0)) if r.error is None else -1 for r in results]
        for i in sorted(range(len(rows)), key=lambda i: -score[i])[: args.top]:
            chosen.setdefault(i, set()).add("model_top")
    with open(args.out, "w", encoding="utf-8") as out:
        for i in sorted(chosen):
            out.write(json.dumps({**rows[i], "picked_by": sorted(chosen[i])}, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} messages written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
