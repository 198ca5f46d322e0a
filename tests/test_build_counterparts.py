"""scripts/build_counterparts.py: one-sided edits of real mail become rows; bad edits are left out."""
import json

from tests.conftest import load_script

LONG = "Thanks for sending the resume over. " + "We looked at the desk plans for next year in detail. " * 6


def _pool():
    ref = {"id": "pool-a", "text": LONG + "We will pass on him.", "reason": "too_strong", "signal": "strong_batna",
           "channel": "email", "message_id": "<a@x>"}
    none = {"id": "pool-b", "text": "Sure, send the draft and we'll look at it Monday.", "reason": "none",
            "signal": "", "channel": "email", "message_id": "<b@x>"}
    return {r["id"]: r for r in (ref, none)}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


def test_counterparts_are_built_and_bad_edits_left_out(tmp_path):
    mod = load_script("build_counterparts")
    items, outs = tmp_path / "items", tmp_path / "outs"
    items.mkdir()
    outs.mkdir()
    _write(items / "e.jsonl", [{"pid": "e-0", "task": "engage", "text": LONG + "We will pass on him."},
                               {"pid": "e-1", "task": "engage", "text": LONG + "We will pass on him."}])
    (items / "e_map.json").write_text(json.dumps({"e-0": "pool-a", "e-1": "pool-a"}))
    _write(items / "r.jsonl", [{"pid": "r-0", "task": "refuse", "text": "Sure, send the draft"},
                               {"pid": "r-1", "task": "refuse", "text": "Sure, send the draft"},
                               {"pid": "r-2", "task": "refuse", "text": "Sure, send the draft"}])
    (items / "r_map.json").write_text(json.dumps({"r-0": "pool-b", "r-1": "pool-b", "r-2": "pool-b"}))
    _write(outs / "out_e.jsonl", [{"pid": "e-0", "engaged": LONG + "Can he do a call on Tuesday?"},
                                  {"pid": "e-1", "engaged": "Completely different text about gas."},
                                  {"pid": "e-0", "engaged": "a second answer for the same pid"}])
    _write(outs / "out_r.jsonl", [{"pid": "r-0", "refusal": "No thanks, we have our own drafts.",
                                   "reason": "too_strong", "signal": "strong_batna"},
                                  {"pid": "r-1", "refusal": "We lack the leverage here, so no.",
                                   "reason": "too_weak", "signal": "win_lose"},
                                  {"pid": "r-2", "refusal": "No.", "reason": "too_strong", "signal": "overwhelmed"}])
    rows, problems, pairs = mod.build(items, outs, _pool())
    assert [(r["reason"], r["signal"], r["message_id"]) for r in rows] == [
        ("none", "", "<a@x>"), ("too_strong", "strong_batna", "<b@x>")]
    assert all(r["source"] == "enron-pairs" and r["id"].startswith("cpair-") for r in rows)
    assert problems == {"not a minimal edit": 1, "unknown or repeated pid": 1, "taxonomy word": 1,
                        "unknown reason or signal": 1}
    assert len(pairs) == 4  # both sides of each kept edit
