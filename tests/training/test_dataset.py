import json

import pytest

from negclass.errors import DataError
from negclass.training import dataset

from ..conftest import FIXTURES


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def test_loads_fixture_with_file_and_line():
    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    assert len(frame) == 48
    assert set(frame["reason"]) == {"too_strong", "too_weak", "emotions_high", "none"}
    assert frame["line"].tolist()[:3] == [1, 2, 3]
    assert frame.loc[frame["reason"] == "none", "signal"].isna().all()


@pytest.mark.parametrize("row, message", [
    ({"text": "hi", "reason": "angry"}, "unknown reason 'angry'"),
    ({"text": "  ", "reason": "none"}, "empty text"),
    ({"text": "hi", "reason": "too_weak", "signal": "no_authority"}, "belongs to 'emotions_high'"),
    ({"text": "hi", "reason": "none", "signal": "win_lose"}, "given for reason 'none'"),
    ({"reason": "none"}, "missing column 'text'"),
    ({"text": "hi", "reason": "none", "channel": "fax"}, "unknown channel 'fax'"),
])
def test_contract_violations_name_file_and_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "fine", "reason": "none"}, row])
    with pytest.raises(DataError) as err:
        dataset.load([path])
    assert f"{path}:2" in str(err.value)
    assert message in str(err.value)


def test_csv_errors_point_at_the_csv_line():
    with pytest.raises(DataError) as err:
        dataset.load([FIXTURES / "bad_labels.csv"])
    assert "bad_labels.csv:3" in str(err.value) and "win_lose" in str(err.value)


def test_duplicate_ids_and_bad_json(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "x", "reason": "none"},
                                              {"id": "a", "text": "y", "reason": "none"}])
    with pytest.raises(DataError, match="duplicate id 'a'"):
        dataset.load([path])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "reason": "none"}\n{oops\n', "utf-8")
    with pytest.raises(DataError, match="bad.jsonl:2: not valid JSON"):
        dataset.load([bad])


def test_wrong_encoding_and_missing_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,reason\ncaf\xe9,none\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        dataset.load([path])
    with pytest.raises(DataError, match="no such file"):
        dataset.load([tmp_path / "nope.jsonl"])


def test_fingerprint_changes_with_labels():
    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    before = dataset.fingerprint(frame)
    frame.loc[0, "reason"] = "none"
    assert dataset.fingerprint(frame) != before


SCORED_HEADER = ("id,source,date,from,subject,text_chars,reason,signal,confidence,low_confidence,"
                 "p_too_strong,p_too_weak,p_emotions_high,p_none,tactics,error,skipped")


def scored_csv(path, rows, extra=""):
    """A scored CSV as `negclass score` writes it, with optional extra columns a person added."""
    head = SCORED_HEADER + ("," + extra if extra else "")
    path.write_text(head + "\n" + "".join(r + "\n" for r in rows), "utf-8")
    return path


ROW = "m{k},{src},,,,40,too_strong,strong_batna,0.8,False,0.8,0.1,0.05,0.05,sb_x,,False"


def test_untouched_scored_file_is_never_training_data(tmp_path):
    path = scored_csv(tmp_path / "s.csv", [ROW.format(k=k, src="in.jsonl") for k in range(3)])
    with pytest.raises(DataError, match="s.csv: scored file with no corrected or confirmed rows"):
        dataset.load([path])
    path = scored_csv(tmp_path / "s2.csv", [ROW.format(k=k, src="in.jsonl") + ",,," for k in range(3)],
                      "correct_reason,correct_signal,confirmed")
    with pytest.raises(DataError, match="no corrected or confirmed rows"):
        dataset.load([path])


def test_scored_rows_count_when_corrected_or_confirmed(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": f"m{k}", "text": f"message number {k} about the renewal"}
                                        for k in range(5)])
    rows = [ROW.format(k=0, src="in.jsonl") + ",too_weak,overwhelmed,",       # corrected
            ROW.format(k=1, src="in.jsonl") + ",,,yes",                       # confirmed as predicted
            ROW.format(k=2, src="in.jsonl") + ",,,",                          # not looked at
            ROW.format(k=3, src="in.jsonl") + ",none,,no",                    # corrected wins
            ROW.format(k=4, src="in.jsonl") + ",,tactical_silence,"]          # signal corrected only
    path = scored_csv(tmp_path / "s.csv", rows, "correct_reason,correct_signal,confirmed")
    frame, (summary,) = dataset.load_files([path])
    assert (summary.rows, summary.used, summary.corrected, summary.confirmed) == (5, 4, 3, 1)
    assert "4 of 5 rows used (3 corrected, 1 confirmed" in summary.text()
    assert frame["id"].tolist() == ["m0", "m1", "m3", "m4"]
    assert frame["reason"].tolist() == ["too_weak", "too_strong", "none", "too_strong"]
    assert frame["signal"].fillna("-").tolist() == ["overwhelmed", "strong_batna", "-", "tactical_silence"]
    assert frame["text"].tolist()[0] == "message number 0 about the renewal"  # read back from the source
    assert frame["line"].tolist() == [2, 3, 5, 6]


