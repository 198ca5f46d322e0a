"""scripts/adjudicate.py: agreement decides what is kept; a held-back round places its rows once."""
import json

import pytest

from tests.conftest import load_script


@pytest.fixture
def adjudicate(tmp_path, monkeypatch):
    mod = load_script("adjudicate")
    (tmp_path / "data" / "corpus").mkdir(parents=True)
    (tmp_path / "data" / "held-back").mkdir()
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    monkeypatch.setattr(mod, "OUT", {"test": tmp_path / "data" / "real-test.jsonl",
                                     "dev": tmp_path / "data" / "real-dev.jsonl",
                                     "train": tmp_path / "data" / "corpus" / "enron_pool.jsonl"})
    return mod


def _row(mid, text, reason="none", signal=""):
    return {"id": "pool-" + mid, "text": text, "reason": reason, "signal": signal, "channel": "email",
            "source": "enron-pool", "difficulty": "medium", "kind": "business", "picked_by": "screen",
            "message_id": mid}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def _read(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_decide_keeps_agreement_and_a_third_reading_that_sides_with_one():
    mod = load_script("adjudicate")
    ts = {"reason": "too_strong", "signal": "strong_batna", "kind": "business", "note": ""}
    none = {"reason": "none", "signal": "", "kind": "business", "note": ""}
    labels = {"r1": {"a": ts, "b": ts, "c": ts, "d": ts}, "r2": {"a": ts, "b": none, "c": none, "d": none},
              "r3": {"b": none, "c": {**none, "reason": "too_weak"}}}
    assert mod.decide(labels, "a")[:2] == ("too_strong", "strong_batna")
    assert mod.decide(labels, "b")[0] == "none" and mod.decide(labels, "b")[3] == "third reading"
    assert mod.decide(labels, "c") is None          # the third reader agrees with neither: dropped
    assert mod.decide(labels, "d") == "?"           # awaiting a third reading
    assert mod.decide(labels, "e") is None          # not read twice


def test_held_back_round_places_rows_and_runs_again_to_the_same_files(adjudicate, tmp_path):
    trained = "Please find the revised gas schedule for March attached, with the new volumes."
    _write(tmp_path / "data" / "corpus" / "written.jsonl", [_row("c1", trained)])
    _write(adjudicate.OUT["test"], [_row("old", "An earlier round's test message about the pipeline meeting.")])
    kept = {"test": [_row("t1", "We have decided not to go ahead with your proposal, thanks.", "too_strong", "strong_batna"),
                     _row("t2", trained)],  # repeats a text that is trained on: left out of the test set
            "dev": [_row("d1", "Lunch on Friday works for me, see you at noon.")],
            "train": [_row("r1", "The position has been filled, so we will not move forward with him.",
                           "too_strong", "strong_batna")]}
    adjudicate.write_held_back({k: list(v) for k, v in kept.items()}, "roundX", True)
    held = tmp_path / "data" / "held-back"
    test = _read(adjudicate.OUT["test"])
    assert {r["message_id"] for r in test} == {"old", "t1"}
    assert [r["message_id"] for r in _read(held / "real-dev_roundX.jsonl")] == ["d1"]
    assert [r["message_id"] for r in _read(held / "enron_pool_roundX.jsonl")] == ["r1"]
    before = {p.name: p.read_text("utf-8") for p in [adjudicate.OUT["test"], *held.iterdir()]}
    # run again: the round's own rows are neither earlier test rows nor repeats of themselves
    adjudicate.write_held_back({k: list(v) for k, v in kept.items()}, "roundX", True)
    assert {p.name: p.read_text("utf-8") for p in [adjudicate.OUT["test"], *held.iterdir()]} == before


def test_held_back_round_without_write_changes_nothing(adjudicate, tmp_path):
    kept = {"test": [_row("t1", "No thanks, we already have a supplier for that.", "too_strong", "strong_batna")],
            "dev": [], "train": []}
    adjudicate.write_held_back(kept, "roundX", False)
    assert not adjudicate.OUT["test"].exists()
    assert not list((tmp_path / "data" / "held-back").iterdir())
