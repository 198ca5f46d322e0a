"""suggest: the uncertainty measures, picking, scored files and messages as input, writing and
printing the picks (whole ids and the text that was classified, not the raw body)."""
from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from negclass.apps import cli
from negclass.errors import NegclassError
from negclass.mail import ingest
from negclass.model import taxonomy
from negclass.training import suggest

from ..conftest import FIXTURES

LONG_ID = "<CAF8x7t1qY9-this-is-a-rather-long-message-id-from-a-mail-client@mail.gmail.example>"


def test_render_shows_whole_ids_and_the_classified_text(model, monkeypatch):
    gmail = next(ingest.read([FIXTURES / "mail" / "clients" / "gmail_reply.eml"]))
    gmail.id = LONG_ID
    monkeypatch.setattr(ingest, "read", lambda *a, **k: iter([gmail]))
    frame = suggest.suggest([FIXTURES / "mail" / "clients" / "gmail_reply.eml"], n=1, model=model)
    out = suggest.render(frame)
    assert LONG_ID in out
    shown = out.splitlines()[-1].strip()
    quoted = [q.lstrip("> ").strip() for q in gmail.text.splitlines() if q.startswith(">")]
    quoted = [q for q in quoted if len(q) > 20]  # the quoted refusal from our side, not "Sam"
    assert quoted and not any(q[:30] in shown for q in quoted)
    assert shown and shown[:40] in " ".join(gmail.text.split())


# -- the uncertainty measures ----------------------------------------------------------------------



REASONS = taxonomy.reasons()


def test_margin_is_one_minus_the_gap_between_the_top_two():
    assert suggest.uncertainty([0.1, 0.6, 0.2, 0.1], "margin") == pytest.approx(1 - (0.6 - 0.2))
    assert suggest.uncertainty([0.5, 0.5, 0, 0], "margin") == pytest.approx(1.0)
    assert suggest.uncertainty([1, 0, 0, 0], "margin") == pytest.approx(0.0)


def test_entropy_is_normalised_to_one_for_an_even_spread():
    assert suggest.uncertainty([0.25] * 4, "entropy") == pytest.approx(1.0)
    assert suggest.uncertainty([1, 0, 0, 0], "entropy") == pytest.approx(0.0)
    p = [0.7, 0.1, 0.1, 0.1]
    assert suggest.uncertainty(p, "entropy") == pytest.approx(-sum(x * math.log(x) for x in p) / math.log(4))


def test_confidence_is_one_minus_the_top_probability():
    assert suggest.uncertainty([0.2, 0.3, 0.4, 0.1], "confidence") == pytest.approx(0.6)


def test_an_unknown_measure_is_refused_before_any_row_is_read():
    def rows():
        raise AssertionError("rows were read")
        yield {}

    with pytest.raises(NegclassError, match="unknown measure 'guess'; expected one of margin, entropy, confidence"):
        suggest.pick(rows(), 5, "guess")
    with pytest.raises(NegclassError, match="-n must be at least 1"):
        suggest.pick(rows(), 0)


def row(i, probs, text=None, **more):
    return {"id": f"m{i}", "text": text if text is not None else f"message number {i}",
            **{f"p_{r}": p for r, p in zip(REASONS, probs)}, **more}


def test_pick_ranks_most_uncertain_first_keeps_n_and_picks_a_repeated_text_once():
    rows = [row(0, [0.9, 0.05, 0.05, 0]),                               # sure
            row(1, [0.45, 0.45, 0.1, 0], text="Same   words here"),      # most unsure
            row(2, [0.45, 0.45, 0.1, 0], text="same words HERE"),        # the same text again
            row(3, [0.6, 0.3, 0.1, 0]),
            row(4, [0.5, 0.4, 0.1, 0]),
            {"id": "no-probabilities", "text": "x"},                    # not scored: ignored
            row(5, ["", 0.5, 0.5, 0])]                                    # unreadable probability: ignored
    picked = suggest.pick(iter(rows), n=3)
    assert [p["id"] for p in picked] == ["m1", "m4", "m3"]
    assert [p["uncertainty"] for p in picked] == pytest.approx([1.0, 0.9, 0.7])
    assert [p["id"] for p in suggest.pick(iter(rows), n=10)] == ["m1", "m4", "m3", "m0"]


def test_ties_keep_the_order_of_the_file():
    rows = [row(i, [0.5, 0.5, 0, 0]) for i in range(6)]
    assert [p["id"] for p in suggest.pick(iter(rows), n=4)] == ["m0", "m1", "m2", "m3"]


