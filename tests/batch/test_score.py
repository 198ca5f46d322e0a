"""Scoring mail end to end: one row per message, our own mail skipped, traps not classified."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from negclass.apps.cli import main
from negclass.batch.schema import NO_NEW_TEXT, columns, date_utc, normalise_subject, snippet
from negclass.batch.score import Me, Summary, score, score_messages, score_units
from negclass.mail import ingest

from ..conftest import FIXTURES, ROOT

MAIL = FIXTURES / "mail"
ALL_INPUTS = [MAIL / p for p in ("box.mbox", "truncated.mbox", "not_email.mbox", "maildir", "emltree", "table.csv",
                                 "table.jsonl", "table.parquet", "nasty", "clients")]
N_ALL = 3 + 3 + 1 + 2 + 2 + 3 + 4 + 3 + 7 + 11


def test_columns():
    assert columns()[:6] == ["id", "source", "date", "from", "subject", "text_chars"]
    for c in ("reason", "signal", "confidence", "low_confidence", "p_too_strong", "p_too_weak", "p_emotions_high",
              "p_none", "tactics", "error", "skipped"):
        assert c in columns()


def test_me_matches_addresses_and_domains_case_insensitively():
    msg = ingest.Message("1", "s", sender="Sam Lee <SAM@OurCo.Example>")
    assert Me.of(["sam@ourco.example"]).sent(msg)
    assert Me.of(domains=["OURCO.example"]).sent(msg)
    assert Me.of(domains=["ourco.example"]).sent(ingest.Message("2", "s", sender="x@mail.ourco.example"))
    assert not Me.of(["dana@buyer.example"], ["buyer.example"]).sent(msg)
    assert not Me() and not Me.of().sent(msg)


def test_one_row_per_message_with_skips_and_errors(model):
    msgs = list(ingest.read(ALL_INPUTS))
    rows = list(score(model, msgs, batch_size=8, me=Me.of(["sam@ourco.example"])))
    assert len(rows) == len(msgs) == N_ALL
    assert [r["id"] for r in rows] == [m.id for m in msgs]
    ours = [r for r in rows if r["id"] == "<ours-1@ourco.example>"]
    assert ours and all(r["skipped"] and r["reason"] is None for r in ours)
    empty = next(r for r in rows if r["id"] == "<empty@x.example>")
    assert empty["error"] == NO_NEW_TEXT and empty["reason"] is None
    ok = [r for r in rows if not r["error"] and not r["skipped"]]
    assert ok and all(r["reason"] and r["text_chars"] > 0 and abs(sum(r[f"p_{k}"] for k in
                      ("too_strong", "too_weak", "emotions_high", "none")) - 1) < 1e-3 for r in ok)
    s = Summary()
    for r in rows:
        s.add(r)
    assert s.rows == N_ALL and s.skipped == 4 and "skipped 4" in s.text()


def test_quoted_refusal_from_our_side_is_not_classified(model):
    gmail = next(ingest.read([MAIL / "clients" / "gmail_reply.eml"]))
    row = next(score(model, [gmail]))
    assert row["text_chars"] < 150  # only the counterparty's two sentences
    assert row["reason"] == "none"


def test_jobs_give_the_same_rows_in_the_same_order(model):
    units = list(ingest.units(ALL_INPUTS))
    one = [r for chunk in score_units(units, model=model, chunk_size=5) for r in chunk]
    two = [r for chunk in score_units(units, model=model, model_path=model.path, jobs=2, chunk_size=5) for r in chunk]
    assert one == two and len(one) == N_ALL


def test_cli_score_every_format(tmp_path, capsys):
    out = tmp_path / "rows.jsonl"
    assert main(["score", *map(str, ALL_INPUTS), "--out", str(out), "--me-domain", "OURCO.EXAMPLE"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == N_ALL and sum(r["skipped"] for r in rows) == 4
    err = capsys.readouterr().err
    assert f"{N_ALL} rows" in err and "messages/s" in err and "skipped 4" in err
    assert not list(tmp_path.glob(".rows.jsonl*"))  # spool and progress record are gone


def test_cli_resume_continues_without_duplicates(tmp_path, monkeypatch, capsys):
    import negclass.batch.score as score_mod

    out = tmp_path / "rows.csv"
    args = ["score", *map(str, ALL_INPUTS), "--out", str(out), "--quiet"]
    real = score_mod.score_messages
    calls = {"n": 0}

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(score_mod, "CHUNK", 4)
    monkeypatch.setattr(score_mod, "score_messages", interrupted)
    assert main(args) == 130
    assert not out.exists() and (tmp_path / ".rows.csv.partial.jsonl").exists()
    monkeypatch.setattr(score_mod, "score_messages", real)
    assert main(args + ["--resume"]) == 0
    frame = pd.read_csv(out)
    expected = [m.id for m in ingest.read(ALL_INPUTS)]
    assert frame["id"].tolist() == expected


def test_score_file_resumes_an_interrupted_run_without_the_command_line(tmp_path, monkeypatch, model):
    import negclass.batch.score as score_mod
    from negclass.batch.score import ScoreRun, score_file
    from negclass.errors import NegclassError

    out = tmp_path / "rows.jsonl"
    inputs = [MAIL / "box.mbox", MAIL / "thread.mbox", MAIL / "table.csv"]
    real = score_mod.score_messages
    calls = {"n": 0}

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the machine went away")
        return real(*a, **k)

    monkeypatch.setattr(score_mod, "CHUNK", 2)
    monkeypatch.setattr(score_mod, "score_messages", failing)
    with pytest.raises(RuntimeError):
        score_file(inputs, out, model=model)
    assert not out.exists()
    with pytest.raises(NegclassError, match="an interrupted run of 4 rows exists"):
        score_file(inputs, out, model=model)
    with pytest.raises(NegclassError, match="other inputs or options"):
        ScoreRun.to_file(inputs[:1], out, model_path=model.path.resolve(), resume=True)
    monkeypatch.setattr(score_mod, "score_messages", real)
    total, summary = score_file(inputs, out, model=model, resume=True)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == [m.id for m in ingest.read(inputs)] and total == len(rows)
    assert summary.rows == len(rows) - 4       # only the rest was scored this time
    assert rows[4:] == [{k: r[k] for k in columns()} for r in score(model, list(ingest.read(inputs))[4:])]


def test_cli_resume_refuses_other_inputs(tmp_path, monkeypatch):
    import negclass.batch.score as score_mod

    out = tmp_path / "rows.csv"
    monkeypatch.setattr(score_mod, "CHUNK", 2)
    monkeypatch.setattr(score_mod, "score_messages", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(["score", str(MAIL / "box.mbox"), "--out", str(out), "--quiet"]) == 130
    assert main(["score", str(MAIL / "maildir"), "--out", str(out), "--quiet", "--resume"]) == 2


def test_cli_user_errors(tmp_path, capsys):
    assert main(["score", str(MAIL / "nope.mbox"), "--out", str(tmp_path / "o.csv")]) == 2
    assert main(["score", str(MAIL / "box.mbox"), "--out", str(tmp_path / "o.txt")]) == 2
    assert main(["score", str(MAIL / "box.mbox"), "--out", str(tmp_path / "o.csv"), "--jobs", "0"]) == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.slow
def test_real_mailbox_sample_gives_one_row_per_message(tmp_path):
    mbox = ROOT.parent / "shared" / "data" / "enron-sample.mbox"
    if not mbox.exists():
        pytest.skip(f"{mbox} is not on this machine")
    out = tmp_path / "enron.parquet"
    assert main(["score", str(mbox), "--out", str(out), "--quiet", "--jobs", "2"]) == 0
    frame = pd.read_parquet(out, columns=["id", "error"])
    assert len(frame) == 23832 and frame["id"].is_unique


def test_a_lotus_forward_with_no_new_words_is_a_no_new_text_row_not_a_prediction(model):
    body = ("---------------------- Forwarded by Pat Quill/HOU/ACME on 03/14/2001 \n09:41 AM ---------------------------\n\n"
            "Robin Vale\n\n03/13/2001 05:02 PM\n\nTo: Pat Quill/HOU/ACME@ACME\ncc:\nSubject: Price sheet\n\n"
            "Pat, we are not interested and we will not meet you on price.\n")
    note = ("Call them on Monday morning, I want to hear from them why they stopped answering before the board "
            "meets on Thursday to decide the budget for the next two quarters.")
    rows = score_messages(model, [ingest.Message("fwd", "s", text=body), ingest.Message("note", "s", text=f"{note}\n\n{body}")])
    assert rows[0]["error"] == NO_NEW_TEXT and rows[0]["reason"] is None
    assert rows[1]["error"] is None and rows[1]["text_chars"] == len(note)  # the note only, not Robin's words


# -- the columns that make a scored file readable on its own ---------------------------------------
@pytest.mark.parametrize("header, expected", [
    ("Mon, 04 Mar 2024 10:14:00 +0000", "2024-03-04T10:14:00Z"),
    ("Tue, 5 Mar 2024 08:30:00 -0800 (PST)", "2024-03-05T16:30:00Z"),   # the Enron form, with a zone comment
    ("Thu, 5 Oct 2000 09:15:00 -0700 (PDT)", "2000-10-05T16:15:00Z"),
    ("11 Mar 2024 13:00:00 +0100", "2024-03-11T12:00:00Z"),             # no weekday
    ("Wed, 13 Mar 2024 12:00:00", "2024-03-13T12:00:00Z"),              # no zone: taken as UTC
    ("Wed, 13 Mar 2024 12:00:00 -0000", "2024-03-13T12:00:00Z"),
    ("Wed, 13 Mar 2024 12:00:00 GMT", "2024-03-13T12:00:00Z"),
    ("2024-03-13T12:00:00+02:00", "2024-03-13T10:00:00Z"),              # ISO, from a table
    ("2024-03-13 12:00:00", "2024-03-13T12:00:00Z"),
    ("2024-03-13T12:00:00Z", "2024-03-13T12:00:00Z"),
    ("sometime next week", None), ("", None), (None, None), ("Mon, 99 Foo 2024 10:00:00 +0000", None),
])
def test_date_utc_parses_the_header_forms(header, expected):
    assert date_utc(header) == expected


def test_subjects_lose_reply_and_forward_prefixes():
    assert normalise_subject("RE: Re:  AW: Fwd: [sales] Renewal   Proposal") == "renewal proposal"
    assert normalise_subject("Re[2]: Pricing") == normalise_subject("pricing") == "pricing"
    assert normalise_subject("Reminder: invoice") == "reminder: invoice"   # "Re" only as a prefix
    assert normalise_subject(None) == ""


def test_thread_comes_from_references_then_in_reply_to_then_the_subject(model):
    rows = list(score(model, ingest.read([MAIL / "thread.mbox"])))
    by_id = {r["id"]: r for r in rows}
    root = "<t1@ourco.example>"
    assert [by_id[i]["thread"] for i in ("<t2@buyer.example>", "<t3@ourco.example>", "<t4@buyer.example>")] == [root] * 3
    assert by_id[root]["thread"] == "subject:renewal proposal"   # the root has no References
    assert by_id["<o1@other.example>"]["thread"] == "subject:lunch"
    assert rows[-1]["thread"] == "subject:pricing" and rows[-1]["counterparty"] == "kim@other.example"
    assert by_id["<o1@other.example>"]["date_utc"] is None and by_id["<o1@other.example>"]["date"]
    assert by_id["<t2@buyer.example>"]["date_utc"] == "2024-03-05T16:30:00Z"
    assert by_id["<t2@buyer.example>"]["counterparty"] == "dana@buyer.example"


def test_every_classified_row_has_snippet_evidence_and_tactic_titles(model):
    rows = list(score(model, ingest.read(ALL_INPUTS + [MAIL / "thread.mbox"]), batch_size=64))
    ok = [r for r in rows if not r["error"] and not r["skipped"]]
    english = {r["id"] for r in ok if r["source"].endswith(("box.mbox", "thread.mbox", "table.csv"))}
    assert len(english) >= 6
    flagged = [r for r in ok if r["reason"] != "none"]
    assert flagged and any(r["id"] in english for r in flagged)
    for r in ok:
        # evidence: the phrases that pushed towards a refusal, found for flagged rows only; a text in a
        # language the model does not read (the German reply) may have none
        assert r["snippet"] and len(r["snippet"]) <= 200, r["id"]
        if r["reason"] != "none":
            assert r["evidence"] or r["id"] not in english, r["id"]
        else:
            assert not r["evidence"], r["id"]
        assert r["snippet"].rstrip("…")[:50] in " ".join(r["text"].split())
        assert r["model"]
        if r["reason"] != "none":
            assert r["tactic_titles"] and len(r["tactic_titles"].split("; ")) == len(r["tactics"].split(";"))
            assert "_" not in r["tactic_titles"]   # plain words, not ids
    for r in rows:
        if r["error"] or r["skipped"]:
            assert r["snippet"] is None and r["evidence"] is None
    long = snippet("We are happy with our current supplier.\n\n" * 20)
    assert len(long) == 200 and long.endswith("…") and "\n" not in long


def test_cli_include_text_and_jsonl_on_standard_output(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["score", str(MAIL / "thread.mbox"), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == columns() and "text" not in frame
    assert main(["score", str(MAIL / "thread.mbox"), "--out", str(out), "--quiet", "--jobs", "1",
                 "--include-text"]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == columns(include_text=True) and frame["text"].notna().all()
    capsys.readouterr()
    assert main(["score", str(MAIL / "thread.mbox"), "--out", "-", "--quiet", "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert len(lines) == 6 and list(lines[0]) == columns() and captured.err == ""
    assert [r["id"] for r in lines] == list(frame["id"])
    assert main(["score", str(MAIL / "thread.mbox"), "--out", "-", "--resume"]) == 2


def _collector():
    import gc
    return gc.get_threshold(), gc.get_freeze_count()


def test_scoring_leaves_the_garbage_collector_as_it_found_it(model):
    import gc

    units = list(ingest.units([MAIL / "box.mbox", MAIL / "thread.mbox"]))
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        rows = score_units(iter(units), model=model, jobs=1, chunk_size=2)
        first = next(rows)
        # between chunks (and so with the generator left unfinished) nothing is changed
        assert first and _collector() == ((900, 11, 12), 0)
        assert sum(len(r) for r in rows) + len(first) == len(units)
        assert _collector() == ((900, 11, 12), 0)
        # objects the application froze stay frozen; nothing of the run's is left frozen
        gc.freeze()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        for _ in score_units(iter(units), model=model, jobs=1):
            pass
        threshold, still_frozen = _collector()
        # (reference counting may free a few frozen objects meanwhile; none are added or unfrozen)
        assert threshold == (900, 11, 12) and frozen - 100 < still_frozen <= frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("failure", [RuntimeError("a chunk failed"), KeyboardInterrupt()])
def test_a_run_that_fails_midway_leaves_the_garbage_collector_as_it_found_it(model, monkeypatch, failure):
    import gc

    import negclass.batch.score as score_mod

    units = list(ingest.units([MAIL / "box.mbox", MAIL / "thread.mbox"]))
    real, calls, seen = score_mod.score_messages, {"n": 0}, []

    def failing(*a, **k):
        calls["n"] += 1
        seen.append(_collector())          # what the chunk is scored under
        if calls["n"] == 2:
            raise failure
        return real(*a, **k)

    monkeypatch.setattr(score_mod, "score_messages", failing)
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        with pytest.raises(type(failure)):
            for _ in score_units(iter(units), model=model, jobs=1, chunk_size=2):
                pass
        assert calls["n"] == 2 and all(t == score_mod.GC_THRESHOLD and n > 0 for t, n in seen)
        assert _collector() == ((900, 11, 12), 0)
        # with objects the application froze: they stay frozen, and the run unfreezes nothing
        calls["n"], seen[:] = 0, []
        gc.freeze()
        frozen = gc.get_freeze_count()
        with pytest.raises(type(failure)):
            for _ in score_units(iter(units), model=model, jobs=1, chunk_size=2):
                pass
        threshold, still_frozen = _collector()
        assert threshold == (900, 11, 12) and frozen - 100 < still_frozen <= frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_the_collector_setting_is_restored_by_the_last_run_to_finish():
    import gc

    from negclass.batch.score import GC_THRESHOLD, _gc_for_batch

    before = gc.get_threshold()
    a, b = _gc_for_batch(), _gc_for_batch()
    a.__enter__()
    b.__enter__()
    assert gc.get_threshold() == GC_THRESHOLD and gc.get_freeze_count() > 0
    a.__exit__(None, None, None)          # the first to finish is not the last
    assert gc.get_threshold() == GC_THRESHOLD
    b.__exit__(None, None, None)
    assert _collector() == (before, 0)


def test_no_new_text_is_recognised_by_the_result_not_its_message(model):
    from negclass.batch.schema import to_row
    from negclass.model.predict import Classification

    msg = ingest.Message("1", "s", text="> On Monday Sam wrote:\n> can we meet?\n")
    empty, = model.classify_many([msg.text])
    assert empty.empty and empty.error
    assert to_row(msg, empty)["error"] == NO_NEW_TEXT
    other = Classification(None, None, 0.0, {}, True, error="empty text, but another failure")
    assert to_row(msg, other)["error"] == "empty text, but another failure"
