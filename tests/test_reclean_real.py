"""scripts/reclean_real.py: re-cleans stored texts atomically, drops nothing, reports what it did."""
from __future__ import annotations

import json

from tests.conftest import load_script

ROWS = [
    {"id": "keep", "text": "We will not move on price this quarter.", "reason": "no_budget"},
    {"id": "lotus", "reason": "none",
     "text": "Send me the sheet and I will look at it.\n\nRobin Vale\n03/13/2001 05:02 PM\n\nTo: Pat Quill/HOU/ACME@ACME\n"
             "cc:\nSubject: Price sheet\n\nPat, the old sheet is attached."},
    {"id": "only-forward", "reason": "none",
     "text": "----- Forwarded by Pat Quill/HOU/ACME on 03/14/2001\n09:41 AM -----\n\nWe hold the price."},
]


def test_reclean_rewrites_quoted_blocks_and_keeps_rows_that_would_be_empty(tmp_path, capsys):
    path = tmp_path / "real.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS]
    path.write_text("".join(lines), encoding="utf-8")
    mod = load_script("reclean_real")
    assert mod.main([str(path)]) == 0
    assert path.read_text(encoding="utf-8") == "".join(lines)  # a dry run writes nothing
    assert mod.main([str(path), "--write"]) == 0
    out = capsys.readouterr().out
    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(after) == len(ROWS)
    assert after[0] == lines[0] and after[2] == lines[2]  # untouched and would-be-empty rows stay byte for byte
    lotus = json.loads(after[1])
    assert lotus["text"] == "Send me the sheet and I will look at it." and lotus["reason"] == "none"
    assert "1 of 3 rows rewritten" in out and "only-forward" in out
    assert [p.name for p in tmp_path.iterdir()] == ["real.jsonl"]  # no temporary file left
