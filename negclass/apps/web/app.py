"""The web application: the page (static files) and its JSON API.

* ``POST /api/classify`` — one text in, the reason, confidence, signal, evidence and tactics out.
* ``POST /api/score`` — an uploaded .eml, .mbox, .msg or CSV scored message by message, as one
  JSON document, a stream of JSON lines (``format=ndjson``) or a CSV download (``format=csv``).
  The upload is spooled to a temporary file as it arrives and refused with 413 as soon as it
  passes the size limit; results are streamed back chunk by chunk.
* ``POST /api/report`` — a scored file (CSV or JSON lines, as ``/api/score`` or ``negclass score``
  writes it) turned into the self-contained review page of ``negclass report``.
* ``POST /api/corrections`` — "this is wrong, the real reason is ...": appended to the labelled
  corrections file in the user data directory.
* ``GET /api/info`` — the model, the reasons and signals in plain words, the limits.

The model is loaded once per process and shared by all requests; a lock serialises the calls
into it. Bad input gets a 4xx with a one-line ``detail`` meant to be shown to the user as is.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, Literal, Optional

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.background import BackgroundTask

from ...batch import schema, score
from ...errors import DataError, EmptyTextError, NegclassError
from ...mail import ingest, mime
from ...mail.message import Message
from ...model import playbook, taxonomy
from .corrections import Corrections

log = logging.getLogger("negclass.web")

STATIC = Path(__file__).resolve().parent / "static"
MB = 1024 * 1024
MAX_UPLOAD_BYTES = 50 * MB     # default limit of an uploaded file
MAX_TEXT_CHARS = 100_000       # longest text /api/classify accepts
MAX_JSON_BYTES = 2 * MB        # largest JSON request body
ROW_TEXT_CHARS = 20_000        # text sent back per scored row when asked for (for corrections)
CHUNK = 256                    # messages scored per step of a streamed upload
UPLOAD_TYPES = {".eml": "eml", ".mbox": "mbox", ".mbx": "mbox", ".msg": "msg", ".csv": "csv", ".jsonl": "jsonl",
                ".ndjson": "jsonl"}
KIND_NAMES = {"eml": "an email (.eml)", "mbox": "a mailbox (.mbox)", "msg": "an Outlook message (.msg)",
              "csv": "a CSV table", "jsonl": "a JSON-lines table"}
REPORT_TYPES = {".csv", ".jsonl", ".ndjson"}


# -- request and response models ----------------------------------------------------------------
class ClassifyRequest(BaseModel):
    text: str = Field(description="What the counterparty wrote: an email (headers, quoted replies and "
                                  "signatures are fine, only the new words count), a note or a chat message.",
                      examples=["Thanks, but we're happy with our current supplier and have two other quotes "
                                "in hand, so there's no need to meet."])
    html: Optional[bool] = Field(None, description="The text is HTML (default: detected).")


class EvidenceOut(BaseModel):
    text: str = Field(description="The phrase, as it appears in the text sent.")
    start: Optional[int] = Field(description="Character offset (Unicode code points) of the phrase in the text "
                                             "sent; null when it could not be located.")
    end: Optional[int]
    weight: float = Field(description="How strongly the phrase pushed towards the reason.")
    cue: Optional[str] = Field(description="The rule cue that matched, if any.")


class TacticOut(BaseModel):
    id: str
    title: str
    do: str = Field(description="What to do.")
    say: str = Field(description="Example wording.")


class ClassifyResponse(BaseModel):
    reason: str = Field(description="too_strong, too_weak, emotions_high or none")
    reason_label: str = Field(description="The reason in plain words.")
    reason_summary: str = Field(description="What the reason means, from the playbook.")
    signal: Optional[str]
    signal_label: Optional[str] = Field(description="The signal in plain words.")
    confidence: float
    low_confidence: bool = Field(description="The model is unsure: read the message yourself.")
    probabilities: dict[str, float]
    evidence: list[EvidenceOut]
    tactics: list[TacticOut]
    text_chars: int = Field(description="Length of the author's new text that was classified.")
    model: str


class Problem(BaseModel):
    detail: str = Field(description="What was wrong, in a sentence to show the user.")


class CorrectionRequest(BaseModel):
    text: str = Field(description="The text, as it was classified.")
    reason: str = Field(description="The right reason: too_strong, too_weak, emotions_high or none.")
    signal: Optional[str] = Field(None, description="The right signal (optional; empty for none).")


class CorrectionResponse(BaseModel):
    id: str
    reason: str
    signal: Optional[str]
    replaced: bool = Field(description="An earlier correction of the same text was replaced.")
    path: str = Field(description="The corrections file: pass it to 'negclass train --data'.")
    count: int = Field(description="Corrections in the file.")


class SignalInfo(BaseModel):
    id: str
    label: str


class ReasonInfo(BaseModel):
    id: str
    label: str
    summary: str
    signals: list[SignalInfo]


class InfoResponse(BaseModel):
    model: str
    reasons: list[ReasonInfo]
    corrections_path: str
    corrections: int
    max_upload_bytes: int
    max_text_chars: int
    upload_types: list[str]
    score_columns: list[str]


def _row_model():
    """One scored row: the columns of ``negclass score`` (``from`` is a keyword, hence the alias)."""
    types = {"text_chars": Optional[int], "confidence": Optional[float], "low_confidence": Optional[bool],
             "skipped": Optional[bool]}
    types.update({f"p_{r}": Optional[float] for r in taxonomy.reasons()})
    fields = {}
    for col in schema.columns():
        name = "from_" if col == "from" else col
        kw = {"alias": "from"} if col == "from" else {}
        fields[name] = (types.get(col, Optional[str]), Field(None, **kw))
    fields["text"] = (Optional[str], Field(None, description=f"The text that was classified (first {ROW_TEXT_CHARS} "
                                                             "characters), only with include_text=true."))
    return create_model("ScoredRow", __config__=ConfigDict(populate_by_name=True), **fields)


ScoredRow = _row_model()


class ScoreSummary(BaseModel):
    filename: str
    rows: int
    per_reason: dict[str, int]
    low_confidence: int
    skipped: int
    errors: int
    seconds: float


class ScoreResponse(BaseModel):
    columns: list[str]
    rows: list[ScoredRow]  # type: ignore[valid-type]
    summary: ScoreSummary


PROBLEMS = {code: {"model": Problem} for code in (400, 403, 413, 415, 422)}


# -- helpers ------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return " ".join(str(text).split())


def _signal_label(signal: str | None) -> str | None:
    if not signal:
        return None
    try:
        spec = playbook.entry(taxonomy.reason_of(signal)).get("signals") or {}
    except KeyError:
        return None
    return _plain((spec.get(signal) or {}).get("description", "")) or None


def _reasons_info() -> list[dict]:
    return [{"id": r, "label": taxonomy.reason_label(r), "summary": _plain(playbook.entry(r)["summary"]),
             "signals": [{"id": s, "label": _signal_label(s) or s} for s in taxonomy.signals(r)]}
            for r in taxonomy.reasons()]


def _size(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{max(n // 1024, 1)} KB"


class _TooLarge(HTTPException):
    def __init__(self, limit: int, what: str = "upload"):
        hint = (" Split the mailbox into smaller files, or score it on the command line with "
                "'negclass score', which has no limit.") if what == "upload" else ""
        super().__init__(413, f"The {what} is larger than the {_size(limit)} limit.{hint}")


class _Guard:
    """ASGI middleware: size limits on request bodies (checked while they stream in, so an
    oversized upload is refused before it fills the disk) and a same-origin check on POSTs."""

    def __init__(self, app, upload_limit: int, json_limit: int, allowed_hosts=None):
        self.app, self.upload_limit, self.json_limit = app, upload_limit, json_limit
        self.allowed_hosts = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    def _host_ok(self, host: str) -> bool:
        if self.allowed_hosts is None:
            return True
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8000
            name = host[1:].split("]", 1)[0]
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self.allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not self._host_ok(headers.get("host", "")):
            # a page on another site reaching this server through a DNS name that points here
            return await JSONResponse({"detail": "Unknown host name; open the address negclass serve printed."},
                                      status_code=400)(scope, receive, send)
        if scope["method"] not in {"POST", "PUT", "PATCH"}:
            return await self.app(scope, receive, send)
        upload = scope["path"].rstrip("/") in {"/api/score", "/api/report"}
        limit = self.upload_limit + 256 * 1024 if upload else self.json_limit  # room for the multipart framing
        what = "upload" if upload else "request"
        problem = None
        origin = headers.get("origin")
        if origin and (origin == "null" or origin.split("://", 1)[-1] != headers.get("host")):
            problem = (403, "Requests from other web sites are refused.")
        elif not upload and scope["path"].startswith("/api/") and \
                headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            problem = (415, "Send JSON (Content-Type: application/json).")
        else:
            try:
                if int(headers.get("content-length", "0")) > limit:
                    problem = (413, _TooLarge(self.upload_limit if upload else limit, what).detail)
            except ValueError:
                problem = (400, "Bad Content-Length header.")
        if problem:
            response = JSONResponse({"detail": problem[1]}, status_code=problem[0])
            return await response(scope, receive, send)

        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(self.upload_limit if upload else limit, what)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge as exc:
            if started:
                raise
            await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)


def _validation_message(errors: list[dict]) -> str:
    """FastAPI's validation errors as one readable sentence."""
    parts = []
    for err in errors:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "form")]
        field = ".".join(loc)
        if err.get("type") == "json_invalid":
            parts.append("the request body is not valid JSON")
        elif err.get("type") == "missing":
            parts.append(f"'{field}' is missing" if field else "the request body is missing")
        else:
            parts.append(f"{field}: {err.get('msg')}" if field else str(err.get("msg")))
    return "Bad request: " + "; ".join(parts) + "." if parts else "Bad request."


