"""errors: the messages a user sees, and which errors are which."""
from pathlib import Path

from negclass.errors import DataError, EmptyTextError, ModelError, NegclassError


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
