#!/usr/bin/env python
"""Count messages whose cleaned text still holds a quoted header block (To:/cc: then Subject:).

A readable message (no read error) with new text "holds a block" when its cleaned text has a
line starting "To:" or "cc:" followed within four lines by one starting "Subject:": debris of a
quoted or forwarded message that the cleaner did not cut (Lotus Notes and Outlook layouts).

    python scripts/header_leftovers.py /work/shared/data/enron-sample.mbox [--show N]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.mail import ingest  # noqa: E402
from negclass.mail.cleaning import clean  # noqa: E402

BLOCK = re.compile(r"^[ \t>]*(?:To|cc)[ \t]*:.*\n(?:.*\n){0,3}?[ \t>]*Subject[ \t]*:", re.IGNORECASE | re.MULTILINE)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", type=Path)
    ap.add_argument("--show", type=int, default=0, help="print the ids of the first N messages holding a block")
    args = ap.parse_args()
    readable = with_text = holding = 0
    shown = []
    for m in ingest.read(args.inputs):
        if m.error:
            continue
        readable += 1
        text = clean(m.text, html=m.html).text
        if not text:
            continue
        with_text += 1
        if BLOCK.search(text + "\n"):
            holding += 1
            if len(shown) < args.show:
                shown.append(m.id)
    print(f"{readable} readable messages, {with_text} with new text; {holding} of these "
          f"({holding / max(with_text, 1):.1%}) still hold a To:/cc: ... Subject: block after cleaning")
    for mid in shown:
        print(mid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
