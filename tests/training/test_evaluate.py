import numpy as np

from negclass.training.evaluate import expected_calibration_error, format_report, reason_metrics


def test_perfect_and_wrong_predictions():
    y = ["too_strong", "too_weak", "emotions_high", "none", "none"]
    m = reason_metrics(y, y)
    assert m["macro_f1"] == 1.0 and m["accuracy"] == 1.0
    assert m["refusal_recall"] == 1.0 and m["false_alarm_rate"] == 0.0
    wrong = ["none", "none", "none", "too_strong", "too_strong"]
    m = reason_metrics(y, wrong)
    assert m["accuracy"] == 0.0 and m["refusal_recall"] == 0.0 and m["false_alarm_rate"] == 1.0
    assert m["confusion_matrix"]["matrix"][3] == [2, 0, 0, 0]


def test_signal_accuracy_counts_rows_with_a_true_signal():
    m = reason_metrics(["too_strong", "none"], ["too_strong", "none"], signals_true=["price_only", None],
                       signals_pred=["strong_batna", None])
    assert m["signal_accuracy"] == 0.0
    m = reason_metrics(["too_strong", "none", "none"], ["too_strong", "none", "none"],
                       signals_true=["price_only", float("nan"), None], signals_pred=["price_only", None, None])
    assert m["signal_accuracy"] == 1.0  # rows without a true signal are not counted


def test_ece_is_zero_when_confidence_matches_accuracy():
    classes = ["a", "b"]
    proba = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(proba, ["a", "b"], classes) == 0.0
    assert expected_calibration_error(proba, ["b", "a"], classes) == 1.0


def test_report_is_readable():
    text = format_report(reason_metrics(["none", "too_weak"], ["none", "none"]), "title")
    assert "macro-F1" in text and "too_weak" in text and text.startswith("title")


def test_refusal_reliability_bins_and_error():
    from negclass.training.evaluate import refusal_reliability

    ece, curve = refusal_reliability([0.05, 0.05, 0.95, 0.95], [False, False, True, True])
    assert ece < 0.06 and [b["n"] for b in curve] == [2, 2]
    ece, _ = refusal_reliability([0.95, 0.95], [False, False])
    assert ece > 0.9
