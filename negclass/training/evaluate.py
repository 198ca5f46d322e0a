"""Metrics for reason predictions: macro-F1, per class, confusion matrix, signals, calibration."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from ..model import taxonomy


def expected_calibration_error(proba: np.ndarray, y_true, classes, bins: int = 10) -> float:
    """Top-label ECE: mean gap between confidence and accuracy over equal-width bins."""
    proba = np.asarray(proba)
    conf = proba.max(axis=1)
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    correct = pred == np.asarray(y_true, dtype=object)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return float(ece)


def refusal_reliability(p_refusal, is_refusal, bins: int = 10) -> tuple[float, list[dict]]:
    """Calibration of P(refusal) = 1 - P(none): expected calibration error over equal-width bins,
    and the bins themselves (the reliability curve): mean predicted probability against the
    observed share of refusals."""
    p = np.asarray(p_refusal, dtype=float)
    y = np.asarray(is_refusal, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece, curve = 0.0, []
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        mask = (p >= lo) & ((p < hi) if k < bins - 1 else (p <= hi))
        if mask.any():
            ece += mask.mean() * abs(p[mask].mean() - y[mask].mean())
            curve.append({"lo": float(lo), "hi": float(hi), "n": int(mask.sum()),
                          "mean_predicted": float(p[mask].mean()), "observed": float(y[mask].mean())})
    return float(ece), curve


def reason_metrics(y_true, y_pred, proba=None, signals_true=None, signals_pred=None) -> dict:
    """All figures for one evaluation, as plain JSON-ready values."""
    labels = taxonomy.reasons()
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = [lab for lab in labels if (y_true == lab).any()]
    out = {
        "n": int(len(y_true)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, lab in enumerate(labels)},
        "confusion_matrix": {"labels": labels,
                             "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }
    is_ref_true = y_true != taxonomy.NONE
    is_ref_pred = y_pred != taxonomy.NONE
    out["refusal_recall"] = float(is_ref_pred[is_ref_true].mean()) if is_ref_true.any() else None
    out["false_alarm_rate"] = float(is_ref_pred[~is_ref_true].mean()) if (~is_ref_true).any() else None
    if signals_true is not None and signals_pred is not None:
        pairs = [(t, pr) for t, pr in zip(signals_true, signals_pred) if isinstance(t, str) and t]  # NaN/None: no signal
        out["signal_accuracy"] = float(np.mean([t == pr for t, pr in pairs])) if pairs else None
    else:
        out["signal_accuracy"] = None
    out["ece"] = expected_calibration_error(proba, y_true, labels) if proba is not None else None
    if proba is not None:
        p_ref = 1.0 - np.asarray(proba)[:, labels.index(taxonomy.NONE)]
        out["refusal_ece"], out["refusal_reliability"] = refusal_reliability(p_ref, is_ref_true)
        refusals = is_ref_true & is_ref_pred
        out["reason_accuracy_on_detected"] = (float((y_pred[refusals] == y_true[refusals]).mean())
                                              if refusals.any() else None)
    return out


def metrics_of_results(y_true, signals_true, results) -> dict:
    """``reason_metrics`` for ``Classification`` results; a result with an error counts as ``none``."""
    labels = taxonomy.reasons()
    pred = [r.reason if not r.error else taxonomy.NONE for r in results]
    proba = np.array([[r.probabilities.get(c, 0.0) for c in labels] if not r.error else
                      [float(c == taxonomy.NONE) for c in labels] for r in results])
    return reason_metrics(y_true, pred, proba, signals_true, [r.signal for r in results])


_REPORT_FIGURES = [("refusal_recall", "refusal recall"), ("false_alarm_rate", "false alarms"),
                   ("signal_accuracy", "signal accuracy"), ("ece", "ECE"), ("refusal_ece", "refusal ECE"),
                   ("reason_accuracy_on_detected", "reason accuracy on detected refusals")]


def format_report(m: dict, title: str = "") -> str:
    """Human-readable summary of ``reason_metrics`` output."""
    lines = [title] if title else []
    lines.append(f"examples {m['n']}   macro-F1 {m['macro_f1']:.3f}   accuracy {m['accuracy']:.3f}")
    extra = [f"{label} {m[key]:.3f}" for key, label in _REPORT_FIGURES if m.get(key) is not None]
    if extra:
        lines.append("   ".join(extra))
    lines.append(f"{'':15}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>6}")
    for lab, v in m["per_class"].items():
        lines.append(f"{lab:15}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}{v['support']:>6}")
    labels = m["confusion_matrix"]["labels"]
    lines.append("confusion (rows true, columns predicted): " + " ".join(labels))
    for lab, row in zip(labels, m["confusion_matrix"]["matrix"]):
        lines.append(f"  {lab:15}" + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)
