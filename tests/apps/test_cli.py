"""The command line, run in this process through ``negclass.apps.cli.main(argv)``; one smoke test runs the
installed ``negclass`` script and ``python -m negclass`` as separate processes."""
import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import negclass

from negclass.apps import cli
from negclass.mail import ingest

from ..conftest import FIXTURES

JUNK = random.Random(14).randbytes(50000)
BIDDERS = "We've got two other bidders lined up, so there's no need for a meeting."


def main(argv, capsys, monkeypatch, stdin: bytes | None = None):
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_line_error(code, err, needle):
    assert code == 2, err
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_the_installed_script_and_python_m_run_as_processes():
    script = Path(sys.executable).with_name("negclass")
    assert script.is_file(), f"no {script}: install negclass into this environment with pip install -e ."
    out = subprocess.run([str(script), "classify", "--json", BIDDERS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reason"] == "too_strong"
    # a user error is one line and exit code 2 from a real process too
    out = subprocess.run([sys.executable, "-m", "negclass", "playbook", "angry"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == ["negclass: error: unknown reason 'angry'; expected one of "
                                               "too_strong, too_weak, emotions_high, none"]


def test_classify_text_json(capsys, monkeypatch):
    code, out, err = main(["classify", "--json", BIDDERS], capsys, monkeypatch)
    assert code == 0, err
    d = json.loads(out)
    assert list(d) == ["reason", "signal", "confidence", "low_confidence", "probabilities", "evidence", "tactics"]
    assert d["reason"] == "too_strong" and d["tactics"]


def test_classify_stdin_readable_output(capsys, monkeypatch):
    from negclass.model import taxonomy

    text = ("Sorry, swamped this month with the audit, can't look at the contract yet. "
            "Maybe later, I'm really not ready to go through it.\n")
    code, out, err = main(["classify", "--json", text], capsys, monkeypatch)
    assert code == 0, err
    reason = json.loads(out)["reason"]
    code, out, err = main(["classify"], capsys, monkeypatch, stdin=text.encode("utf-8"))
    assert code == 0, err
    assert out.startswith(f"Reason:      {reason} — {taxonomy.reason_label(reason)}\n")
    assert "Confidence:" in out and "Evidence:" in out and "Tactics:" in out and "Say:" in out


def test_classify_eml_file(capsys, monkeypatch, tmp_path):
    eml = tmp_path / "m.eml"
    eml.write_text("From: a@example.com\nTo: b@example.com\nSubject: renewal\nMessage-ID: <1@x>\n\n"
                   "Please find attached the agenda for Thursday's meeting at 10am.\n", "utf-8")
    code, out, err = main(["classify", "--json", "--file", eml], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(out)["reason"] == "none"


@pytest.mark.parametrize("args, needle", [
    (("classify", ""), "empty text"),
    (("classify", "--file", "{tmp}/nope.txt"), "no such file"),
    (("evaluate", "--data", FIXTURES / "bad_labels.csv"), "bad_labels.csv:3"),
    (("playbook", "angry"), "unknown reason"),
    (("classify", "--model", "{tmp}", "hello"), "no manifest.json"),
])
def test_user_errors_are_one_line_without_traceback(capsys, monkeypatch, tmp_path, args, needle):
    argv = [str(a).format(tmp=tmp_path) for a in args]
    one_line_error(*main(argv, capsys, monkeypatch)[::2], needle)


def test_playbook_prints_one_reason(capsys, monkeypatch):
    code, out, _ = main(["playbook", "too_weak"], capsys, monkeypatch)
    assert code == 0
    assert "too_weak" in out and "too_strong" not in out and "Say:" in out


def test_evaluate_json_keys(capsys, monkeypatch):
    code, out, err = main(["evaluate", "--data", FIXTURES / "labelled.jsonl", "--json"], capsys, monkeypatch)
    assert code == 0, err
    d = json.loads(out)
    for key in ("macro_f1", "accuracy", "per_class", "confusion_matrix", "signal_accuracy", "ece"):
        assert key in d
    assert d["n"] == 48


def test_score_jsonl_to_csv_one_row_per_input(capsys, monkeypatch, tmp_path):
    out_file = tmp_path / "scored.csv"
    code, _, err = main(["score", FIXTURES / "labelled.jsonl", "--out", out_file, "--quiet"], capsys, monkeypatch)
    assert code == 0, err
    rows = list(csv.DictReader(out_file.open()))
    ids = [json.loads(line)["id"] for line in (FIXTURES / "labelled.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ids
    assert {"id", "reason", "signal", "confidence", "low_confidence", "p_too_strong", "p_none", "tactics",
            "error"} <= set(rows[0])


@pytest.mark.slow
def test_train_then_classify_with_the_new_model(capsys, monkeypatch, tmp_path):
    out_dir = tmp_path / "m"
    code, _, err = main(["train", "--no-base", "--data", FIXTURES / "labelled.jsonl", "--out", out_dir,
                         "--split", tmp_path / "none.csv"], capsys, monkeypatch)
    assert code == 0, err
    assert (out_dir / "MODEL_CARD.md").is_file() and (out_dir / "metrics.json").is_file()
    text = "we'll pass, thanks"
    code, out, err = main(["classify", "--model", out_dir, "--json", text], capsys, monkeypatch)
    assert code == 0, err
    expected = negclass.load_model(out_dir).classify(text)  # the answer is the new model's
    got = json.loads(out)
    assert got["reason"] == expected.reason
    assert got["probabilities"] == pytest.approx(expected.probabilities, abs=1e-4)


# -- every input a user can throw at it (in process: faster than a subprocess per case) ------------
def test_classify_decodes_non_utf8_standard_input_like_a_file(capsys, monkeypatch, tmp_path):
    text = "Désolé, we will not negotiate: our café chain is happy with its current supplier.\n"
    code, out, err = main(["classify", "--json"], capsys, monkeypatch, stdin=text.encode("cp1252"))
    assert code == 0, err
    from_stdin = json.loads(out)
    (tmp_path / "m.txt").write_bytes(text.encode("cp1252"))
    code, out, err = main(["classify", "--json", "--file", tmp_path / "m.txt"], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(out) == from_stdin
    code, out, err = main(["classify", "--json", text], capsys, monkeypatch)  # the text itself, as an argument
    assert json.loads(out) == from_stdin


def test_classify_refuses_binary_content_everywhere(capsys, monkeypatch, tmp_path):
    one_line_error(*main(["classify"], capsys, monkeypatch, stdin=JUNK)[::2], "standard input: binary content, not text")
    (tmp_path / "junk.txt").write_bytes(JUNK)
    one_line_error(*main(["classify", "--file", tmp_path / "junk.txt"], capsys, monkeypatch)[::2],
                   "binary content, not text")
    (tmp_path / "junk.eml").write_bytes(_mbox_body_eml(JUNK))
    one_line_error(*main(["classify", "--file", tmp_path / "junk.eml"], capsys, monkeypatch)[::2],
                   "binary content, not text")


def _mbox_body_eml(body: bytes) -> bytes:
    return b"From: a@x.example\nSubject: s\nMessage-ID: <j@x.example>\n\n" + body


def test_classify_file_that_is_a_directory(capsys, monkeypatch, tmp_path):
    one_line_error(*main(["classify", "--file", tmp_path], capsys, monkeypatch)[::2], f"{tmp_path}: is a directory")


def test_score_txt_and_mbox_with_binary_content_give_error_rows(capsys, monkeypatch, tmp_path):
    (tmp_path / "junk.txt").write_bytes(JUNK)
    out_file = tmp_path / "o.jsonl"
    code, _, err = main(["score", tmp_path / "junk.txt", "--format", "txt", "--out", out_file, "--jobs", 1, "--quiet"],
                        capsys, monkeypatch)
    assert code == 0, err
    (row,) = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert row["error"] == ingest.BINARY and row["reason"] is None


def test_score_a_folder_without_mail_exits_2(capsys, monkeypatch, tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here", "utf-8")
    code, _, err = main(["score", tmp_path, "--out", tmp_path / "o.csv", "--quiet"], capsys, monkeypatch)
    one_line_error(code, err, f"no messages found in {tmp_path} (looked for mbox, maildir, .eml, .msg)")
    assert not (tmp_path / "o.csv").exists()


def test_score_a_table_without_the_text_column_exits_2_listing_the_columns(capsys, monkeypatch, tmp_path):
    (tmp_path / "t.csv").write_text("msg_id,body\n1,We pass.\n", "utf-8")
    code, _, err = main(["score", tmp_path / "t.csv", "--out", tmp_path / "o.csv", "--quiet"], capsys, monkeypatch)
    one_line_error(code, err, "no column 'text'; the columns are 'msg_id', 'body'")
    assert not (tmp_path / "o.csv").exists()


def test_score_a_latin1_csv_exits_2_like_train(capsys, monkeypatch, tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("text,reason\nNous ne négocierons pas,none\n".encode("latin-1"))
    code, _, score_err = main(["score", path, "--out", tmp_path / "o.csv", "--quiet"], capsys, monkeypatch)
    one_line_error(code, score_err, f"{path}:2: not UTF-8 text")
    code, _, train_err = main(["train", "--no-base", "--data", path, "--out", tmp_path / "m"], capsys, monkeypatch)
    one_line_error(code, train_err, f"{path}:2: not UTF-8 text")
    assert score_err == train_err


def test_train_without_the_corpus_says_where_it_comes_from(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("negclass.training.train.checkout", lambda: None)   # as from a wheel: no source checkout
    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path / "home"))
    code, _, err = main(["train"], capsys, monkeypatch)
    one_line_error(code, err, "nothing to train on: give --data FILE; the corpus (data/corpus) comes with a "
                              "source checkout of negclass installed with 'pip install -e .', not with this install")
    code, out, err = main(["train", "--data", FIXTURES / "labelled.jsonl", "--quick", "--name", "mine"],
                          capsys, monkeypatch)
    assert code == 0, err
    assert "not with this install: training on your files only" in err
    assert "no held-out rows to compare on (no split file: --split FILE names one)" in out


def test_score_table_ids_come_from_a_detected_id_column(capsys, monkeypatch, tmp_path):
    (tmp_path / "t.csv").write_text("msg_id,text\nA-17,We pass.\nA-18,Call me Monday.\n", "utf-8")
    out_file = tmp_path / "o.jsonl"
    code, _, err = main(["score", tmp_path / "t.csv", "--out", out_file, "--jobs", 1], capsys, monkeypatch)
    assert code == 0, err
    assert "ids from column 'msg_id'" in err
    assert [json.loads(line)["id"] for line in out_file.read_text().splitlines()] == ["A-17", "A-18"]


def test_score_over_an_interrupted_run_asks_for_resume_or_overwrite(capsys, monkeypatch, tmp_path):
    from negclass.batch.output import Spool
    from negclass.batch.schema import columns

    out_file = tmp_path / "o.jsonl"
    Spool(out_file, columns(), {"earlier": "run"}).write([{"id": "x"}, {"id": "y"}])  # a run cut short
    argv = ["score", FIXTURES / "mail" / "box.mbox", "--out", out_file, "--jobs", 1, "--quiet"]
    code, _, err = main(argv, capsys, monkeypatch)
    one_line_error(code, err, "an interrupted run of 2 rows exists")
    assert "--overwrite" in err and not out_file.exists()
    code, _, err = main(argv + ["--overwrite"], capsys, monkeypatch)
    assert code == 0, err
    assert len(out_file.read_text().splitlines()) == 3
    one_line_error(*main(argv + ["--overwrite", "--resume"], capsys, monkeypatch)[::2], "contradict")


def test_every_option_has_help_text():
    parser = cli._parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict)).choices
    missing = [f"{name} {a.option_strings or a.dest}" for name, sub in [("negclass", parser), *subparsers.items()]
               for a in sub._actions if not a.help and a.dest not in {"help", "command"}]
    assert missing == []


def test_version(capsys):
    import negclass

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"negclass {negclass.__version__}"


def test_train_help_names_the_real_correction_column(capsys):
    from negclass.training.dataset import CORRECT_REASON

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{CORRECT_REASON}/confirmed" in text and "corrected_reason" not in text


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.one_of(st.binary(max_size=2000), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.text(max_size=300).map(lambda t: t.encode("cp1252", "ignore"))))
def test_any_bytes_on_standard_input_classify_or_one_clear_line(raw, capsys, monkeypatch):
    code, out, err = main(["classify", "--json"], capsys, monkeypatch, stdin=raw)
    assert code in (0, 2)
    if code == 0:
        assert json.loads(out)["reason"] and err == ""
    else:
        assert err.startswith("negclass: error: ") and len(err.strip().splitlines()) == 1