# -- the application ----------------------------------------------------------------------------
def create_app(model=None, *, model_path=None, corrections_path: Path | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_text_chars: int = MAX_TEXT_CHARS,
               allowed_hosts=None) -> FastAPI:
    """The web application. ``model`` is a loaded ``negclass.Model``; without it the model at
    ``model_path`` (default: the default model) is loaded on the first request, once.
    ``allowed_hosts`` (host names, no ports) refuses requests naming any other host."""
    # no /docs or /redoc: their pages load scripts from the internet; /openapi.json is the schema
    app = FastAPI(title="negclass", version=_version(), docs_url=None, redoc_url=None,
                  description="Why won't they negotiate? Classify what a counterparty wrote and get the playbook. "
                              "Errors come back as 4xx with a one-line 'detail' to show the user.")
    state = {"model": model}
    model_lock = threading.Lock()     # one call into the model at a time
    load_lock = threading.Lock()
    corrections = Corrections(corrections_path)

    def get_model():
        if state["model"] is None:
            with load_lock:
                if state["model"] is None:
                    from ...model.predict import load_model
                    state["model"] = load_model(model_path)
        return state["model"]

    app.state.get_model = get_model
    app.state.corrections = corrections
    app.add_middleware(_Guard, upload_limit=max_upload_bytes, json_limit=MAX_JSON_BYTES,
                       allowed_hosts=allowed_hosts)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # without the 'input' of each error: it can be the whole request body
        errors = jsonable_encoder([{k: v for k, v in e.items() if k != "input"} for e in exc.errors()],
                                  custom_encoder={Exception: str, bytes: lambda b: repr(b[:80])})
        return JSONResponse({"detail": _validation_message(errors), "errors": errors}, status_code=422)

    @app.exception_handler(NegclassError)
    async def _user_error(request: Request, exc: NegclassError):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    # -- page ---------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # -- API ----------------------------------------------------------------------------------
    @app.get("/api/info", response_model=InfoResponse, summary="The model, the reasons in plain words, the limits")
    def info():
        return {"model": get_model().name, "reasons": _reasons_info(),
                "corrections_path": str(corrections.path), "corrections": corrections.count(),
                "max_upload_bytes": max_upload_bytes, "max_text_chars": max_text_chars,
                "upload_types": sorted(UPLOAD_TYPES), "score_columns": schema.columns()}

    @app.post("/api/classify", response_model=ClassifyResponse, responses=PROBLEMS,
              summary="Why won't they negotiate? Classify one text")
    def classify(req: ClassifyRequest):
        text = req.text
        if not text.strip():
            raise HTTPException(422, "The text is empty: paste what the other side wrote.")
        if len(text) > max_text_chars:
            raise HTTPException(413, f"The text is {len(text):,} characters; the limit is {max_text_chars:,}. "
                                     "Paste only the message you want read.")
        if mime.looks_binary(text):
            raise HTTPException(422, f"The text is {mime.BINARY}: paste plain text.")
        m = get_model()
        with model_lock:
            try:
                result = m.classify(text, html=req.html)
            except EmptyTextError:
                raise HTTPException(422, "There are no new words to read: the text is only quoted replies, "
                                         "a signature or headers. Paste the part the other side wrote.") from None
            except NegclassError as exc:
                raise HTTPException(422, str(exc)) from None
        d = result.to_dict()
        d.update(reason_label=taxonomy.reason_label(result.reason),
                 reason_summary=_plain(playbook.entry(result.reason)["summary"]),
                 signal_label=_signal_label(result.signal), model=m.name)
        return d

    @app.post("/api/corrections", response_model=CorrectionResponse, responses=PROBLEMS,
              summary="This is wrong: record the real reason for retraining")
    def correct(req: CorrectionRequest):
        if len(req.text) > max_text_chars:
            raise HTTPException(413, f"The text is longer than {max_text_chars:,} characters.")
        try:
            record, replaced = corrections.add(req.text, req.reason, req.signal)
        except NegclassError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"id": record["id"], "reason": record["reason"], "signal": record["signal"], "replaced": replaced,
                "path": str(corrections.path), "count": corrections.count()}

    @app.post("/api/score", response_model=ScoreResponse, response_model_by_alias=True,
              summary="Score an uploaded .eml, .mbox, .msg, CSV or JSON-lines file, message by message",
              responses={**PROBLEMS, 200: {"description": "format=json: one JSON document; format=ndjson: JSON lines "
                                                          "({\"columns\"}, then {\"row\"} per message, then "
                                                          "{\"summary\"}, or {\"error\"} if scoring failed); "
                                                          "format=csv: the columns of 'negclass score'.",
                                           "content": {"application/x-ndjson": {}, "text/csv": {}}}})
    def score_file(file: UploadFile = File(..., description="an .eml, .mbox, .msg, .csv or .jsonl file"),
                   text_column: str = Form("text", description="CSV: the column holding the messages"),
                   me: str = Form("", description="your own addresses or domains, comma-separated: "
                                                 "messages from them are skipped"),
                   fmt: Literal["json", "ndjson", "csv"] = Query("json", alias="format"),
                   include_text: bool = Query(False, description="add each message's text to the rows "
                                                                 "(json and ndjson)")):
        tmpdir = Path(tempfile.mkdtemp(prefix="negclass-web-"))
        try:
            path, kind, filename = _save_upload(file, tmpdir, max_upload_bytes, text_column)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        who = [w for w in (x.strip() for x in me.replace(";", ",").split(",")) if w]
        mine = score.Me.of([w for w in who if "@" in w.strip("@")], [w for w in who if "@" not in w.strip("@")])
        rows = _score_stream(get_model(), model_lock, path, kind, filename, text_column, mine, include_text,
                             tmpdir)
        cleanup = BackgroundTask(shutil.rmtree, tmpdir, ignore_errors=True)
        if fmt == "json":
            try:
                collected = [item for batch in rows for item in batch]
            finally:
                shutil.rmtree(tmpdir, ignore_errors=True)
            failed = next((item["error"] for item in collected if "error" in item), None)
            if failed:
                raise HTTPException(422, failed)
            return {"columns": schema.columns(), "rows": [item["row"] for item in collected if "row" in item],
                    "summary": collected[-1]["summary"]}
        if fmt == "ndjson":
            lines = ("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in batch) for batch in rows)
            return StreamingResponse(lines, media_type="application/x-ndjson", background=cleanup)
        stem = Path(filename).stem or "scored"
        return StreamingResponse(_csv_lines(rows), media_type="text/csv; charset=utf-8", background=cleanup,
                                 headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}-scored.csv"'})

    @app.post("/api/report", summary="A scored file as the self-contained review page of 'negclass report'",
              responses={**PROBLEMS, 200: {"description": "An HTML page that opens from disk, with no network.",
                                           "content": {"text/html": {}}}})
    def report_page(file: UploadFile = File(..., description="a scored .csv or .jsonl file")):
        from ...batch import report

        filename = Path(file.filename or "").name
        suffix = Path(filename).suffix.lower()
        if suffix not in REPORT_TYPES:
            raise HTTPException(415, "The report is made from a scored file: upload the .csv (or .jsonl) that "
                                     "'Download CSV' or 'negclass score' wrote.")
        tmpdir = Path(tempfile.mkdtemp(prefix="negclass-report-"))
        try:
            path = tmpdir / f"scored{suffix}"
            _copy_capped(file, path, max_upload_bytes)
            try:
                rows = report.read_scored(path)
            except DataError as exc:
                raise HTTPException(422, str(exc.naming(filename))) from None
            page = report.render(report.build_data(rows, source=filename))
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        stem = Path(filename).stem.removesuffix("-scored") or "scored"
        return HTMLResponse(page, headers={"Content-Disposition": f'attachment; filename="{_safe(stem)}-report.html"'})

    return app


def _version() -> str:
    from ... import __version__
    return __version__


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "scored"


def _copy_capped(file: UploadFile, path: Path, limit: int) -> int:
    """Copy an upload to ``path`` a megabyte at a time; more than ``limit`` bytes is refused. Returns the size."""
    size = 0
    with open(path, "wb") as out:
        while chunk := file.file.read(MB):
            size += len(chunk)
            if size > limit:
                raise _TooLarge(limit)
            out.write(chunk)
    return size


def _save_upload(file: UploadFile, tmpdir: Path, limit: int, text_column: str) -> tuple[Path, str, str]:
    """Copy the upload to ``tmpdir`` (checking size and type on the way); ``(path, kind, filename)``."""
    filename = Path(file.filename or "").name
    suffix = Path(filename).suffix.lower()
    kind = UPLOAD_TYPES.get(suffix)
    if kind is None:
        what = f"'{suffix}' files" if suffix else "files without an extension"
        raise HTTPException(415, f"Cannot score {what}: upload an email (.eml), a mailbox (.mbox), "
                                 "an Outlook message (.msg), a CSV table (.csv) or JSON lines (.jsonl).")
    path = tmpdir / f"upload{suffix}"
    size = _copy_capped(file, path, limit)
    if size == 0:
        raise HTTPException(422, f"{filename} is empty.")
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if kind == "msg":
        if not head.startswith(b"\xd0\xcf\x11\xe0"):
            raise HTTPException(415, f"{filename} is not an Outlook message: a .msg file saved from Outlook "
                                     "starts differently. Save the email from Outlook again, or as .eml.")
        try:
            import extract_msg  # noqa: F401
        except ImportError:
            raise HTTPException(422, "Reading Outlook .msg files needs the optional extra "
                                     "(pip install 'negclass[msg]') on the computer running negclass serve; "
                                     "or save the email as .eml.") from None
        return path, kind, filename
    if mime.looks_binary(head):
        raise HTTPException(415, f"{filename} looks like a binary file, not {KIND_NAMES[kind]}. "
                                 + ("Save the table as 'CSV UTF-8'." if kind == "csv" else
                                    "Save it as UTF-8 text, one JSON object a line." if kind == "jsonl" else
                                    "Export the mail as .eml or .mbox."))
    if kind == "mbox" and not head.startswith(b"From "):
        raise HTTPException(422, f"{filename} is not an mbox mailbox: an mbox file starts with a 'From ' line. "
                                 "A single saved email should end in .eml.")
    if kind == "csv":
        text = head.decode("utf-8-sig", errors="replace")
        try:
            header = next(csv.reader(io.StringIO(text)), [])
        except csv.Error:
            header = []
        header = [h.strip() for h in header]
        if text_column not in header:
            shown = ", ".join(repr(h) for h in header[:12] if h) or "none"
            raise HTTPException(422, f"{filename} has no column '{text_column}' (its columns: {shown}). "
                                     "Name the column that holds the messages in 'Text column'.")
        try:
            ingest.check_utf8(path)
        except DataError as exc:
            raise HTTPException(422, str(exc.naming(filename))) from None
    if kind == "jsonl":
        first = next((line for line in head.decode("utf-8", errors="replace").splitlines() if line.strip()), "")
        try:
            record = json.loads(first)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise HTTPException(422, f"{filename} is not JSON lines: each line should be one JSON object "
                                     '(like {"text": "..."}).')
        if text_column not in record:
            shown = ", ".join(repr(k) for k in list(record)[:12]) or "none"
            raise HTTPException(422, f"{filename} has no field '{text_column}' (its first line has: {shown}). "
                                     "Name the field that holds the messages in 'Text column'.")
    return path, kind, filename



def _score_stream(model, lock, path: Path, kind: str, filename: str, text_column: str, me, include_text: bool,
                  tmpdir: Path) -> Iterator[list[dict]]:
    """Lists of items, one list per chunk of messages (one step of the streamed response):
    ``{"columns"}`` first, then ``{"row"}`` per message in order, then ``{"summary"}``; or
    ``{"error"}`` if scoring fails part way (the response has started, so it cannot be a status)."""
    from itertools import islice

    started = time.perf_counter()
    summary = score.Summary()
    prefix = str(path)
    try:
        yield [{"columns": schema.columns()}]
        units = ingest.units([path], kind, text_column, None)
        while chunk := list(islice(units, CHUNK)):
            messages = [_message(u) for u in chunk]
            with lock:
                rows = score.score_messages(model, messages, me)
            batch = []
            for msg, row in zip(messages, rows):
                row["source"] = filename
                if isinstance(row.get("id"), str) and row["id"].startswith(prefix):
                    row["id"] = filename + row["id"][len(prefix):]
                if include_text:
                    row["text"] = None if not row.get("text") else row["text"][:ROW_TEXT_CHARS]
                else:
                    row.pop("text", None)
                summary.add(row)
                batch.append({"row": {k: _json_value(v) for k, v in row.items()}})
            yield batch
        yield [{"summary": {"filename": filename, "rows": summary.rows,
                            "per_reason": {r: summary.per_reason.get(r, 0) for r in taxonomy.reasons()},
                            "low_confidence": summary.low_confidence, "skipped": summary.skipped,
                            "errors": summary.errors, "seconds": round(time.perf_counter() - started, 3)}}]
    except NegclassError as exc:
        yield [{"error": str(exc)}]
    except Exception as exc:
        log.exception("scoring %s failed", filename)
        yield [{"error": f"scoring stopped after {summary.rows} messages: {exc}"}]
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _message(unit):
    try:
        return ingest.to_message(unit)
    except Exception as exc:  # parse_email is meant never to raise; never lose the row if it does
        return Message(unit.id, unit.source, error=f"unreadable message: {exc}")


def _json_value(v):
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _csv_lines(batches: Iterator[list[dict]]) -> Iterator[str]:
    cols = schema.columns()
    for i, batch in enumerate(batches):
        buf = io.StringIO()
        writer = csv.writer(buf)
        if i == 0:
            writer.writerow(cols)
        for item in batch:
            if "row" in item:
                writer.writerow(["" if item["row"].get(c) is None else item["row"].get(c) for c in cols])
            elif "error" in item:
                writer.writerow([f"# error: {item['error']}"] + [""] * (len(cols) - 1))
        if buf.tell():
            yield buf.getvalue()
