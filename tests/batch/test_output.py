"""Output files: CSV, JSONL, Parquet by extension; atomic; the resumable spool."""
from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest

from negclass.batch.output import RowWriter, Spool
from negclass.batch.schema import columns
from negclass.errors import NegclassError

ROWS = [{"id": "a", "text_chars": 3, "reason": "none", "confidence": 0.9, "low_confidence": False,
         "p_none": 0.9, "skipped": False},
        {"id": "b", "error": "no text body", "skipped": False},
        {"id": "c", "from": "Sam <sam@x>", "skipped": True}]


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_formats_by_extension(tmp_path, ext):
    path = tmp_path / f"out.{ext}"
    with RowWriter(path, columns()) as out:
        for r in ROWS:
            out.write(r)
    frame = {"csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True), "parquet": pd.read_parquet}[ext](path)
    assert frame["id"].tolist() == ["a", "b", "c"] and list(frame.columns) == columns()
    assert bool(frame["skipped"].iloc[2]) is True


def test_empty_parquet_has_the_columns(tmp_path):
    with RowWriter(tmp_path / "e.parquet", columns()):
        pass
    assert list(pd.read_parquet(tmp_path / "e.parquet").columns) == columns()


def test_failure_leaves_existing_output_untouched(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with RowWriter(path, columns()) as out:
            out.write(ROWS[0])
            raise RuntimeError
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_bad_extension(tmp_path):
    with pytest.raises(NegclassError):
        RowWriter(tmp_path / "out.xlsx", columns())
    with pytest.raises(NegclassError):
        Spool(tmp_path / "out.xlsx", columns(), {})


def test_spool_resume_cuts_back_to_the_last_recorded_row(tmp_path):
    path = tmp_path / "out.jsonl"
    s = Spool(path, columns(), {"k": 1})
    s.write(ROWS[:2])
    s._fh.write(b'{"id": "half')  # a crash in the middle of a write
    s.close()
    again = Spool(path, columns(), {"k": 1}, resume=True)
    assert again.done == 2
    again.write(ROWS[2:])
    assert again.finish() == 3
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b", "c"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_spool_with_overwrite_starts_over(tmp_path):
    path = tmp_path / "out.csv"
    s = Spool(path, columns(), {"k": 1})
    s.write(ROWS)
    s.close()
    fresh = Spool(path, columns(), {"k": 1}, overwrite=True)
    assert fresh.done == 0
    fresh.write(ROWS[:1])
    assert fresh.finish() == 1


def test_spool_over_an_interrupted_run_without_resume_or_overwrite_is_refused(tmp_path):
    path = tmp_path / "out.csv"
    s = Spool(path, columns(), {"k": 1})
    s.write(ROWS)
    s.close()
    with pytest.raises(NegclassError, match=f"an interrupted run of {len(ROWS)} rows exists; use --resume"):
        Spool(path, columns(), {"k": 1})
    with pytest.raises(NegclassError, match="other inputs or options: use --overwrite"):
        Spool(path, columns(), {"k": 2})
    assert Spool(path, columns(), {"k": 1}, resume=True).done == len(ROWS)  # the partial rows are still there


def test_spool_after_a_run_that_wrote_nothing_starts_quietly(tmp_path):
    path = tmp_path / "out.csv"
    Spool(path, columns(), {"k": 1}).close()
    assert Spool(path, columns(), {"k": 1}).done == 0


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        with RowWriter(tmp_path / "o.csv", columns()) as out:
            out.write(ROWS[0])
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "o.csv").stat().st_mode) == 0o666 & ~umask


def test_spool_resume_with_another_key_is_refused(tmp_path):
    s = Spool(tmp_path / "o.csv", columns(), {"k": 1})
    s.write(ROWS)
    s.close()
    with pytest.raises(NegclassError, match="with --overwrite instead of --resume"):
        Spool(tmp_path / "o.csv", columns(), {"k": 2}, resume=True)


def test_parquet_types_come_from_the_one_column_table(tmp_path):
    import pyarrow.parquet as pq

    from negclass.batch.schema import column_type, columns

    out = tmp_path / "s.parquet"
    with RowWriter(out, columns(include_text=True)) as w:
        w.write({"id": "a", "text_chars": 3, "confidence": 0.5, "low_confidence": False, "skipped": False,
                 "p_none": 0.5, "date_utc": "2024-03-04T10:14:00Z", "text": "abc"})
    schema = pq.read_schema(out)
    names = {"int": "int64", "float": "double", "bool": "bool", "str": "string"}
    assert schema.names == columns(include_text=True)
    assert all(str(schema.field(c).type) == names[column_type(c)] for c in schema.names)
