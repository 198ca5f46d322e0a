"""The Spark engine in local mode: same rows as the local path, raw mail readers, model checks."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from negclass.apps.cli import main
from negclass.batch.schema import columns
from negclass.batch.score import Me, score_messages, score_units
from negclass.mail import ingest
from negclass.mail.ingest import Message
from negclass.model import store

from ..conftest import FIXTURES

MAIL = FIXTURES / "mail"
spark_test = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'negclass[spark]'")
    from negclass.apps.spark import session

    s = session("local[2]", "negclass-tests")
    s.conf.set("spark.sql.shuffle.partitions", "2")
    yield s


def _same(got: pd.DataFrame, expected: pd.DataFrame, skip=("source",)) -> None:
    assert len(got) == len(expected)
    for col in columns():
        if col in skip:
            continue
        for a, b in zip(got[col].tolist(), expected[col].tolist()):
            assert a == b or (pd.isna(a) and pd.isna(b)), (col, a, b)


def _local_rows(model, paths, me=Me()) -> pd.DataFrame:
    rows = [r for chunk in score_units(ingest.units(paths), model=model, me=me) for r in chunk]
    return pd.DataFrame(rows, columns=columns())


@spark_test
def test_score_dataframe_gives_the_rows_of_negclass_score(spark, model):
    from negclass.apps.spark import score

    texts = [("a", "We're happy with our current supplier and have two other quotes, so no need to meet.",
              "Dana <dana@buyer.example>"),
             ("b", "<html><body><p>I'm not in a position to commit to anything, my boss decides.</p></body></html>",
              "x@other.example"),
             ("c", None, "y@buyer.example"),
             ("d", "", "y@buyer.example"),
             ("e", "> On Monday you wrote:\n> we will never meet", "z@buyer.example"),
             ("f", "Our own message, not classified.", "sam@ourco.example"),
             (None, "No id given: still one row.", "w@buyer.example")]
    df = spark.createDataFrame([(i, t, f, k) for k, (i, t, f) in enumerate(texts)],
                               "id string, body string, from string, n long")
    got = score(df, text_col="body", me_domain=["ourco.example"], keep=["n"]).toPandas().sort_values("n")
    assert list(got.columns) == columns() + ["n"]
    assert got["n"].tolist() == list(range(len(texts)))
    msgs = [Message(i, None, text=t, sender=f, error="empty text" if t is None else None) for i, t, f in texts]
    expected = pd.DataFrame(score_messages(model, msgs, Me.of(domains=["ourco.example"])), columns=columns())
    got = got.reset_index(drop=True)
    assert got["id"].iloc[-1].startswith("row#row-")
    _same(got, expected, skip=("id", "source"))
    assert got["skipped"].tolist() == [False] * 5 + [True, False]
    assert got["error"].iloc[2] == "empty text" and got["error"].iloc[3].startswith("no new text")
    # a missing text column is an error on every row, not a failed job
    missing = score(df.select("id", "from")).toPandas()
    assert len(missing) == len(texts) and missing["error"].str.startswith("no column 'text'").all()


@spark_test
def test_raw_mail_readers_match_the_local_reader(spark, model, tmp_path):
    from negclass.apps.spark import read_eml, read_mbox, score

    # a larger mbox cut into many byte ranges: ids, order-independent rows and unescaping must match
    parts = []
    for i in range(25):
        body = (f"Thanks for message {i}. We are happy with our current supplier.\n"
                f"From the start we said so.\n\n>From here on, escaped.\n")
        parts.append(f"From sender{i}@x.example Mon Jan  1 00:00:00 2024\nFrom: S{i} <s{i}@x.example>\n"
                     f"Subject: n{i}\n\n{body}\n")
    big = tmp_path / "big.mbox"
    big.write_text("".join(parts), "utf-8")
    for paths, frame in [([big], read_mbox(spark, big, range_bytes=97)),
                         ([MAIL / "box.mbox"], read_mbox(spark, MAIL / "box.mbox", range_bytes=50)),
                         ([MAIL / "not_email.mbox"], read_mbox(spark, MAIL / "not_email.mbox")),
                         ([MAIL / "nasty"], read_eml(spark, str(MAIL / "nasty"))),
                         ([MAIL / "clients"], read_eml(spark, str(MAIL / "clients")))]:
        me = Me.of(domains=["ourco.example"])
        got = score(frame, me_domain=["ourco.example"]).toPandas().sort_values("id").reset_index(drop=True)
        expected = _local_rows(model, paths, me).sort_values("id").reset_index(drop=True)
        assert got["id"].is_unique
        _same(got, expected)
    texts = read_mbox(spark, big, range_bytes=97).toPandas()
    assert sorted(texts["id"]) == sorted(f"{big}#{i}" for i in range(25))
    assert texts["text"].str.contains("\nFrom the start").all()
    assert texts["text"].str.contains("\n\nFrom here on, escaped.").all()


@spark_test
def test_cli_engine_spark_scores_tables_in_input_order(spark, tmp_path, capsys):
    bad = tmp_path / "t.jsonl"
    bad.write_text('{"id": "j1", "text": "We have other offers, no need to talk."}\nnot json\n'
                   '{"id": "j3", "text": null}\n', "utf-8")
    out = tmp_path / "out.parquet"
    code = main(["score", "--engine", "spark", "--master", "local[2]", str(MAIL / "table.csv"), str(bad),
                 str(MAIL / "table.parquet"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    got = pd.read_parquet(out)
    assert list(got.columns) == columns()
    assert got["id"].tolist()[:3] == ["r1", "r2", "r3"] and got["id"].tolist()[3] == "j1"
    assert got["id"].iloc[4].startswith(f"{bad}#row-") and got["error"].iloc[4] == "bad JSON"
    assert got["error"].iloc[5] == "empty text"
    assert len(got) == 9 and got["id"].is_unique is False  # the CSV and Parquet fixtures share ids
    assert "9 rows:" in capsys.readouterr().err
    assert main(["score", "--engine", "spark", str(MAIL / "table.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "writes Parquet" in capsys.readouterr().err


def _model_copy(tmp_path: Path, name: str) -> Path:
    """A copy of the shipped model with different (valid) content, so Spark ships it afresh."""
    copy = tmp_path / name
    shutil.copytree(store.shipped_model_dir(), copy)
    (copy / store.CARD).write_text((copy / store.CARD).read_text("utf-8") + f"\n{name}\n", "utf-8")
    manifest = json.loads((copy / store.MANIFEST).read_text("utf-8"))
    manifest[store.CARD] = store.sha256_file(copy / store.CARD)
    (copy / store.MANIFEST).write_text(json.dumps(manifest), "utf-8")
    return copy


@spark_test
def test_tampered_model_fails_on_the_driver_and_on_executors(spark, tmp_path, capsys, monkeypatch):
    df = spark.createDataFrame([("1", "We are happy with our current supplier.")], "id string, text string")
    # changed before shipping: refused on the driver, the command ends with a one-line error
    src = _model_copy(tmp_path, "tampered-source")
    with open(src / store.PIPELINE, "ab") as fh:
        fh.write(b"x")
    table = tmp_path / "t.parquet"
    df.toPandas().to_parquet(table)
    assert main(["score", "--engine", "spark", "--master", "local[2]", str(table), "--model", str(src),
                 "--out", str(tmp_path / "o.parquet")]) == 2
    assert "does not match its checksum" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    # changed after the driver's check (the copy that is shipped): each executor's own check fails the job
    import negclass.apps.spark as ns

    real_copytree = shutil.copytree

    def copy_and_corrupt(src_dir, dst_dir, **kw):
        out = real_copytree(src_dir, dst_dir, **kw)
        with open(Path(dst_dir) / store.PIPELINE, "ab") as fh:
            fh.write(b"x")
        return out

    good = _model_copy(tmp_path, "tampered-shipped")
    monkeypatch.setattr(ns.shutil, "copytree", copy_and_corrupt)
    with pytest.raises(Exception, match=r"ModelError: negclass model on executor .*does not match its checksum"):
        ns.score(df, model=good).collect()


class _FlakyModel:
    """classify_many fails on any batch holding the word 'boom'."""

    def classify_many(self, texts, **kw):
        from negclass.model.predict import Classification

        texts = list(texts)
        if any("boom" in t for t in texts):
            raise RuntimeError("boom")
        return [Classification("none", None, 0.9, {"none": 0.9}, False, text_chars=len(t)) for t in texts]


def test_a_message_that_fails_to_score_becomes_an_error_row():
    from negclass.apps.spark import _score_batch

    msgs = [Message("1", "s", text="fine"), Message("2", "s", text="boom"), Message("3", "s", text="also fine")]
    rows = _score_batch(_FlakyModel(), msgs, Me())
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert [r["reason"] for r in rows] == ["none", None, "none"]
    assert rows[1]["error"] == "cannot score: RuntimeError: boom"


@spark_test
def test_score_dataframe_with_text_and_the_reading_columns(spark, model):
    from negclass.apps.spark import score

    body = "> On Monday you wrote:\n> can we meet?\n\nWe're happy with our current supplier, so there is no need to meet."
    df = spark.createDataFrame([("a", body, "Dana <dana@buyer.example>", "Tue, 5 Mar 2024 08:30:00 -0800 (PST)",
                                 "Re: Renewal", "<root@ourco.example>")],
                               "id string, text string, from string, date string, subject string, thread_ref string")
    got = score(df, include_text=True).toPandas()
    assert list(got.columns) == columns(include_text=True)
    row = got.iloc[0]
    assert row["text"].startswith("We're happy") and "On Monday" not in row["text"]
    assert row["date_utc"] == "2024-03-05T16:30:00Z" and row["thread"] == "<root@ourco.example>"
    assert row["counterparty"] == "dana@buyer.example" and row["snippet"] and row["evidence"]


def test_a_model_error_on_an_executor_is_known_by_its_type_name():
    from negclass.apps.spark import executor_model_error

    trace = ("org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n"
             '  File "/x/negclass/spark.py", line 121, in _model\n'
             "negclass.errors.ModelError: negclass model on executor h1: /m/pipeline.joblib is missing\n")
    assert executor_model_error(Exception(trace)) == "negclass model on executor h1: /m/pipeline.joblib is missing"
    for other in ("ValueError: ModelError: not ours", "mypkg.FooModelError: nope", "other.negclass.errors.ModelError: x"):
        assert executor_model_error(Exception(other)) is None
