"""web.corrections: the labels saved from the web page, one JSONL line per corrected text."""
from __future__ import annotations

import json
import threading

import pytest

from negclass.apps.web.corrections import FILENAME, SOURCE, Corrections, check_label, default_path, example_id
from negclass.errors import EmptyTextError, NegclassError
from negclass.model import taxonomy
from negclass.training import dataset

TEXT = "We're happy with our current supplier, so there's no need to meet."


def lines(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_the_default_file_is_in_negclass_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path))
    assert default_path() == tmp_path / FILENAME
    assert Corrections().path == tmp_path / FILENAME


def test_a_correction_is_one_line_in_the_corpus_format(tmp_path):
    c = Corrections(tmp_path / "sub" / "c.jsonl")
    assert c.count() == 0                                   # no file yet
    record, replaced = c.add(TEXT, " too_strong ", "strong_batna")
    assert not replaced
    assert record == {"id": example_id(TEXT), "text": TEXT, "reason": "too_strong", "signal": "strong_batna",
                      "source": SOURCE}
    assert lines(c.path) == [record] and c.count() == 1
    record, _ = c.add("I just can't deal with another negotiation.", "too_weak", "")
    assert record["signal"] is None                         # an empty signal is no signal


def test_correcting_the_same_text_again_replaces_its_line(tmp_path):
    c = Corrections(tmp_path / "c.jsonl")
    c.add(TEXT, "too_weak")
    c.add("Meeting moved to 3pm.", "none")
    record, replaced = c.add("  " + TEXT + "\n", "too_strong", "price_only")   # the same text, other spacing at the ends
    assert replaced and record["id"] == example_id(TEXT)
    saved = lines(c.path)
    assert [r["reason"] for r in saved] == ["none", "too_strong"] and c.count() == 2
    frame = dataset.load([c.path])                          # the file is training data as it stands
    assert sorted(frame["reason"]) == ["none", "too_strong"]


def test_ids_follow_the_text_not_the_label():
    assert example_id(TEXT) == example_id(f"  {TEXT}  ") != example_id(TEXT + "!")
    assert example_id(TEXT).startswith("web-") and len(example_id(TEXT)) == len("web-") + 12


def test_a_line_that_cannot_be_read_is_kept(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "web-1", "text": "old", "reason": "none"}\nnot json at all\n[1, 2]\n\n', "utf-8")
    Corrections(path).add(TEXT, "too_strong")
    assert path.read_text("utf-8").splitlines()[:3] == ['{"id": "web-1", "text": "old", "reason": "none"}',
                                                        "not json at all", "[1, 2]"]
    assert json.loads(path.read_text("utf-8").splitlines()[3])["text"] == TEXT


@pytest.mark.parametrize("reason, signal, words", [
    ("angry", None, "unknown reason 'angry'; choose one of too_strong, too_weak, emotions_high, none"),
    ("", None, "unknown reason ''"),
    ("none", "strong_batna", "'none' has no signal; leave the signal empty"),
    ("too_weak", "strong_batna", "signal 'strong_batna' is not one of too_weak's: win_lose, avoids_discomfort, "
                                 "overwhelmed"),
])
def test_bad_labels_say_what_is_wrong_and_write_nothing(tmp_path, reason, signal, words):
    c = Corrections(tmp_path / "c.jsonl")
    with pytest.raises(NegclassError) as err:
        c.add(TEXT, reason, signal)
    assert str(err.value).startswith(words)
    assert not c.path.exists()


def test_every_signal_is_accepted_under_its_own_reason():
    for reason in taxonomy.refusal_reasons():
        for signal in taxonomy.signals(reason):
            assert check_label(reason, signal) == (reason, signal)
    assert check_label("none", "  ") == ("none", None)


@pytest.mark.parametrize("text", ["", "   \n", None])
def test_an_empty_text_is_refused(tmp_path, text):
    with pytest.raises(EmptyTextError, match="empty text: nothing to correct"):
        Corrections(tmp_path / "c.jsonl").add(text, "none")


def test_a_failed_write_keeps_the_file_as_it_was(tmp_path, monkeypatch):
    c = Corrections(tmp_path / "c.jsonl")
    c.add(TEXT, "too_strong")
    before = c.path.read_bytes()

    def full(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", full)
    with pytest.raises(OSError, match="disk full"):
        c.add("Another message entirely.", "none")
    assert c.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.jsonl"]        # no temporary file left


def test_corrections_from_many_threads_are_all_kept(tmp_path):
    c = Corrections(tmp_path / "c.jsonl")
    texts = [f"Message {i}: we will not meet on price." for i in range(40)]
    threads = [threading.Thread(target=c.add, args=(t, "too_strong", "price_only")) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["text"] for r in lines(c.path)) == sorted(texts)
