#!/usr/bin/env python
"""Flag likely label errors in data/corpus with out-of-fold probabilities (confident learning).

Each example gets an out-of-fold probability for every reason (5-fold, the default model's
selected settings). Per class, the threshold is the mean probability the model gives that class
on examples labelled with it. An example is flagged when another class reaches its own threshold
and beats the given label. Flagged rows go to data/audit/flagged.csv for review; decisions are
kept in data/audit/review.csv (id, decision: fixed|kept, note).

    python scripts/audit_labels.py
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.model import registry, taxonomy  # noqa: E402
from negclass.model.estimator import ReasonSignalClassifier, join_labels  # noqa: E402
from negclass.model.features import LinguisticParser, build_features  # noqa: E402
from negclass.model.pipeline import MailCleaner  # noqa: E402
from negclass.training import dataset  # noqa: E402
from negclass.training.train import Corpus  # noqa: E402

OUT = ROOT / "data" / "audit" / "flagged.csv"


def main() -> int:
    frame = dataset.load(Corpus(ROOT).files)
    sel = json.loads((registry.default_model_dir() / "meta.json").read_text())["selected"]
    # the labelled texts as training reads them (the cleaning step of the pipeline, fitted)
    parsed = LinguisticParser().fit(None).transform(MailCleaner().fit_transform(frame["text"].tolist()))
    y = frame["reason"].to_numpy(object)
    labels = join_labels(y, frame["signal"])
    classes = taxonomy.reasons()
    oof = np.zeros((len(y), len(classes)))
    for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(parsed, y):
        feats = build_features(use_chars=sel["use_chars"])
        Xa = feats.fit_transform([parsed[i] for i in a])
        clf = ReasonSignalClassifier(sel["linear"], sel["C"], sel["signal_mode"]).fit(Xa, labels[a])
        oof[b] = clf.predict_proba(feats.transform([parsed[i] for i in b]))
    given = np.array([classes.index(r) for r in y])
    thresholds = np.array([oof[given == k, k].mean() for k in range(len(classes))])
    flagged = []
    for i in range(len(y)):
        above = [k for k in range(len(classes)) if k != given[i] and oof[i, k] >= thresholds[k] and oof[i, k] > oof[i, given[i]]]
        if above:
            k = max(above, key=lambda j: oof[i, j])
            flagged.append((i, k))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "file", "line", "given", "suggested", "p_given", "p_suggested"])
        for i, k in sorted(flagged, key=lambda f: oof[f[0], given[f[0]]]):
            w.writerow([frame["id"][i], Path(frame["file"][i]).name, frame["line"][i], y[i], classes[k],
                        f"{oof[i, given[i]]:.3f}", f"{oof[i, k]:.3f}"])
    print(f"{len(flagged)} of {len(y)} examples flagged -> {OUT}")
    print("class thresholds: " + ", ".join(f"{c} {t:.2f}" for c, t in zip(classes, thresholds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
