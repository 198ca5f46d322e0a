"""scripts/fold_held_back.py: held-back rounds join the dev set and the corpus, leaks left out."""
import json
import sys

import pytest

from tests.conftest import load_script


def _row(rid, text, reason="none", source="enron-pool"):
    return {"id": rid, "text": text, "reason": reason, "signal": "" if reason == "none" else "strong_batna",
            "channel": "email", "source": source, "difficulty": "medium", "message_id": "<" + rid + ">"}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def _ids(path):
    return [json.loads(line)["id"] for line in path.read_text("utf-8").splitlines()]


TEXTS = {k: f"{k} " + " ".join(f"{k}word{i}" for i in range(30)) for k in "abcdefgh"}


@pytest.fixture
def fold(tmp_path, monkeypatch):
    mod = load_script("fold_held_back")
    data, corpus, held = tmp_path / "data", tmp_path / "data" / "corpus", tmp_path / "data" / "held-back"
    corpus.mkdir(parents=True)
    held.mkdir()
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    monkeypatch.setattr(mod, "HELD", held)
    monkeypatch.setattr(mod, "DEV", data / "real-dev.jsonl")
    monkeypatch.setattr(mod, "TEST", data / "real-test.jsonl")
    monkeypatch.setattr(mod, "TARGETS", {"enron_pool_": corpus / "enron_pool.jsonl",
                                         "enron_pairs_": corpus / "enron_pairs.jsonl"})
    _write(data / "real-test.jsonl", [_row("pool-t1", TEXTS["a"])])
    _write(data / "real-dev.jsonl", [_row("pool-d1", TEXTS["b"])])
    _write(corpus / "enron_pool.jsonl", [_row("pool-c1", TEXTS["c"])])
    _write(corpus / "enron_pairs.jsonl", [_row("pair-old-r", TEXTS["h"] + " no", "too_strong", "enron-pairs"),
                                          _row("pair-old-e", TEXTS["h"] + " yes", "none", "enron-pairs")])
    # a new dev row (and one repeating the test text); a pool row repeating the test text;
    # a pair whose refusal side repeats a dev text, and the old pair repeats the new dev text
    _write(held / "real-dev_round9.jsonl", [_row("pool-d2", TEXTS["h"], "too_strong"), _row("pool-d3", TEXTS["a"])])
    _write(held / "enron_pool_round9.jsonl", [_row("pool-p1", TEXTS["d"], "too_strong"), _row("pool-p2", TEXTS["a"])])
    _write(held / "enron_pairs_round9.jsonl", [_row("pair-x-r", TEXTS["b"], "too_strong", "enron-pairs"),
                                               _row("pair-x-e", TEXTS["e"], "none", "enron-pairs"),
                                               _row("pair-y-r", TEXTS["f"], "too_strong", "enron-pairs"),
                                               _row("pair-y-e", TEXTS["g"], "none", "enron-pairs")])
    return mod, tmp_path


def test_fold_moves_rounds_and_leaves_out_every_repeat_of_a_measured_text(fold, monkeypatch):
    mod, root = fold
    monkeypatch.setattr(sys, "argv", ["fold_held_back.py", "--pairs", "--write"])
    assert mod.main() == 0
    data = root / "data"
    assert _ids(data / "real-dev.jsonl") == ["pool-d1", "pool-d2"]          # the test repeat left out
    assert _ids(data / "corpus" / "enron_pool.jsonl") == ["pool-c1", "pool-p1"]
    # pair x goes whole (its refusal side is a dev text); the old pair repeats the new dev row
    assert _ids(data / "corpus" / "enron_pairs.jsonl") == ["pair-y-r", "pair-y-e"]
    assert not list((data / "held-back").glob("*_round*.jsonl"))


def test_fold_keeps_the_pairs_held_back_unless_asked(fold, monkeypatch):
    mod, root = fold
    monkeypatch.setattr(sys, "argv", ["fold_held_back.py", "--write"])
    assert mod.main() == 0
    data = root / "data"
    assert _ids(data / "corpus" / "enron_pool.jsonl") == ["pool-c1", "pool-p1"]
    assert _ids(data / "corpus" / "enron_pairs.jsonl") == []  # the old pair repeats the new dev row
    assert [p.name for p in (data / "held-back").glob("*_round*.jsonl")] == ["enron_pairs_round9.jsonl"]


def test_fold_without_write_changes_nothing(fold, monkeypatch, capsys):
    mod, root = fold
    before = {p: p.read_bytes() for p in root.rglob("*.jsonl")}
    monkeypatch.setattr(sys, "argv", ["fold_held_back.py"])
    assert mod.main() == 0
    assert {p: p.read_bytes() for p in root.rglob("*.jsonl")} == before
    assert "real-dev.jsonl: +1 rows (1 refusals)" in capsys.readouterr().out
