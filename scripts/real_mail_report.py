#!/usr/bin/env python
"""The figures a model is judged by on real mail, in one table.

For each labelled set: refusal recall, false alarms, reason accuracy on the refusals found,
ranking AUC of P(refusal), recall at the P(refusal) that flags 8% of the non-refusals (what the
ranking allows at the false-alarm target), macro-F1, top-label ECE and the calibration error of
P(refusal). Then the share flagged among the real messages with nothing to refuse (one-liners,
jokes and chain letters, news and newsletters, personal mail, automatic notices) of the real test
and dev sets.

    python scripts/real_mail_report.py [--model DIR] [--json] [--dev-only]
    python scripts/real_mail_report.py --record    # after the test set grows: its figures into the card
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import negclass  # noqa: E402
from negclass.model import store, taxonomy  # noqa: E402
from negclass.model.pipeline import MailCleaner  # noqa: E402
from negclass.training.baselines import KeywordRuleBaseline  # noqa: E402
from negclass.training import dataset  # noqa: E402
from negclass.training.evaluate import metrics_of_results, reason_metrics  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TEST, DEV = "real test (data/real-test.jsonl)", "real dev (data/real-dev.jsonl)"
SETS = {TEST: [ROOT / "data" / "real-test.jsonl"],
        DEV: [ROOT / "data" / "real-dev.jsonl"],
        "real-devset.jsonl (shared)": [SHARED / "real-devset.jsonl"],
        "devset.jsonl (written by others)": [SHARED / "devset.jsonl"]}
CONTENTLESS_SETS = (TEST, DEV)  # where the share of flagged messages with nothing to refuse is counted
CONTENTLESS = {"one_liner", "joke_chain", "news_newsletter", "personal", "auto"}


def recall_at_false_alarms(p_ref: np.ndarray, is_ref: np.ndarray, rate: float) -> float | None:
    """Share of the refusals scored above the highest threshold that flags at most ``rate`` of the non-refusals."""
    negatives = np.sort(p_ref[~is_ref])[::-1]
    if not is_ref.any() or not len(negatives):
        return None
    k = int(np.floor(rate * len(negatives)))  # this many non-refusals may lie above the threshold
    threshold = negatives[k] if k < len(negatives) else -np.inf
    return float((p_ref[is_ref] > threshold).mean())


def measure(frame, results) -> dict:
    """The figures of one labelled set from the model's ``results`` on its texts."""
    y = frame["reason"].to_numpy(dtype=object)
    m = metrics_of_results(y, frame["signal"].tolist(), results)
    p_ref = np.array([1.0 - r.probabilities.get(taxonomy.NONE, 1.0) if not r.error else 0.0 for r in results])
    is_ref = y != taxonomy.NONE
    m["auc"] = float(roc_auc_score(is_ref, p_ref)) if 0 < is_ref.sum() < len(y) else None
    m["recall_at_8pct_false_alarms"] = recall_at_false_alarms(p_ref, is_ref, 0.08)
    m["flagged"] = [r.reason != taxonomy.NONE and not r.error for r in results]
    return m


def record_test(model_dir: Path, frame, results, key: str) -> None:
    """The test set's block of the model's metrics, measured as training measures it (the model's
    ``results`` against the majority class and the keyword rules), written with its card."""
    y = frame["reason"].to_numpy(dtype=object)
    texts = MailCleaner().as_labelled(frame["text"].tolist())
    store.add_metrics(model_dir, key, {
        "model": metrics_of_results(y, frame["signal"].tolist(), results),
        "majority": reason_metrics(y, np.full(len(y), taxonomy.NONE, dtype=object)),
        "keyword_rules": reason_metrics(y, KeywordRuleBaseline().fit(texts).predict(texts))})
    print(f"recorded in {model_dir}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--dev-only", action="store_true",
                    help="leave the real test set out (for comparing models that are not shipped)")
    ap.add_argument("--record", action="store_true",
                    help="write the real test set's figures into the model's metrics and card (after the "
                         "test set grows; the pipeline is not touched)")
    args = ap.parse_args()
    if args.record and args.dev_only:
        ap.error("--record measures the real test set; leave out --dev-only")
    model = negclass.load_model(args.model)
    out, empty = {}, []
    print(f"{'set':36}{'n':>5}{'ref':>5}{'recall':>8}{'f.a.':>7}{'reason|det':>11}{'AUC':>7}{'rec@8%':>8}{'macroF1':>9}"
          f"{'ECE':>7}{'refECE':>8}")
    for name, paths in SETS.items():
        if args.dev_only and name == TEST:
            continue
        paths = [p for p in paths if p.exists()]
        if not paths:
            continue
        frame = dataset.load(paths)
        results = list(model.classify_many(frame["text"].tolist(), explain=False))
        m = measure(frame, results)
        if "kind" in frame and name in CONTENTLESS_SETS:
            mask = frame["kind"].isin(CONTENTLESS).to_numpy() & (frame["reason"] == taxonomy.NONE).to_numpy()
            empty += [f for f, keep in zip(m["flagged"], mask) if keep]
        del m["flagged"]
        out[name] = m
        if args.record and name == TEST:
            record_test(args.model or store.shipped_model_dir(), frame, results, paths[0].stem)
        f = lambda v: "   —" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"{name:36}{m['n']:>5}{int((frame['reason'] != taxonomy.NONE).sum()):>5}{f(m['refusal_recall']):>8}"
              f"{f(m['false_alarm_rate']):>7}{f(m['reason_accuracy_on_detected']):>11}{f(m['auc']):>7}{f(m['recall_at_8pct_false_alarms']):>8}"
              f"{f(m['macro_f1']):>9}{f(m['ece']):>7}{f(m['refusal_ece']):>8}")
    if empty:
        out["contentless"] = {"n": len(empty), "flagged": int(sum(empty)), "share": sum(empty) / len(empty)}
        print(f"nothing to refuse ({'real dev' if args.dev_only else 'real test + dev'}: {', '.join(sorted(CONTENTLESS))}): "
              f"{sum(empty)} of {len(empty)} flagged ({sum(empty) / len(empty):.1%})")
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
