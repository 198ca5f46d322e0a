"""Scoring many messages and writing the results: ``score`` (chunks, worker processes, a whole
run that can be resumed), ``schema`` (the columns of a scored file and the row of one message),
``output`` (CSV, JSONL and Parquet writers, the resumable spool), ``report`` (the HTML review
page) and ``progress`` (the progress bar)."""
