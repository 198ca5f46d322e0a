#!/usr/bin/env python
"""Re-clean the text of the examples mined from real mail with the current cleaner.

Reads data/real-test.jsonl, data/real-dev.jsonl and data/corpus/enron_*.jsonl (or the files
given), runs ``negclass.mail.cleaning.clean`` on each row's ``text`` and reports what would change.
Nothing is written without ``--write``; with it each changed file is replaced atomically
(temporary file, then rename), unchanged lines stay byte for byte. No row is dropped: a row
whose text would become empty (only quoted or forwarded words) is listed and kept unchanged,
for a person to decide.

By default a row is re-cleaned only when the cut removes a quoted header block (a To:/cc: line
followed by Subject:) or a forward marker that its text holds, which is what the Lotus Notes
rules fixed. The cleaner also changes some stored texts for other reasons (a sign-off or a
footer cut again: stored texts were cleaned once and some were edited by hand, e.g. the minimal
pairs); those are listed as left alone, and ``--all`` applies them too.

    python scripts/reclean_real.py            # dry run: counts and the rows that would change
    python scripts/reclean_real.py --write    # rewrite the files
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from negclass.mail.cleaning import clean  # noqa: E402


QUOTED = re.compile(r"^[ \t>]*(?:To|cc)[ \t]*:.*\n(?:.*\n){0,3}?[ \t>]*Subject[ \t]*:|Forwarded by",
                    re.IGNORECASE | re.MULTILINE)


def cuts_quoted_block(text: str, new: str) -> bool:
    """Whether cleaning ``text`` to ``new`` removes a quoted header block or forward marker."""
    return QUOTED.search(text + "\n") is not None and QUOTED.search(new + "\n") is None


def default_files() -> list[Path]:
    data = ROOT / "data"
    return [data / "real-test.jsonl", data / "real-dev.jsonl", *sorted((data / "corpus").glob("enron_*.jsonl"))]


def reclean_lines(lines: list[str], everything: bool = False):
    """(new lines, changed rows as (line, id, old chars, new chars), rows kept because they would be
    emptied, rows left alone because the change is not a quoted-block cut (unless ``everything``))."""
    out, changed, emptied, other = [], [], [], []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            out.append(line)
            continue
        row = json.loads(line)
        text = row.get("text")
        if not isinstance(text, str):
            out.append(line)
            continue
        new = clean(text).text
        if new == text:
            out.append(line)
        elif not new.strip():
            emptied.append((lineno, str(row.get("id"))))
            out.append(line)
        elif not everything and not cuts_quoted_block(text, new):
            other.append((lineno, str(row.get("id"))))
            out.append(line)
        else:
            changed.append((lineno, str(row.get("id")), len(text), len(new)))
            row["text"] = new
            out.append(json.dumps(row, ensure_ascii=False) + ("\n" if line.endswith("\n") else ""))
    return out, changed, emptied, other


def atomic_write(path: Path, lines: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.writelines(lines)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="JSONL files (default: the real-mail examples in data/)")
    ap.add_argument("--write", action="store_true", help="rewrite the files (default: only report)")
    ap.add_argument("--all", action="store_true",
                    help="also apply changes that are not a quoted-block cut (see the module docstring)")
    args = ap.parse_args(argv)
    total_changed = total_emptied = total_other = total_rows = 0
    for path in args.files or default_files():
        if not path.exists():
            print(f"{path}: missing, skipped", file=sys.stderr)
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        new, changed, emptied, other = reclean_lines(lines, everything=args.all)
        rows = sum(1 for line in lines if line.strip())
        total_rows += rows
        total_changed += len(changed)
        total_emptied += len(emptied)
        total_other += len(other)
        print(f"{path}: {rows} rows, {len(changed)} re-cleaned, {len(emptied)} would be empty (kept unchanged), "
              f"{len(other)} other changes left alone")
        for lineno, rid, before, after in changed:
            print(f"  changed {path.name}:{lineno} {rid}: {before} -> {after} characters")
        for lineno, rid in emptied:
            print(f"  kept    {path.name}:{lineno} {rid}: the cleaner leaves no new text; decide by hand")
        for lineno, rid in other:
            print(f"  alone   {path.name}:{lineno} {rid}: changed by the cleaner, but not a quoted-block cut (--all)")
        if args.write and changed:
            atomic_write(path, new)
    verb = "rewritten" if args.write else "would change (dry run; --write to rewrite)"
    print(f"{total_changed} of {total_rows} rows {verb}; {total_emptied} kept unchanged because they would be "
          f"empty; {total_other} other changes left alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
