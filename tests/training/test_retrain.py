"""retrain: train on your files, compare with the current default on the same held-out rows, and
promote only a model that is not worse (or with --force); crashes leave the default alone.

Most tests replace the training run and the measurement with stand-ins, so each decision is
checked on figures chosen for it; the last ones run a real quick training."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from negclass.errors import ModelError, NegclassError
from negclass.model import registry, store, taxonomy
from negclass.training import retrain
from negclass.training.train import Corpus

from ..conftest import FIXTURES, write_split

HELDOUT = pd.DataFrame({"text": ["We have other offers.", "I can't face this.", "Not after last time.", "Lunch?"],
                        "reason": ["too_strong", "too_weak", "emotions_high", "none"],
                        "signal": ["strong_batna", "avoids_discomfort", "distrust_conflict", None]})


def figures(macro_f1: float) -> dict:
    per_class = {r: {"f1": macro_f1} for r in taxonomy.reasons()}
    return {"macro_f1": macro_f1, "accuracy": macro_f1, "per_class": per_class, "n": len(HELDOUT),
            "refusal_recall": 0.5, "false_alarm_rate": 0.25, "signal_accuracy": 1.0}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEGCLASS_MODEL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def stand_ins(monkeypatch, tiny_model_dir, home):
    """Training copies the tiny model; measuring returns the figures and predictions set per model."""
    calls = SimpleNamespace(train=[], scores={}, heldout=HELDOUT)

    def fake_train(files, out_dir, **kwargs):
        calls.train.append({"files": list(files), "out_dir": out_dir, **kwargs})
        shutil.copytree(tiny_model_dir, out_dir)
        return SimpleNamespace(heldout=calls.heldout, metrics={"heldout": {}})

    def fake_measure(model_dir, frame):
        assert frame is calls.heldout        # both models on the same rows
        result = calls.scores[Path(model_dir).name]
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(retrain, "train", fake_train)
    monkeypatch.setattr(retrain, "measure", fake_measure)
    return calls


def current_default(name: str, tiny_model_dir) -> None:
    shutil.copytree(tiny_model_dir, registry.models_dir() / name)
    registry.use(name)


def run(*files, **kwargs):
    kwargs.setdefault("progress", lambda m: None)
    return retrain.retrain(list(files) or [FIXTURES / "labelled.jsonl"], base=False, **kwargs)


def test_not_worse_compares_macro_f1_as_shown():
    assert retrain.not_worse({"macro_f1": 0.8004}, {"macro_f1": 0.8001})       # both 0.800
    assert retrain.not_worse({"macro_f1": 0.8}, {"macro_f1": 0.8})
    assert not retrain.not_worse({"macro_f1": 0.7994}, {"macro_f1": 0.8})      # 0.799 < 0.800
    assert retrain.not_worse({"macro_f1": 0.9}, {"macro_f1": 0.1})


def test_a_model_that_is_not_worse_becomes_the_default(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    truth = HELDOUT["reason"].tolist()
    stand_ins.scores = {"old": (figures(0.7502), ["none", "too_weak", "none", "none"]),
                        "new": (figures(0.7498), truth)}                      # 0.750 both: a tie counts as not worse
    o = run(name="new")
    assert o.promoted and o.name == "new" and o.out_dir == registry.models_dir() / "new"
    assert o.why == "made the default: held-out macro-F1 0.750 is not worse than 0.750 (old)"
    assert json.loads((home / registry.POINTER).read_text()) == {"default": "new", "previous": "old"}
    assert o.changed == {"predictions_changed": 2, "fixed": 2, "broken": 0}
    assert o.current_name == "old" and o.current_problem is None


def test_a_worse_model_is_kept_beside_and_the_default_stays(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    truth = HELDOUT["reason"].tolist()
    stand_ins.scores = {"old": (figures(0.8), truth), "new": (figures(0.6), ["none"] * 4)}
    before = (home / registry.POINTER).read_text()
    o = run(name="new")
    assert not o.promoted
    assert o.why.startswith("kept beside, not made the default: held-out macro-F1 0.600 is worse than 0.800 (old)")
    assert "'negclass models use new' or --force" in o.why
    assert (home / registry.POINTER).read_text() == before
    assert (registry.models_dir() / "new" / store.MANIFEST).is_file()       # still registered, can be chosen later
    assert o.changed == {"predictions_changed": 3, "fixed": 0, "broken": 3}


def test_force_promotes_a_worse_model(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    stand_ins.scores = {"old": (figures(0.8), list(HELDOUT["reason"])), "new": (figures(0.1), ["none"] * 4)}
    o = run(name="new", force=True)
    assert o.promoted and o.why == "made the default (--force)"
    assert registry.default_name() == "new"


def test_out_writes_a_standalone_model_and_registers_nothing(stand_ins, home, tiny_model_dir, tmp_path):
    current_default("old", tiny_model_dir)
    stand_ins.scores = {"old": (figures(0.1), ["none"] * 4), "alone": (figures(0.9), list(HELDOUT["reason"]))}
    before = (home / registry.POINTER).read_text()
    o = run(out=tmp_path / "alone", force=True)
    assert not o.promoted and o.name is None and o.out_dir == tmp_path / "alone"
    assert o.why == f"written to {tmp_path / 'alone'} (not registered: use it with --model {tmp_path / 'alone'})"
    assert (home / registry.POINTER).read_text() == before
    assert sorted(p.name for p in registry.models_dir().iterdir()) == ["old"]


@pytest.mark.parametrize("failure, words", [
    (ModelError("meta.json does not match its checksum"), "meta.json does not match its checksum"),
    (AttributeError("no attribute 'refusal_scale_'"), "it cannot be run by this negclass (AttributeError: "
                                                      "no attribute 'refusal_scale_'); retrain it"),
])
def test_a_default_that_cannot_be_measured_is_replaced(stand_ins, home, tiny_model_dir, failure, words):
    current_default("old", tiny_model_dir)
    stand_ins.scores = {"old": failure, "new": (figures(0.2), ["none"] * 4)}
    o = run(name="new")
    assert o.promoted and o.current is None and o.current_problem == words
    assert o.why == "made the default: the current default old cannot be compared (see above)"
    assert registry.default_name() == "new"
    assert f"current default old: {words}" in retrain.side_by_side(o)


def test_a_missing_default_is_replaced(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    shutil.rmtree(registry.models_dir() / "old")
    stand_ins.scores = {"new": (figures(0.2), ["none"] * 4)}
    o = run(name="new")
    assert o.promoted and "there is no current default model" in o.current_problem
    assert registry.default_name() == "new"


def test_without_held_out_rows_the_model_is_kept_beside(stand_ins, home, tiny_model_dir, tmp_path):
    current_default("old", tiny_model_dir)
    stand_ins.heldout = HELDOUT.iloc[:0]
    o = run(name="new", split_file=tmp_path / "split.csv")
    assert not o.promoted and o.new is None and registry.default_name() == "old"
    assert f"no held-out rows to compare on (split file {tmp_path / 'split.csv'})" in o.why
    assert "'negclass models use new' or --force" in o.why
    assert retrain.side_by_side(o) == "no held-out rows: nothing to compare"
    o = run(name="newer")
    assert "(no split file: --split FILE names one)" in o.why


def test_a_taken_name_is_refused_before_training(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    with pytest.raises(NegclassError, match=r"a model named 'old' already exists .*choose another --name"):
        run(name="old")
    with pytest.raises(NegclassError, match="bad model name"):
        run(name="../escape")
    assert stand_ins.train == []


def test_nothing_to_train_on_says_what_to_give(stand_ins, home, tmp_path):
    with pytest.raises(NegclassError, match=r"give --data FILE; the corpus \(data/corpus\) comes with a source checkout"):
        retrain.retrain([], base=True, progress=lambda m: None)
    corpus = Corpus(tmp_path / "checkout")
    with pytest.raises(NegclassError, match=r"give --data FILE \(or leave out --no-base\)"):
        retrain.retrain([], corpus=corpus, base=False, progress=lambda m: None)
    assert stand_ins.train == []


def test_files_seed_quick_and_the_corpus_reach_training(stand_ins, home, tmp_path):
    stand_ins.heldout = HELDOUT.iloc[:0]
    root = tmp_path / "checkout"
    (root / "data" / "corpus").mkdir(parents=True)
    for name in ("a.jsonl", "b.jsonl"):
        shutil.copy(FIXTURES / "labelled.jsonl", root / "data" / "corpus" / name)
    corpus = Corpus(root)
    mine = FIXTURES / "labelled.jsonl"
    messages = []
    retrain.retrain([corpus.files[0], mine], corpus=corpus, name="one", seed=7, quick=True, progress=messages.append)
    call = stand_ins.train[-1]
    assert call["files"] == [*corpus.files, mine]              # a corpus file given again is used once
    assert call["split_file"] == corpus.split and call["corpus"] is corpus and call["name"] == "one"
    assert call["config"].seed == 7 and call["config"].cv_folds == retrain.QUICK["cv_folds"]
    assert call["config"].linear_grid == retrain.QUICK["linear_grid"]
    retrain.retrain([mine], corpus=corpus, base=False, name="two", progress=messages.append)
    assert stand_ins.train[-1]["files"] == [mine] and stand_ins.train[-1]["split_file"] == corpus.split
    assert not any(retrain.NO_CORPUS in m for m in messages)
    retrain.retrain([mine], corpus=None, name="three", progress=messages.append)
    assert messages[-1] == f"{retrain.NO_CORPUS}: training on your files only"


def test_side_by_side_shows_both_models_and_what_changed(stand_ins, home, tiny_model_dir):
    current_default("old", tiny_model_dir)
    stand_ins.scores = {"old": (figures(0.5), ["none"] * 4), "new": (figures(0.75), list(HELDOUT["reason"]))}
    text = retrain.side_by_side(run(name="new"))
    lines = text.splitlines()
    assert lines[0] == f"held-out comparison on {len(HELDOUT)} rows"
    assert "old (default)" in lines[1] and lines[1].rstrip().endswith("change")
    macro = next(line for line in lines if line.strip().startswith("macro-F1")).split()
    assert macro[1:] == ["0.500", "0.750", "+0.250"]
    for r in taxonomy.reasons():
        assert any(line.strip().startswith(f"F1 {r}") for line in lines)
    assert lines[-1].strip() == "3 held-out predictions changed: 3 now right, 0 now wrong"


# -- a real training run --------------------------------------------------------------------------
@pytest.fixture
def split(tmp_path):
    write_split(tmp_path / "split.csv")
    return tmp_path / "split.csv"


@pytest.mark.slow
def test_a_real_run_measures_both_models_on_the_same_held_out_rows(home, tiny_model_dir, split):
    current_default("tiny", tiny_model_dir)
    o = run(name="mine", split_file=split, quick=True)
    assert o.new["n"] == 16 and o.current["n"] == 16
    heldout = pd.DataFrame([json.loads(line) for line in (FIXTURES / "labelled.jsonl").read_text().splitlines()])
    heldout = heldout[heldout["id"].isin(write_split(split))]
    assert retrain.measure(o.out_dir, heldout)[0]["macro_f1"] == pytest.approx(o.new["macro_f1"])
    assert retrain.measure(tiny_model_dir, heldout)[0]["macro_f1"] == pytest.approx(o.current["macro_f1"])
    assert o.promoted == retrain.not_worse(o.new, o.current)
    assert registry.default_name() == ("mine" if o.promoted else "tiny")


def test_crash_while_writing_the_model_leaves_the_default(home, tiny_model_dir, split, monkeypatch):
    current_default("good", tiny_model_dir)
    before = (home / registry.POINTER).read_text()

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("joblib.dump", crash)
    with pytest.raises(KeyboardInterrupt):
        run(name="new", split_file=split, quick=True)
    assert (home / registry.POINTER).read_text() == before
    assert [e.name for e in registry.entries() if e.name != registry.SHIPPED] == ["good"]
    assert sorted(p.name for p in registry.models_dir().iterdir()) == ["good"]   # nothing half-written left
