#!/usr/bin/env python
"""Join two independent annotators' labels of real mail, measure agreement, keep what holds.

    python scripts/adjudicate.py ITEMS.json LABELS_DIR [--third-out DISAGREE.txt] [--write]

``ITEMS.json`` maps each annotation id to its message (``message_id``, ``text``, ``split``,
``picked_by``); ``LABELS_DIR`` holds the annotators' files ``<batch>_r1.jsonl``,
``<batch>_r2.jsonl`` and, for a third reading of disagreements, ``<batch>_r3.jsonl``. A label is
kept when the two readers agree on the reason and the signal's reason, or when a third reader
agrees with one of them; everything else is dropped. The signal kept is the agreeing readers'
when they agree, else the first reader's among the agreeing ones.

With ``--write``, writes ``data/real-test.jsonl``, ``data/real-dev.jsonl`` and
``data/corpus/enron_pool.jsonl`` (the train split), keeping the rows of earlier rounds, and prints
Cohen's kappa per split (of this round's readings). With ``--held-back ROUND`` as well, only this
round's test rows join ``data/real-test.jsonl``; its dev and train rows are written to
``data/held-back/real-dev_ROUND.jsonl`` and ``data/held-back/enron_pool_ROUND.jsonl``, kept out of
the default training and tuning data. Either way a test row that repeats another test row or a
text that is or may be trained on (the corpus, the held-back files) is left out and listed.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.files import atomic_write_text  # noqa: E402
from negclass.model import taxonomy  # noqa: E402
from negclass.training import dataset  # noqa: E402

OUT = {"test": ROOT / "data" / "real-test.jsonl", "dev": ROOT / "data" / "real-dev.jsonl",
       "train": ROOT / "data" / "corpus" / "enron_pool.jsonl"}


def read_labels(folder: Path) -> dict[str, dict[str, dict]]:
    """reader ('r1', 'r2', 'r3') -> id -> label row; unparseable lines are reported and skipped."""
    out: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for path in sorted(folder.glob("*_r[123].jsonl")):
        reader = path.stem.rsplit("_", 1)[1]
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                print(f"{path.name}:{n}: not JSON, skipped", file=sys.stderr)
                continue
            reason = row.get("reason")
            if reason not in taxonomy.reasons():
                print(f"{path.name}:{n}: unknown reason {reason!r}, skipped", file=sys.stderr)
                continue
            signal = row.get("signal") or ""
            if reason == taxonomy.NONE or signal not in taxonomy.signals(reason):
                signal = ""
            out[reader][str(row["id"])] = {"reason": reason, "signal": signal, "kind": row.get("kind") or "",
                                           "note": row.get("note") or ""}
    return out


def decide(labels: dict, i: str):
    """(reason, signal, kind, how) of item ``i``, or None when it is dropped or not read twice."""
    a, b = labels["r1"].get(i), labels["r2"].get(i)
    if a is None or b is None:
        return None
    if a["reason"] == b["reason"]:
        signal = a["signal"] if a["signal"] == b["signal"] else (a["signal"] or b["signal"])
        return a["reason"], signal, a["kind"] or b["kind"], "agreed"
    c = labels["r3"].get(i)
    if c is None:
        return "?"
    for x in (a, b):
        if x["reason"] == c["reason"]:
            signal = x["signal"] if x["signal"] == c["signal"] else (c["signal"] or x["signal"])
            return x["reason"], signal, c["kind"] or x["kind"], "third reading"
    return None


def row_id(message_id: str) -> str:
    return "pool-" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:12]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("items", type=Path)
    ap.add_argument("labels", type=Path)
    ap.add_argument("--third-out", type=Path, help="write the disagreements to read a third time, as a batch file")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--held-back", metavar="ROUND", help="this round's dev and train rows go to data/held-back/")
    args = ap.parse_args()
    items = json.loads(args.items.read_text("utf-8"))
    labels = read_labels(args.labels)
    both = [i for i in items if i in labels["r1"] and i in labels["r2"]]
    print(f"{len(items)} items, {len(both)} read by two annotators")
    per_split = collections.defaultdict(list)
    for i in both:
        per_split[items[i]["split"]].append(i)
    per_split["all"] = both
    for split, ids in sorted(per_split.items()):
        if not ids:
            continue
        r1 = [labels["r1"][i]["reason"] for i in ids]
        r2 = [labels["r2"][i]["reason"] for i in ids]
        agree = sum(x == y for x, y in zip(r1, r2)) / len(ids)
        bin1 = [x != taxonomy.NONE for x in r1]
        bin2 = [x != taxonomy.NONE for x in r2]
        print(f"{split:6} n={len(ids):5}  reason agreement {agree:.3f}  kappa(reason) "
              f"{cohen_kappa_score(r1, r2):.3f}  kappa(refusal or not) {cohen_kappa_score(bin1, bin2):.3f}  "
              f"refusals r1 {sum(bin1)} r2 {sum(bin2)}")
    pending = [i for i in both if decide(labels, i) == "?"]
    if args.third_out:
        with open(args.third_out, "w", encoding="utf-8") as f:
            for i in pending:
                f.write(f"=== id: {i} ===\n\n{items[i]['text'][:4000]}\n\n")
        print(f"{len(pending)} disagreements written to {args.third_out}")
    kept = collections.defaultdict(list)
    how = collections.Counter()
    for i in both:
        d = decide(labels, i)
        if d is None or d == "?":
            how["dropped" if d is None else "awaiting a third reading"] += 1
            continue
        reason, signal, kind, h = d
        how[h] += 1
        it = items[i]
        kept[it["split"]].append({"id": row_id(it["message_id"]), "text": it["text"], "reason": reason,
                                  "signal": signal, "channel": "email", "source": "enron-pool",
                                  "difficulty": "hard" if "pattern" in it["picked_by"] or "model_top" in it["picked_by"] else "medium",
                                  "kind": kind, "picked_by": ";".join(it["picked_by"]),
                                  "message_id": it["message_id"]})
    print("outcome:", dict(how))
    if args.held_back:
        return write_held_back(kept, args.held_back, args.write)
    # rows labelled in earlier rounds stay; a message read again takes its new label
    for split, path in OUT.items():
        if path.exists():
            new_ids = {r["message_id"] for r in kept.get(split, [])}
            earlier = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
            earlier = [r for r in earlier if r.get("source") == "enron-pool" and r["message_id"] not in new_ids]
            print(f"{split}: {len(earlier)} rows from earlier rounds kept")
            kept[split] = earlier + kept.get(split, [])
    # a short reply ("Thanks!") recurs across splits: a train row repeating a test or dev text is dropped
    held = [r["text"] for split in ("test", "dev") for r in kept.get(split, [])]
    train_rows = kept.get("train", [])
    before = len(train_rows)
    repeats = {m.a for m in dataset.similar([r["text"] for r in train_rows], held)} if train_rows and held else set()
    kept["train"] = [r for k, r in enumerate(train_rows) if k not in repeats]
    # nor may a train row repeat another train row or a text already in the corpus
    train_rows = kept["train"]
    others = [r.text for r in dataset.load(sorted(set(OUT["train"].parent.glob("*.jsonl")) - {OUT["train"]})).itertuples()]
    repeats = {m.b for m in dataset.similar([r["text"] for r in train_rows])}
    repeats |= {m.a for m in dataset.similar([r["text"] for r in train_rows], others)} if others else set()
    kept["train"] = [r for k, r in enumerate(train_rows) if k not in repeats]
    if len(train_rows) - len(kept["train"]):
        print(f"train: {len(train_rows) - len(kept['train'])} rows dropped as repeats of other train or corpus texts")
    if before - len(kept["train"]):
        print(f"train: {before - len(kept['train'])} rows dropped as repeats of test or dev texts")
    for split, rows in sorted(kept.items()):
        c = collections.Counter(r["reason"] for r in rows)
        by = collections.Counter((p, r["reason"] != taxonomy.NONE) for r in rows for p in r["picked_by"].split(";"))
        print(f"{split}: {len(rows)} kept, {dict(sorted(c.items()))}; refusals by how picked: "
              + ", ".join(f"{p} {by[(p, True)]}/{by[(p, True)] + by[(p, False)]}" for p in ("pattern", "model_top", "random", "short")))
        if args.write:
            rows.sort(key=lambda r: r["id"])
            with open(OUT[split], "w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


def _rows(paths) -> list[dict]:
    return [json.loads(line) for p in paths if p.exists() for line in p.read_text("utf-8").splitlines() if line.strip()]


def write_held_back(kept: dict, round_name: str, write: bool) -> int:
    """This round's test rows join the test set; its dev and train rows are held back."""
    held = ROOT / "data" / "held-back"
    out = {"test": OUT["test"], "dev": held / f"real-dev_{round_name}.jsonl",
           "train": held / f"enron_pool_{round_name}.jsonl"}
    # run again, the round replaces its own rows: they are not "earlier" and not repeats of themselves
    this_round = {r["message_id"] for rows in kept.values() for r in rows}
    earlier_test = [r for r in _rows([OUT["test"]]) if r["message_id"] not in this_round]
    trainable = [r["text"] for r in _rows(sorted(OUT["train"].parent.glob("*.jsonl")))
                 + _rows(sorted(set(held.glob("enron_p*.jsonl")) - {out["train"]}))]
    test = kept.get("test", [])
    drop = {m.b for m in dataset.similar([r["text"] for r in test])}
    drop |= {m.a for m in dataset.similar([r["text"] for r in test], trainable)} if test and trainable else set()
    drop |= {m.a for m in dataset.similar([r["text"] for r in test], [r["text"] for r in earlier_test])} if test else set()
    for k in sorted(drop):
        print(f"test: {test[k]['id']} left out, it repeats another test row or a trainable text")
    kept["test"] = [r for k, r in enumerate(test) if k not in drop]
    not_train = [r["text"] for r in earlier_test + kept["test"] + kept.get("dev", [])]
    train = kept.get("train", [])
    drop = {m.b for m in dataset.similar([r["text"] for r in train])}
    drop |= {m.a for m in dataset.similar([r["text"] for r in train], trainable + not_train)} if train else set()
    kept["train"] = [r for k, r in enumerate(train) if k not in drop]
    if drop:
        print(f"train: {len(drop)} rows left out as repeats of other texts")
    for split, rows in sorted(kept.items()):
        c = collections.Counter(r["reason"] for r in rows)
        print(f"{split}: {len(rows)} new rows, {dict(sorted(c.items()))} -> {out[split].relative_to(ROOT)}")
        if not write:
            continue
        rows = sorted(earlier_test + rows if split == "test" else rows, key=lambda r: r["id"])
        atomic_write_text(out[split], "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