# -- from a scored file ----------------------------------------------------------------------------
def write_scored(path, rows):
    fields = ["id", "source", "reason", "signal", "confidence", *(f"p_{r}" for r in REASONS), "error", "skipped",
              "text"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({"reason": "too_strong", "confidence": 0.5, "error": "", "skipped": "", "source": "x", **r})


def test_a_scored_file_is_ranked_by_its_own_probabilities_without_a_model(tmp_path, monkeypatch):
    monkeypatch.setattr("negclass.model.predict.load_model", lambda *a, **k: pytest.fail("a model was loaded"))
    path = tmp_path / "scored.csv"
    write_scored(path, [row(0, [0.9, 0.05, 0.05, 0]), row(1, [0.4, 0.4, 0.1, 0.1]),
                        row(2, [0.34, 0.33, 0.33, 0], error="binary content, not text"),   # not classified
                        row(3, [0.34, 0.33, 0.33, 0], skipped="True"),                     # our own message
                        row(4, [0.5, 0.3, 0.1, 0.1])])
    frame = suggest.suggest([path], n=5)
    assert frame["id"].tolist() == ["m1", "m4", "m0"]
    assert frame["rank"].tolist() == [1, 2, 3]
    assert frame["text"].tolist() == ["message number 1", "message number 4", "message number 0"]
    assert {"error", "skipped", "tactics"}.isdisjoint(frame.columns)
    for c in suggest.LABEL_COLUMNS:
        assert (frame[c] == "").all()


def test_a_scored_file_without_texts_gets_them_from_the_mailbox_it_came_from(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "box.mbox").write_bytes((FIXTURES / "mail" / "box.mbox").read_bytes())
    assert cli.main(["score", "box.mbox", "--out", "scored.csv", "--quiet", "--jobs", "1"]) == 0
    assert "text" not in next(csv.reader(open("scored.csv", encoding="utf-8")))
    frame = suggest.suggest([tmp_path / "scored.csv"], n=50)
    texts = {m.id: m.text for m in ingest.read([tmp_path / "box.mbox"])}
    assert len(frame) and all(t == texts[i] for i, t in zip(frame["id"], frame["text"]))


def test_messages_to_classify_are_scored_by_the_model_given(model):
    inputs = [FIXTURES / "mail" / "box.mbox"]
    frame = suggest.suggest(inputs, n=2, by="entropy", model=model)
    assert len(frame) == 2
    first = next(m for m in ingest.read(inputs) if m.id == frame["id"][0])
    probs = model.classify(first.text).probabilities
    assert frame["uncertainty"][0] == pytest.approx(suggest.uncertainty(probs.values(), "entropy"), abs=1e-6)
    assert frame["uncertainty"][0] >= frame["uncertainty"][1]


# -- writing the picks -----------------------------------------------------------------------------
@pytest.fixture
def picks(tmp_path):
    path = tmp_path / "scored.csv"
    write_scored(path, [row(i, [0.5 - i / 20, 0.3, 0.1, 0.1 + i / 20], text=f"Ünïcode message {i}") for i in range(3)])
    return suggest.suggest([path], n=3)


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_write_round_trips_and_the_file_is_training_input(picks, tmp_path, ext):
    from negclass.training import dataset

    out = tmp_path / "out" / f"pick.{ext}"
    suggest.write(picks, out)
    back = {"csv": lambda p: pd.read_csv(p, keep_default_na=False), "parquet": pd.read_parquet,
            "jsonl": lambda p: pd.read_json(p, lines=True)}[ext](out)
    assert back["id"].tolist() == picks["id"].tolist() and back["text"].tolist() == picks["text"].tolist()
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    with pytest.raises(NegclassError, match="no corrected or confirmed rows"):   # untouched picks teach nothing
        dataset.load_files([out])


def test_write_refuses_other_extensions_and_keeps_the_old_file_on_failure(picks, tmp_path, monkeypatch):
    with pytest.raises(NegclassError, match=r"pick.xlsx: output must end in .csv, .jsonl or .parquet"):
        suggest.write(picks, tmp_path / "pick.xlsx")
    out = tmp_path / "pick.csv"
    out.write_text("earlier picks\n")

    def full(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OSError, match="disk full"):
        suggest.write(picks, out)
    assert out.read_text() == "earlier picks\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pick.csv", "scored.csv"]   # no temporary file left


def test_render_marks_a_cut_text_and_prints_two_lines_a_pick(picks):
    long = picks.astype({"snippet": object})
    long.loc[0, "snippet"] = "word " * 40
    lines = suggest.render(long, width=30).splitlines()
    assert len(lines) == 2 + 2 * len(picks)
    assert lines[3].strip().endswith("…") and len(lines[3].strip()) == 30
    assert lines[2].split()[0] == "1" and lines[2].split()[-1] == long["id"][0]
    assert lines[5].strip() == long["text"][1]   # no snippet: the text is shown
