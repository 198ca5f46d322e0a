"""Write result rows to CSV, JSONL or Parquet, chosen by extension; atomic (temp file, rename)."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

from ..errors import NegclassError
from ..files import follow_umask

OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class RowWriter:
    """Context manager collecting rows into a temp file that replaces ``path`` on success.

    If the block raises, the temp file is removed and any existing ``path`` is left untouched.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path = Path(path)
        self.columns = columns
        self.kind = OUTPUT_FORMATS.get(self.path.suffix.lower())
        if self.kind is None:
            raise NegclassError(f"{self.path}: output must end in .csv, .jsonl or .parquet")
        self.count = 0

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        if self.kind == "parquet":
            os.close(fd)
            self._pending: list[dict] = []
            self._pq = None
        else:
            self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
            if self.kind == "csv":
                self._csv = csv.DictWriter(self._fh, fieldnames=self.columns, extrasaction="ignore")
                self._csv.writeheader()
        return self

    def write(self, row: dict) -> None:
        self.count += 1
        if self.kind == "csv":
            self._csv.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in self.columns})
        elif self.kind == "jsonl":
            self._fh.write(json.dumps({k: row.get(k) for k in self.columns}, ensure_ascii=False) + "\n")
        else:
            self._pending.append({k: row.get(k) for k in self.columns})
            if len(self._pending) >= 5000:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self._pending, schema=_schema(self.columns))
        if self._pq is None:
            self._pq = pq.ParquetWriter(self._tmp, table.schema)
        self._pq.write_table(table)
        self._pending = []

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.kind == "parquet":
                if exc_type is None and (self._pending or self._pq is None):
                    self._flush_parquet()
                if self._pq is not None:
                    self._pq.close()
            else:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
            if exc_type is None:
                follow_umask(Path(self._tmp))
                os.replace(self._tmp, self.path)
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)
        return False


def _schema(columns: list[str]):
    import pyarrow as pa

    from .schema import column_type

    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
    return pa.schema([(c, types[column_type(c)]) for c in columns])


def write_jsonl(fh, rows, columns: list[str]) -> int:
    """Write rows as JSON lines to an open text stream (``--out -``); returns how many."""
    n = 0
    for row in rows:
        fh.write(json.dumps({k: row.get(k) for k in columns}, ensure_ascii=False) + "\n")
        n += 1
    fh.flush()
    return n


class StreamRows:
    """Rows written to an open text stream as JSON lines as they come (``--out -``): the same
    ``write``/``close``/``finish`` as a ``Spool``, with nothing to resume (``done`` is 0)."""

    done = 0

    def __init__(self, stream, columns: list[str]):
        self.stream, self.columns, self.count = stream, columns, 0

    def write(self, rows: list[dict]) -> None:
        self.count += write_jsonl(self.stream, rows, self.columns)

    def close(self) -> None:
        pass

    def finish(self) -> int:
        return self.count


class Spool:
    """Rows written as they come to a hidden JSON-lines spool beside the output, with a progress
    record; ``finish`` turns the spool into the output (atomically) and removes both.

    If a run is interrupted, the spool and its progress record stay; a new ``Spool`` with
    ``resume=True`` and the same ``key`` (what identifies the run: inputs, options) cuts the spool
    back to the last recorded row and reports how many rows are done, so the caller skips them.
    Rows are only counted as done once flushed to disk, so none is lost or written twice.
    """

    def __init__(self, path: Path, columns: list[str], key: dict, resume: bool = False, overwrite: bool = False):
        self.path = Path(path)
        if OUTPUT_FORMATS.get(self.path.suffix.lower()) is None:
            raise NegclassError(f"{self.path}: output must end in .csv, .jsonl or .parquet")
        self.columns = columns
        self.key = key
        self.spool = self.path.parent / f".{self.path.name}.partial.jsonl"
        self.state = self.path.parent / f".{self.path.name}.progress.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done = 0
        size = 0
        if not resume and not overwrite and self.spool.exists() and self.state.exists():
            left, same = self.interrupted_rows()
            if left:
                raise NegclassError(f"{self.path}: an interrupted run of {left} rows exists; "
                                    + ("use --resume to continue it or --overwrite to start over" if same else
                                       "it used other inputs or options: use --overwrite to start over"))
        if resume and self.spool.exists() and self.state.exists():
            try:
                state = json.loads(self.state.read_text())
            except ValueError:
                state = {}
            if state.get("key") != key:
                raise NegclassError(f"{self.path}: the interrupted run used other inputs or options; "
                                    "run again with --overwrite instead of --resume to start over")
            self.done, size = int(state["rows"]), int(state["bytes"])
        self._fh = open(self.spool, "r+b" if size else "wb")
        self._fh.truncate(size)
        self._fh.seek(size)
        self._save(size)

    def interrupted_rows(self) -> tuple[int, bool]:
        """How many rows an interrupted run left in the spool (0 when none), and whether it had our key."""
        try:
            state = json.loads(self.state.read_text())
            return int(state.get("rows", 0)), state.get("key") == self.key
        except (OSError, ValueError, TypeError, AttributeError):
            return 0, False

    def _save(self, size: int) -> None:
        tmp = self.state.with_name(self.state.name + ".tmp")
        tmp.write_text(json.dumps({"key": self.key, "rows": self.done, "bytes": size}))
        os.replace(tmp, self.state)

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        data = "".join(json.dumps({k: r.get(k) for k in self.columns}, ensure_ascii=False) + "\n" for r in rows)
        self._fh.write(data.encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.done += len(rows)
        self._save(self._fh.tell())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def rows(self):
        with open(self.spool, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    def finish(self) -> int:
        """Write the output from the spool (atomic) and remove the spool; returns the row count."""
        self.close()
        with RowWriter(self.path, self.columns) as out:
            for row in self.rows():
                out.write(row)
        self.spool.unlink(missing_ok=True)
        self.state.unlink(missing_ok=True)
        return out.count
