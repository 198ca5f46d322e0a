"""scripts/build_pairs.py: pairs become labelled rows; quoted replies get their email; a pid written twice counts once."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import load_script

EMAIL = ("Dear Mr. Quill,\n\nOur firm places senior gas schedulers with trading desks across Houston. "
         "I have two openings that match your background and would be glad to walk you through them.\n\n"
         "Regards,\nDana Whit")
ITEMS = [
    {"pid": "x-1", "text": EMAIL, "reason": "too_strong", "signal": "strong_batna", "placement": "quoted_reply",
     "tone": "curt", "deal": None},
    {"pid": "x-2", "text": "Pat - the Tenaska confirm is still open on my side, can you check it today?\nRobin",
     "reason": "too_weak", "signal": "overwhelmed", "placement": "first", "tone": "polite", "deal": None},
]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_quoted_reply_rows_keep_only_the_reply_and_a_repeated_pid_is_dropped(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    _write(src / "items.jsonl", ITEMS)
    _write(out / "a.jsonl", [
        {"pid": "x-1", "refusal": "Happy where I am, thanks.\nPat", "engaged": "Send me the first one.\nPat"},
        {"pid": "x-2", "refusal": "I'm swamped this week and can't get to Tenaska.\nPat - the Tenaska confirm is "
                                  "still open on my side, can you check it today?\nRobin",
         "engaged": "I'll call Tenaska at 2 about the confirm.\nPat - the Tenaska confirm is still open on my "
                    "side, can you check it today?\nRobin"},
    ])
    _write(out / "b.jsonl", [{"pid": "x-1", "refusal": "No.", "engaged": "Yes."}])  # the same pid again
    mod = load_script("build_pairs")
    rows, problems = mod.load(src, out, {"x-1": "<1@example>", "x-2": "<2@example>"})
    assert problems["pid written twice"] == 1
    by_id = {r["id"][-1] + r["message_id"]: r for r in rows}
    assert by_id["r<1@example>"]["text"] == "Happy where I am, thanks.\nPat"  # the quoted email is cut by cleaning
    assert by_id["e<1@example>"]["reason"] == "none"
    assert by_id["r<1@example>"]["kind"] == "quoted_reply"
    assert by_id["r<2@example>"]["signal"] == "overwhelmed"
    assert len(rows) == 4
