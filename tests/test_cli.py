"""The command line, run as a user would: through a subprocess."""
import json
import subprocess
import sys

from .conftest import FIXTURES


def run(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "negclass", *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=120, env=env)


def test_classify_text_json():
    out = run("classify", "--json", "We've got two other bidders lined up, so there's no need for a meeting.")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert list(d) == ["reason", "signal", "confidence", "low_confidence", "probabilities", "evidence", "tactics"]
    assert d["reason"] == "too_strong" and d["tactics"]


def test_classify_stdin_readable_output():
    out = run("classify", stdin="Sorry, swamped this month with the audit, can't look at the contract yet. "
                                "Maybe later, I'm really not ready to go through it.\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Reason:") and "Tactics:" in out.stdout


def test_classify_eml_file(tmp_path):
    eml = tmp_path / "m.eml"
    eml.write_text("From: a@example.com\nTo: b@example.com\nSubject: renewal\nMessage-ID: <1@x>\n\n"
                   "Please find attached the agenda for Thursday's meeting at 10am.\n", "utf-8")
    out = run("classify", "--json", "--file", eml)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reason"] == "none"


def test_user_errors_are_one_line_without_traceback(tmp_path):
    for args, stdin, needle in [(("classify", ""), None, "empty text"),
                                (("classify", "--file", tmp_path / "nope.txt"), None, "no such file"),
                                (("evaluate", "--data", FIXTURES / "bad_labels.csv"), None, "bad_labels.csv:3"),
                                (("playbook", "angry"), None, "unknown reason"),
                                (("classify", "--model", tmp_path, "hello"), None, "no manifest.json")]:
        out = run(*args, stdin=stdin)
        assert out.returncode == 2, (args, out.stderr)
        assert needle in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_playbook_prints_one_reason():
    out = run("playbook", "too_weak")
    assert out.returncode == 0
    assert "too_weak" in out.stdout and "too_strong" not in out.stdout and "Say:" in out.stdout


def test_evaluate_json_keys():
    out = run("evaluate", "--data", FIXTURES / "labelled.jsonl", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for key in ("macro_f1", "accuracy", "per_class", "confusion_matrix", "signal_accuracy", "ece"):
        assert key in d
    assert d["n"] == 48


def test_score_jsonl_to_csv_one_row_per_input(tmp_path):
    out_file = tmp_path / "scored.csv"
    out = run("score", FIXTURES / "labelled.jsonl", "--out", out_file, "--quiet")
    assert out.returncode == 0, out.stderr
    import csv
    rows = list(csv.DictReader(out_file.open()))
    assert len(rows) == 48
    assert {"id", "reason", "signal", "confidence", "low_confidence", "p_too_strong", "p_none", "tactics",
            "error"} <= set(rows[0])


def test_train_then_classify_with_the_new_model(tmp_path):
    out_dir = tmp_path / "m"
    out = run("train", "--no-base", "--data", FIXTURES / "labelled.jsonl", "--out", out_dir, "--split", tmp_path / "none.csv")
    assert out.returncode == 0, out.stderr
    assert (out_dir / "MODEL_CARD.md").is_file() and (out_dir / "metrics.json").is_file()
    out = run("classify", "--model", out_dir, "--json", "we'll pass, thanks")
    assert out.returncode == 0, out.stderr
