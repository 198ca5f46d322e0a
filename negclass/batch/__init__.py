"""Scoring many messages and writing the results: ``score`` (chunks, worker processes, the row of
each message and the columns of a scored file), ``output`` (CSV, JSONL and Parquet writers, the
resumable spool), ``report`` (the HTML review page) and ``progress`` (the progress bar)."""
