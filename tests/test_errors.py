"""errors: the messages a user sees, and which errors are which."""
from pathlib import Path

from negclass.errors import DataError, EmptyTextError, ModelError, NegclassError, NotUTF8Error


def test_a_data_error_names_the_file_and_line():
    err = DataError(Path("data/mine.csv"), 7, "unknown reason 'angry'")
    assert str(err) == "data/mine.csv:7: unknown reason 'angry'"
    assert (err.path, err.line) == (Path("data/mine.csv"), 7)
    assert str(DataError("mine.csv", None, "not UTF-8 text")) == "mine.csv: not UTF-8 text"


def test_every_error_is_a_negclass_error_the_command_line_shows_as_one_line():
    for err in (DataError("f", 1, "m"), ModelError("m"), EmptyTextError()):
        assert isinstance(err, NegclassError)
    assert str(EmptyTextError()) == "empty text: nothing to classify"
    assert str(EmptyTextError("empty text: nothing to correct")) == "empty text: nothing to correct"


def test_a_data_error_can_name_the_file_a_user_knows():
    err = NotUTF8Error(Path("/tmp/x/upload.csv"), 3, "not UTF-8 text")
    shown = err.naming("mine.csv")
    assert str(shown) == "mine.csv:3: not UTF-8 text" and isinstance(shown, NotUTF8Error)
    assert (shown.line, shown.detail) == (3, "not UTF-8 text")
    assert str(DataError("/tmp/x/s.csv", None, "no rows").naming("s.csv")) == "s.csv: no rows"


def test_a_table_that_is_not_utf8_is_a_not_utf8_error_for_score_and_train_alike(tmp_path):
    import pytest

    from negclass.mail import ingest
    from negclass.training import dataset

    path = tmp_path / "t.csv"
    path.write_bytes(b"text,reason\ncaf\xe9,none\n")
    with pytest.raises(NotUTF8Error) as scored:
        ingest.check_utf8(path)
    with pytest.raises(NotUTF8Error) as trained:
        dataset.load([path])
    assert scored.value.detail == trained.value.detail and scored.value.line == trained.value.line == 2
