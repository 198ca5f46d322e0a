import json

import pytest

from negclass import dataset
from negclass.errors import DataError

from .conftest import FIXTURES


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
