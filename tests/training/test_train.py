import json

import numpy as np
import pytest

from negclass.model import store
from negclass.model.estimator import ReasonSignalClassifier
from negclass.training.train import (Corpus, TrainConfig, _choose_low_confidence, _choose_refusal_threshold, _labelled_texts,
                            read_split, train)
from tests.conftest import ROOT


def test_refusal_threshold_respects_the_real_mail_false_alarm_cap():
    y = np.array(["none"] * 10 + ["too_strong"] * 10, dtype=object)
    p_refusal = np.r_[np.linspace(0.05, 0.7, 10), np.linspace(0.5, 0.95, 10)]
    proba = np.c_[p_refusal, np.zeros(20), np.zeros(20), 1 - p_refusal]
    clf = ReasonSignalClassifier()
    clf.classes_ = np.array(["too_strong", "too_weak", "emotions_high", "none"], dtype=object)
    is_real = np.r_[np.ones(10, bool), np.zeros(10, bool)]
    t = _choose_refusal_threshold(proba, y, is_real, TrainConfig(max_real_false_alarm=0.0), clf)
    assert t > 0.7  # no real none may be flagged
    clf.refusal_threshold = t
    assert (clf.decide(proba)[:10] == "none").all()


def test_low_confidence_thresholds_reach_the_target_accuracy():
    rng = np.random.default_rng(0)
    n = 400
    conf = rng.uniform(0.3, 1.0, n)
    correct = rng.uniform(size=n) < conf  # higher confidence, more often right
    proba = np.c_[conf, 1 - conf, np.zeros(n), np.zeros(n)]
    classes = np.array(["too_strong", "too_weak", "emotions_high", "none"], dtype=object)
    pred = np.array(["too_strong"] * n, dtype=object)
    y = np.where(correct, "too_strong", "too_weak").astype(object)
    lc = _choose_low_confidence(proba, y, pred, TrainConfig(low_confidence_accuracy=0.9), classes)
    keep = (conf >= lc["min_confidence"]) & (np.abs(2 * conf - 1) >= lc["min_margin"])
    assert correct[keep].mean() >= 0.9
    assert 0 < lc["coverage"] < 1


@pytest.mark.slow
def test_retraining_from_data_reproduces_the_shipped_model(tmp_path):
    shipped = store.shipped_model_dir()
    expected = json.loads((shipped / "metrics.json").read_text())
    meta = json.loads((shipped / "meta.json").read_text())
    result = train(None, tmp_path / "again", corpus=Corpus(ROOT), progress=lambda m: None)
    assert result.meta["data"]["fingerprint"] == meta["data"]["fingerprint"]
    assert result.meta["selected"] == meta["selected"]
    assert result.meta["refusal_threshold"] == meta["refusal_threshold"]
    assert result.metrics["heldout"]["model"]["macro_f1"] == pytest.approx(expected["heldout"]["model"]["macro_f1"])
    assert result.metrics["cross_validation"]["macro_f1"] == pytest.approx(expected["cross_validation"]["macro_f1"])


def test_the_shipped_model_scores_its_recorded_figures_and_beats_both_baselines_on_the_heldout_split():
    from negclass.training import dataset
    from negclass.training.baselines import KeywordRuleBaseline
    from negclass.training.evaluate import reason_metrics
    from negclass.training.retrain import measure

    corpus = Corpus(ROOT)
    frame = dataset.load(corpus.files)
    split = read_split(corpus.split)
    is_test = frame["id"].map(lambda i: split.get(i) == "test")
    heldout, training = frame[is_test].reset_index(drop=True), frame[~is_test]
    recorded = json.loads((store.shipped_model_dir() / "metrics.json").read_text())["heldout"]
    model, _ = measure(store.shipped_model_dir(), heldout)       # the shipped model, run now
    assert model["n"] == recorded["model"]["n"] == len(heldout)
    assert model["macro_f1"] == pytest.approx(recorded["model"]["macro_f1"], abs=1e-9)
    truth = heldout["reason"].to_numpy(dtype=object)
    texts = _labelled_texts(heldout["text"])                     # the baselines read the cleaned text, as in training
    majority = reason_metrics(truth, [training["reason"].value_counts().idxmax()] * len(heldout))
    keywords = reason_metrics(truth, KeywordRuleBaseline().fit(texts).predict(texts))
    assert majority["macro_f1"] == pytest.approx(recorded["majority"]["macro_f1"], abs=1e-9)
    assert keywords["macro_f1"] == pytest.approx(recorded["keyword_rules"]["macro_f1"], abs=1e-9)
    assert model["macro_f1"] >= majority["macro_f1"] + 0.3
    assert model["macro_f1"] >= keywords["macro_f1"] + 0.2


