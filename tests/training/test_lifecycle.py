"""Retraining loop through the command line (``negclass.apps.cli.main``, in this process) in a temporary
home: score, correct, train, compare, promote or keep, list, switch, roll back; suggestions; leakage."""
import csv
import json
from types import SimpleNamespace

import pytest

from negclass.apps import cli as negclass_cli
from negclass.errors import DataError
from negclass.model import store
from negclass.training import dataset

from ..conftest import FIXTURES, write_split

ROTATE = {"too_strong": "too_weak", "too_weak": "emotions_high", "emotions_high": "none", "none": "too_strong"}


def signal_of(row):
    return row["signal"] if isinstance(row.get("signal"), str) else ""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A workspace: a split with 16 held-out fixture rows, the other 32 as labelled and as raw inbox."""
    d = tmp_path_factory.mktemp("loop")
    rows = [json.loads(line) for line in (FIXTURES / "labelled.jsonl").read_text("utf-8").splitlines()]
    test = write_split(d / "split.csv")
    train = [r for r in rows if r["id"] not in test]
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train), "utf-8")
    (d / "inbox.jsonl").write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in train), "utf-8")
    (d / "wrong.jsonl").write_text("".join(json.dumps({"id": "w-" + r["id"], "text": r["text"],
                                                       "reason": ROTATE[r["reason"]]}) + "\n" for r in train), "utf-8")
    return d


@pytest.fixture
def cli(capsys):
    """``negclass ARGS`` run from the workspace with its own home: returncode, stdout, stderr."""
    def run(work, *args, home=None):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NEGCLASS_HOME", str(home or work / "home"))
            mp.delenv("NEGCLASS_MODEL", raising=False)
            mp.chdir(work)
            code = negclass_cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return run


@pytest.fixture
def train_cli(cli):
    def run(work, *args, home=None):
        return cli(work, "train", "--no-base", "--split", work / "split.csv", "--quick", *args, home=home)
    return run


def correct(scored, out, truth_file):
    """What a person does in a spreadsheet: confirm right rows, correct the others."""
    truth = {r["id"]: r for r in map(json.loads, truth_file.read_text("utf-8").splitlines())}
    rows = list(csv.DictReader(scored.open(encoding="utf-8")))
    fields = list(rows[0]) + ["correct_reason", "correct_signal", "confirmed"]
    counts = {"corrected": 0, "confirmed": 0}
    for k, r in enumerate(rows):
        t = truth[r["id"]]
        if k % 8 == 7:
            continue  # not looked at: ignored
        if r["reason"] == t["reason"] and r["signal"] == signal_of(t):
            r["confirmed"] = "yes"
            counts["confirmed"] += 1
        else:
            r["correct_reason"], r["correct_signal"] = t["reason"], signal_of(t)
            counts["corrected"] += 1
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return counts, len(rows)


@pytest.mark.slow
def test_the_whole_loop_through_the_command_line(work, cli, train_cli):
    home = work / "home"
    # a first model from labelled notes, forced to be the default whatever is installed
    out = train_cli(work, "--data", work / "train.jsonl", "--name", "first", "--force")
    assert out.returncode == 0, out.stderr
    assert "train.jsonl: 32 labelled rows used" in out.stderr
    assert "first: made the default (--force)" in out.stdout

    # score the inbox with the default, correct some rows in the spreadsheet, train again
    out = cli(work, "score", "inbox.jsonl", "--out", "scored.csv", "--quiet")
    assert out.returncode == 0, out.stderr
    untouched = train_cli(work, "--data", "scored.csv", "--name", "nothing")
    assert untouched.returncode == 2 and "no corrected or confirmed rows" in untouched.stderr
    assert not (home / "models" / "nothing").exists()
    counts, total = correct(work / "scored.csv", work / "corrected.csv", work / "train.jsonl")
    out = train_cli(work, "--data", "corrected.csv", "--name", "second")
    assert out.returncode == 0, out.stderr
    used = counts["corrected"] + counts["confirmed"]
    assert (f"corrected.csv: scored file, {used} of {total} rows used ({counts['corrected']} corrected, "
            f"{counts['confirmed']} confirmed; unmarked rows ignored)") in out.stderr
    assert "held-out comparison on 16 rows" in out.stdout
    for line in ("macro-F1", "F1 too_strong", "F1 none", "held-out predictions changed"):
        assert line in out.stdout
    assert "first (default)" in out.stdout
    # promoted exactly when its held-out macro-F1, as shown, is not below the first model's on the same rows
    f1 = {n: store.read_json(home / "models" / n, store.METRICS)["heldout"]["model"]["macro_f1"]
          for n in ("first", "second")}
    if round(f1["second"], 3) >= round(f1["first"], 3):
        assert f"second: made the default: held-out macro-F1 {f1['second']:.3f} is not worse" in out.stdout
        assert json.loads((home / "default.json").read_text()) == {"default": "second", "previous": "first"}
    else:
        assert f"second: kept beside, not made the default: held-out macro-F1 {f1['second']:.3f}" in out.stdout
        assert json.loads((home / "default.json").read_text())["default"] == "first"

    # a model trained on wrong labels is measured, kept beside, and not made the default
    before = json.loads((home / "default.json").read_text())
    out = train_cli(work, "--data", "wrong.jsonl", "--name", "worse")
    assert out.returncode == 0, out.stderr
    assert "worse: kept beside, not made the default" in out.stdout and "is worse than" in out.stdout
    assert json.loads((home / "default.json").read_text()) == before
    assert (home / "models" / "worse" / "manifest.json").is_file()

    # list, switch, roll back
    current = before["default"]
    out = cli(work, "models", "--json")
    listed = {e["name"]: e for e in json.loads(out.stdout)}
    assert {"first", "second", "worse"} <= set(listed)
    assert listed[current]["default"] and not listed["worse"]["default"]
    assert listed["worse"]["heldout_macro_f1"] < listed["first"]["heldout_macro_f1"]
    assert listed["second"]["files"] == {"corrected.csv": used}
    out = cli(work, "models")
    assert out.returncode == 0 and f"* {current}" in out.stdout and "macro-F1" in out.stdout
    out = cli(work, "models", "use", "worse")
    assert out.returncode == 0 and f"was {current}" in out.stdout
    out = cli(work, "classify", "--json", "We have two other suppliers, no need to meet.")
    assert out.returncode == 0, out.stderr  # now classified by 'worse'
    out = cli(work, "models", "rollback")
    assert out.returncode == 0 and f"default model: {current} (was worse)" in out.stdout
    assert json.loads((home / "default.json").read_text()) == {"default": current, "previous": "worse"}

    # a tampered model is refused, by name and when it is the default
    with open(home / "models" / "worse" / "pipeline.joblib", "ab") as fh:
        fh.write(b"\x00evil")
    out = cli(work, "models", "use", "worse")
    assert out.returncode == 2 and "does not match its checksum" in out.stderr and "Traceback" not in out.stderr
    assert json.loads((home / "default.json").read_text())["default"] == current
    out = cli(work, "models")
    assert "! " in out.stdout and "does not match its checksum" in out.stdout
    meta = home / "models" / current / "meta.json"
    meta.write_text(meta.read_text().replace('"name"', '"name" ', 1))
    out = cli(work, "classify", "hello there")
    assert out.returncode == 2 and "meta.json does not match its checksum" in out.stderr


@pytest.mark.slow
def test_suggest_prints_and_writes_a_file_ready_for_labelling(work, tmp_path, cli):
    model_dir = tmp_path / "m"
    out = cli(work, "train", "--no-base", "--data", "train.jsonl", "--split", "split.csv", "--quick", "--out", model_dir,
              home=tmp_path / "home")
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / "home").exists()  # --out writes a standalone directory, nothing registered
    out = cli(work, "suggest", "inbox.jsonl", "-n", "5", "--model", model_dir, "--out", tmp_path / "pick.csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader((tmp_path / "pick.csv").open(encoding="utf-8")))
    assert len(rows) == 5 and [r["rank"] for r in rows] == ["1", "2", "3", "4", "5"]
    u = [float(r["uncertainty"]) for r in rows]
    assert u == sorted(u, reverse=True)
    assert all(r["text"] and r["correct_reason"] == "" for r in rows)
    # filled in, the same file is training data
    rows[0]["correct_reason"] = "none"
    rows[1]["confirmed"] = "yes"
    with (tmp_path / "pick.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    frame, (summary,) = dataset.load_files([tmp_path / "pick.csv"])
    assert summary.used == 2 and frame["reason"].iloc[0] == "none"
    out = cli(work, "suggest", "inbox.jsonl", "-n", "3", "--by", "entropy", "--model", model_dir)
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == 2 + 2 * 3  # header, then 2 lines a pick


def test_training_rows_that_repeat_evaluation_rows_are_refused(work, tmp_path):
    from negclass.training.train import train

    held = [json.loads(line) for line in (FIXTURES / "labelled.jsonl").read_text("utf-8").splitlines()]
    split = dict(line.split(",") for line in (work / "split.csv").read_text().split()[1:])
    test_row = next(r for r in held if split[r["id"]] == "test")
    mine = tmp_path / "mine.csv"
    with mine.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "reason"])
        w.writerow(["We are fine with the current arrangement and will not be meeting.", "too_strong"])
        w.writerow(["  " + test_row["text"].upper() + "  ", test_row["reason"]])
    with pytest.raises(DataError, match=r"mine.csv:3: leakage: the same text as held-out example .*labelled.jsonl"):
        train([work / "train.jsonl", mine], tmp_path / "m", split_file=work / "split.csv",
              heldout_files=[FIXTURES / "labelled.jsonl"], progress=lambda m: None)
    report = tmp_path / "report.jsonl"
    report.write_text(json.dumps({"text": held[0]["text"] + " Thanks.", "reason": held[0]["reason"]}) + "\n")
    with pytest.raises(DataError, match=r"leakage: a near-duplicate \(similarity 0\.9\d\) of --report report.jsonl"):
        train([FIXTURES / "labelled.jsonl"], tmp_path / "m", split_file=None, reports=[report], progress=lambda m: None)
    assert not (tmp_path / "m").exists()