@pytest.mark.parametrize("added, message", [
    (",angry,,", "s.csv:2: unknown reason 'angry'"),
    (",too_weak,strong_batna,", "s.csv:2: signal 'strong_batna' belongs to 'too_strong', not 'too_weak'"),
    (",,,maybe", "s.csv:2: 'confirmed' is 'maybe'; use yes"),
])
def test_scored_label_errors_name_the_line(tmp_path, added, message):
    write_jsonl(tmp_path / "in.jsonl", [{"id": "m0", "text": "hello"}])
    path = scored_csv(tmp_path / "s.csv", [ROW.format(k=0, src="in.jsonl") + added],
                      "correct_reason,correct_signal,confirmed")
    with pytest.raises(DataError, match=message):
        dataset.load([path])


def test_scored_rows_without_text_or_source(tmp_path):
    error_row = "m0,in.jsonl,,,,,,,,,,,,,,empty text,False,none"
    path = scored_csv(tmp_path / "s.csv", [error_row], "correct_reason")
    with pytest.raises(DataError, match="s.csv:2: this message could not be scored"):
        dataset.load([path])
    path = scored_csv(tmp_path / "s2.csv", [ROW.format(k=0, src="gone.mbox") + ",yes"], "confirmed")
    with pytest.raises(DataError, match="s2.csv:2: cannot find the text of this message: its source 'gone.mbox'"):
        dataset.load([path])


def test_scored_mbox_texts_are_read_back(tmp_path):
    import shutil

    box = tmp_path / "box.mbox"
    shutil.copy(FIXTURES / "mail" / "box.mbox", box)
    from negclass.mail import ingest
    first = next(m for m in ingest.read([box]) if m.error is None and m.text)
    path = scored_csv(tmp_path / "s.csv", [f"{first.id},{box},,,,40,none,,0.9,False,0.02,0.03,0.05,0.9,,,False,yes"],
                      "confirmed")
    frame = dataset.load([path])
    assert frame["text"].tolist() == [first.text] and frame["reason"].tolist() == ["none"]


def test_scored_jsonl_and_parquet(tmp_path):
    import pandas as pd

    base = {"id": "m0", "source": "x", "text": "We will not meet, we have other offers.", "reason": "too_strong",
            "signal": "strong_batna", "confidence": 0.7, "low_confidence": False, "p_too_strong": 0.7,
            "p_too_weak": 0.1, "p_emotions_high": 0.1, "p_none": 0.1, "error": None, "skipped": False}
    write_jsonl(tmp_path / "s.jsonl", [base | {"confirmed": True}, base | {"id": "m1", "confirmed": False}])
    assert dataset.load([tmp_path / "s.jsonl"])["id"].tolist() == ["m0"]
    pd.DataFrame([base | {"correct_reason": None}, base | {"id": "m1", "correct_reason": "none",
                                                          "correct_signal": None}]).to_parquet(tmp_path / "s.parquet")
    frame = dataset.load([tmp_path / "s.parquet"])
    assert frame["id"].tolist() == ["m1"] and frame["line"].tolist() == [2]


def test_csv_lines_are_exact_with_multiline_fields_and_bom(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufefftext,reason\n\"two\nlines\",none\n\"three\nlines\nhere\",none\nlast,angry\n".encode("utf-8"))
    with pytest.raises(DataError, match=r"d.csv:7: unknown reason 'angry'"):
        dataset.load([path])
    path.write_bytes("text,reason\nfine,none\ncaf\xe9,none\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"d.csv:3: not UTF-8 text.*CSV UTF-8"):
        dataset.load([path])
    path.write_text("body,label\nhello,none\n", "utf-8")
    with pytest.raises(DataError, match=r"d.csv:1: missing column 'text'; the columns are body, label"):
        dataset.load([path])
    path.write_text("text,reason\n\"a\",none,oops\n", "utf-8")
    with pytest.raises(DataError, match=r"d.csv:2: 3 fields but the header has 2"):
        dataset.load([path])


def test_same_example_twice_is_used_once_but_a_changed_one_is_an_error(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": "hello", "reason": "none"}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "text": "hello", "reason": "none"},
                                           {"id": "y", "text": "bye", "reason": "none"}])
    frame, summaries = dataset.load_files([a, b])
    assert len(frame) == 2 and summaries[1].used == 1 and summaries[1].repeated == 1
    c = write_jsonl(tmp_path / "c.jsonl", [{"id": "x", "text": "hello", "reason": "too_weak"}])
    with pytest.raises(DataError, match="c.jsonl:1: duplicate id 'x'"):
        dataset.load([a, c])


def test_exact_and_near_duplicates_are_reported():
    import pandas as pd

    text = "We already have a supplier we are happy with, so there is no reason to meet next week about it."
    frame = pd.DataFrame({"id": list("abcd"), "text": [text, "  " + text.upper(), text + " Thanks", "Unrelated words"],
                          "reason": ["too_strong", "none", "too_strong", "none"], "signal": [None] * 4,
                          "file": ["f"] * 4, "line": [1, 2, 3, 4]})
    lines = dataset.duplicates(frame)
    assert lines[0] == "f:1: exact duplicate of f:2; labelled differently: too_strong/- vs none/-"
    assert any(line.startswith("f:1: near-duplicate (similarity 0.9") for line in lines)
    assert not any("f:4" in line for line in lines)
    only_new = dataset.duplicates(frame, new=pd.Series([False, False, False, True]))
    assert only_new == []