def test_selection_prefers_stance_features_on_a_near_tie():
    from negclass.training.train import _select

    base = {"C": 1.0, "signal_mode": "joint", "cv_signal_accuracy": 0.9}
    rows = [{**base, "use_chars": True, "cv_macro_f1": 0.903},
            {**base, "use_chars": False, "cv_macro_f1": 0.900},
            {**base, "use_chars": False, "cv_macro_f1": 0.880}]
    assert _select(rows, 0.005) is rows[1]
    assert _select(rows, 0.0) is rows[0]


def test_selection_prefers_the_simplest_model_on_a_near_tie():
    from negclass.training.train import _select

    rows = [{"use_chars": False, "C": 3.0, "signal_mode": "two_stage", "cv_macro_f1": 0.804, "cv_signal_accuracy": 0.93},
            {"use_chars": False, "C": 1.0, "signal_mode": "two_stage", "cv_macro_f1": 0.801, "cv_signal_accuracy": 0.93},
            {"use_chars": False, "C": 1.0, "signal_mode": "joint", "cv_macro_f1": 0.800, "cv_signal_accuracy": 0.94},
            {"use_chars": False, "C": 0.3, "signal_mode": "joint", "cv_macro_f1": 0.790, "cv_signal_accuracy": 0.94}]
    assert _select(rows, 0.005) is rows[2]   # smallest C within the tolerance, then one model over two
    assert _select(rows, 0.0) is rows[0]     # no tolerance: the best CV macro-F1
    assert _select(rows, 0.02) is rows[3]


@pytest.mark.slow
def test_large_training_sets_get_the_cut_search_and_the_card_says_so(tmp_path):
    cfg = TrainConfig(linear_grid=(("svm", 1.0),), signal_modes=("joint",), large_data_rows=100, large_data_folds=2)
    messages = []
    result = train(None, tmp_path / "big", corpus=Corpus(ROOT), config=cfg, progress=messages.append)
    assert result.meta["search"] == {"folds": 2, "use_chars": [False], "candidates": 1}
    assert [s["use_chars"] for s in result.metrics["selection"]] == [False]
    assert any("2-fold search" in m for m in messages)
    card = (tmp_path / "big" / "MODEL_CARD.md").read_text()
    assert "the search used 2 folds and left out character n-grams" in card


def test_real_mail_tuning_sets_calibration_and_threshold(tmp_path):
    import joblib

    from tests.conftest import FIXTURES

    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2, tune_false_alarm=0.2, tune_min_per_class=3, tune_recalibrate=True)
    res = train([FIXTURES / "labelled.jsonl"], tmp_path / "m", split_file=None, config=cfg, name="t",
                progress=lambda m: None, tune_files=[FIXTURES / "tune.jsonl"])
    tuning = res.metrics["tuning"]
    assert res.meta["refusal_threshold"] == tuning["refusal_threshold"]
    assert tuning["examples"] == 16 and tuning["refusals"] == 6
    assert tuning["false_alarm_rate"] <= 0.2
    clf = joblib.load(tmp_path / "m" / "pipeline.joblib").named_steps["read"].clf
    assert clf.refusal_scale_ is not None and clf.refusal_threshold == tuning["refusal_threshold"]
    assert "real_dev" in res.metrics


def test_too_few_real_refusals_are_not_recalibrated_on(tmp_path):
    from tests.conftest import FIXTURES

    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2, tune_false_alarm=0.2, tune_min_per_class=7, tune_recalibrate=True)
    res = train([FIXTURES / "labelled.jsonl"], tmp_path / "m", split_file=None, config=cfg, name="t",
                progress=lambda m: None, tune_files=[FIXTURES / "tune.jsonl"])
    assert res.metrics["tuning"]["refusals"] == 6 and res.metrics["tuning"]["refusal_scale"] is None


def test_real_tuning_keeps_the_probability_scale_unless_asked(tmp_path):
    from tests.conftest import FIXTURES

    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2, tune_false_alarm=0.2, tune_min_per_class=3)
    res = train([FIXTURES / "labelled.jsonl"], tmp_path / "m", split_file=None, config=cfg, name="t",
                progress=lambda m: None, tune_files=[FIXTURES / "tune.jsonl"])
    tuning = res.metrics["tuning"]
    assert tuning["refusals"] == 6 and tuning["refusal_scale"] is None
    assert res.meta["refusal_threshold"] == tuning["refusal_threshold"] and tuning["false_alarm_rate"] <= 0.2


def test_real_tuning_without_refusals_caps_false_alarms(tmp_path):
    import json

    import joblib

    import negclass
    from tests.conftest import FIXTURES

    negatives = [json.loads(line) for line in (FIXTURES / "tune.jsonl").read_text().splitlines()
                 if line.strip() and json.loads(line)["reason"] == "none"]
    tune = tmp_path / "tune-none.jsonl"
    tune.write_text("".join(json.dumps(r) + "\n" for r in negatives))
    cap = 0.25
    cfg = TrainConfig(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,),
                      calibration_folds=2, tune_false_alarm=cap, tune_min_negatives=len(negatives))
    res = train([FIXTURES / "labelled.jsonl"], tmp_path / "m", split_file=None, config=cfg, name="t",
                progress=lambda m: None, tune_files=[tune])
    tuning = res.metrics["tuning"]
    assert tuning["refusals"] == 0 and tuning["refusal_scale"] is None
    assert res.meta["refusal_threshold"] == tuning["refusal_threshold"]
    # the threshold is the lowest on the grid that keeps the false alarms within the cap
    clf = joblib.load(tmp_path / "m" / "pipeline.joblib").named_steps["read"].clf
    assert clf.refusal_threshold == tuning["refusal_threshold"]
    p_ref = np.array([1.0 - r.probabilities["none"] for r in
                      negclass.load_model(tmp_path / "m").classify_many([r["text"] for r in negatives], explain=False)])
    t = tuning["refusal_threshold"]
    assert (p_ref >= t).mean() <= cap
    assert t <= cfg.tune_min_threshold + 1e-9 or (p_ref >= round(t - 0.01, 3)).mean() > cap


QUICK = dict(cv_folds=2, linear_grid=(("svm", 1.0),), signal_modes=("joint",), use_chars=(False,), calibration_folds=2)


def test_without_out_dir_the_model_is_registered_and_the_package_is_not_written(tmp_path, monkeypatch):
    from negclass.errors import NegclassError
    from negclass.model import registry
    from tests.conftest import FIXTURES

    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path))
    shipped = store.shipped_model_dir()
    before = {p.name: store.sha256_file(p) for p in shipped.iterdir()}
    res = train([FIXTURES / "labelled.jsonl"], config=TrainConfig(**QUICK), name="mine", progress=lambda m: None)
    assert res.out_dir == registry.models_dir() / "mine" and res.meta["name"] == "mine"
    assert registry.check(res.out_dir)["name"] == "mine"
    assert {p.name: store.sha256_file(p) for p in shipped.iterdir()} == before
    assert registry.default_name() == registry.SHIPPED   # registered beside the others, not made the default
    with pytest.raises(NegclassError, match="a model named 'mine' already exists"):
        train([FIXTURES / "labelled.jsonl"], config=TrainConfig(**QUICK), name="mine", progress=lambda m: None)
    with pytest.raises(NegclassError, match="nothing to train on"):
        train(None, tmp_path / "x", progress=lambda m: None)   # no files and no corpus


def test_training_data_without_every_reason_is_refused(tmp_path):
    from negclass.errors import NegclassError
    from tests.conftest import FIXTURES

    rows = [line for line in (FIXTURES / "labelled.jsonl").read_text().splitlines()
            if line.strip() and json.loads(line)["reason"] != "too_weak"]
    data = tmp_path / "no-too-weak.jsonl"
    data.write_text("\n".join(rows) + "\n")
    with pytest.raises(NegclassError, match="no example of too_weak"):
        train([data], tmp_path / "m", split_file=None, config=TrainConfig(**QUICK), progress=lambda m: None)
    assert not (tmp_path / "m").exists()


def test_the_search_selects_on_pooled_out_of_fold_counts():
    from negclass.training.evaluate import reason_metrics
    from negclass.training.train import _pooled, _tolerant_best

    rng = np.random.default_rng(1)
    reasons = np.array(["too_strong", "too_weak", "emotions_high", "none"], dtype=object)
    candidates = [(("svm", 1.0), "joint", False), (("svm", 3.0), "joint", False)]
    results = {"params": [{"clf__linear": "svm", "clf__C": c, "clf__signal_mode": "joint"} for c in (1.0, 3.0)]}
    pooled = []
    for index in range(2):
        truth, pred = [], []
        for k in range(3):  # three folds of different sizes
            t, p = rng.choice(reasons, 40 + 10 * k), rng.choice(reasons, 40 + 10 * k)
            t[: 20 + 5 * index] = p[: 20 + 5 * index]  # the second candidate is right more often
            truth.append(t)
            pred.append(p)
            for i, a in enumerate(reasons):
                for j, b in enumerate(reasons):
                    results.setdefault(f"split{k}_test_cm_{i}_{j}", [0, 0])[index] = float(((t == a) & (p == b)).sum())
            results.setdefault(f"split{k}_test_signal_rows", [0, 0])[index] = 10.0
            results.setdefault(f"split{k}_test_signal_right", [0, 0])[index] = float(7 + index)
        pooled.append(reason_metrics(np.concatenate(truth), np.concatenate(pred))["macro_f1"])
    for index in range(2):
        assert _pooled(results, index, 3) == (pooled[index], (7 + index) / 10)
    assert pooled[1] > pooled[0]
    assert _tolerant_best(0.0, candidates, 3)(results) == 1
    assert _tolerant_best(1.0, candidates, 3)(results) == 0   # a tie within the tolerance: the smaller C
