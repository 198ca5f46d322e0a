"""The web page and its JSON API: TestClient for the API, headless Chromium for the page."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from negclass.apps import cli
from negclass.apps.web import create_app
from negclass.apps.web.app import STATIC
from negclass.model import taxonomy
from negclass.training import dataset

from ..conftest import FIXTURES

MAIL = FIXTURES / "mail"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

EMAIL = """Hi Sam,

Thanks for the renewal proposal. To be honest we're happy with our current supplier, and we have two other
quotes in hand that came in well under your number, so I don't see the need to set up a call.

Best,
Dana"""


@pytest.fixture(scope="module")
def corrections_file(tmp_path_factory):
    return tmp_path_factory.mktemp("home") / "corrections.jsonl"


@pytest.fixture(scope="module")
def client(model, corrections_file):
    with TestClient(create_app(model, corrections_path=corrections_file)) as c:
        yield c


def _ok_problem(response, *codes):
    """A refused request: the expected 4xx with a one-line detail for the page."""
    assert response.status_code in codes, (response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


# -- /api/classify -------------------------------------------------------------------------------
def test_classify_gives_reason_in_words_evidence_offsets_and_tactics(client):
    r = client.post("/api/classify", json={"text": EMAIL})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reason"] == "too_strong"
    assert body["reason_label"] == taxonomy.reason_label("too_strong")
    assert body["reason_summary"]
    assert body["signal"] in taxonomy.signals("too_strong") and body["signal_label"]
    assert 0 <= body["confidence"] <= 1 and isinstance(body["low_confidence"], bool)
    assert set(body["probabilities"]) == set(taxonomy.reasons())
    assert body["evidence"]
    for ev in body["evidence"]:
        if ev["start"] is not None:
            assert EMAIL[ev["start"]:ev["end"]] == ev["text"]  # offsets index the text sent
    assert body["tactics"] and all(t["say"] and t["title"] and t["do"] for t in body["tactics"])
    assert body["model"]


def test_classify_none_has_no_tactics(client):
    body = client.post("/api/classify", json={"text": "Tuesday at 10 works for me, see you then."}).json()
    assert body["reason"] == "none" and body["tactics"] == [] and body["signal"] is None


def test_evidence_offsets_are_code_points_with_emoji(client):
    text = "🙂🙂 appreciate it but weve already got 3 agencies sending us cvs, dont really need a 4th rn"
    body = client.post("/api/classify", json={"text": text}).json()
    assert any(ev["start"] is not None for ev in body["evidence"])
    for ev in body["evidence"]:
        if ev["start"] is not None:
            assert text[ev["start"]:ev["end"]] == ev["text"]


@pytest.mark.parametrize("kwargs, codes, words", [
    ({"json": {"text": ""}}, (422,), "empty"),
    ({"json": {"text": "   \n\t "}}, (422,), "empty"),
    ({"json": {"txt": "hello"}}, (422,), "'text' is missing"),
    ({"json": {"text": 42}}, (422,), "text"),
    ({"json": ["not", "an", "object"]}, (422,), "Bad request"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, (422,), "not valid JSON"),
    ({"content": b"text=hello", "headers": {"content-type": "application/x-www-form-urlencoded"}}, (415,), "JSON"),
    ({"content": b"\x89PNG\r\n\x1a\n\x00\x00", "headers": {"content-type": "application/octet-stream"}}, (415,), "JSON"),
    ({"json": {"text": "hello\x00world"}}, (422,), "binary"),
    ({"json": {"text": "> On Monday Sam wrote:\n> can we meet?\n"}}, (422,), "quoted"),
])
def test_classify_bad_input_is_a_4xx_with_a_message(client, kwargs, codes, words):
    detail = _ok_problem(client.post("/api/classify", **kwargs), *codes)
    assert words.lower() in detail.lower()


def test_classify_too_long_text_is_413(model):
    with TestClient(create_app(model, max_text_chars=1000)) as c:
        detail = _ok_problem(c.post("/api/classify", json={"text": "We are fine as we are. " * 100}), 413)
    assert "limit is 1,000" in detail


def test_oversized_json_body_is_refused_while_it_streams(client):
    def body():  # no Content-Length: the limit is enforced on the bytes as they arrive
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'
    r = client.post("/api/classify", content=body(), headers={"content-type": "application/json"})
    assert "limit" in _ok_problem(r, 413)


def test_cross_site_posts_and_foreign_host_names_are_refused(model):
    with TestClient(create_app(model, allowed_hosts=["127.0.0.1", "localhost", "testserver"])) as c:
        r = c.post("/api/classify", json={"text": EMAIL}, headers={"origin": "https://evil.example"})
        _ok_problem(r, 403)
        _ok_problem(c.post("/api/classify", json={"text": EMAIL}, headers={"origin": "null"}), 403)
        assert c.post("/api/classify", json={"text": EMAIL}, headers={"origin": "http://testserver"}).status_code == 200
        _ok_problem(c.get("/api/info", headers={"host": "rebound.example:8000"}), 400)
        assert c.get("/api/info", headers={"host": "127.0.0.1:8000"}).status_code == 200


# -- schema, page, info --------------------------------------------------------------------------
def test_openapi_schema_describes_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/classify", "/api/score", "/api/corrections", "/api/info"} <= set(schema["paths"])
    classify = schema["paths"]["/api/classify"]["post"]
    assert classify["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClassifyRequest")
    assert classify["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClassifyResponse")
    assert "413" in classify["responses"] and "422" in classify["responses"]
    score = schema["paths"]["/api/score"]["post"]
    assert "multipart/form-data" in score["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson", "text/csv"} <= set(score["responses"]["200"]["content"])
    props = schema["components"]["schemas"]["ScoredRow"]["properties"]
    assert {"from", "reason", "signal", "confidence", "p_none", "error"} <= set(props)


def test_page_and_assets_are_served_and_nothing_comes_from_the_internet(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="viewport"' in page.text
    for name in ("app.css", "app.js"):
        assert client.get(f"/static/{name}").status_code == 200
    for f in STATIC.iterdir():
        text = f.read_text("utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), f.name
        assert "@import" not in text and "url(http" not in text, f.name
    assert client.get("/docs").status_code == 404  # Swagger UI loads scripts from a CDN: not served


def test_model_is_loaded_once_per_app(model, monkeypatch):
    import negclass.model.predict
    calls = []

    def load(path=None):
        calls.append(path)
        return model
    monkeypatch.setattr(negclass.model.predict, "load_model", load)
    with TestClient(create_app()) as c:
        for _ in range(3):
            assert c.post("/api/classify", json={"text": EMAIL}).status_code == 200
        assert c.get("/api/info").status_code == 200
    assert len(calls) == 1


def test_info_lists_reasons_in_words_and_limits(client, corrections_file):
    info = client.get("/api/info").json()
    assert [r["id"] for r in info["reasons"]] == taxonomy.reasons()
    assert all(r["label"] for r in info["reasons"])
    assert info["corrections_path"] == str(corrections_file)
    assert info["max_upload_bytes"] > 0 and ".mbox" in info["upload_types"]


# -- /api/score ----------------------------------------------------------------------------------
def _expected_rows(model, path: Path) -> list[dict]:
    from negclass.batch import score
    from negclass.mail import ingest
    return list(score.score(model, ingest.read([path])))


def test_score_mbox_as_json_matches_the_score_command(client, model):
    with open(MAIL / "box.mbox", "rb") as fh:
        r = client.post("/api/score", files={"file": ("box.mbox", fh, "application/mbox")})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = _expected_rows(model, MAIL / "box.mbox")
    assert [row["reason"] for row in body["rows"]] == [row["reason"] for row in expected]
    assert all(row["source"] == "box.mbox" for row in body["rows"])   # not the server's temporary path
    summary = body["summary"]
    assert summary["rows"] == len(expected)
    assert sum(summary["per_reason"].values()) + summary["errors"] + summary["skipped"] == len(expected)


def test_score_streams_ndjson_with_texts_for_corrections(client):
    with open(MAIL / "box.mbox", "rb") as fh:
        with client.stream("POST", "/api/score?format=ndjson&include_text=true",
                           files={"file": ("box.mbox", fh)}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
            items = [json.loads(line) for line in r.iter_lines() if line.strip()]
    assert "columns" in items[0] and "summary" in items[-1]
    rows = [i["row"] for i in items if "row" in i]
    assert len(rows) == items[-1]["summary"]["rows"]
    assert any(row["text"] for row in rows)


def test_score_csv_download_has_the_score_columns(client):
    from negclass.batch.schema import columns
    with open(MAIL / "table.csv", "rb") as fh:
        r = client.post("/api/score?format=csv", files={"file": ("table.csv", fh, "text/csv")})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    assert lines[0].split(",") == columns()
    assert len(lines) == 4  # header and the three rows, the empty one with its error
    assert "empty text" in lines[3]


def test_score_eml_and_skipping_our_own_messages(client, model):
    from negclass.batch.score import score_messages
    from negclass.mail import ingest

    with open(MAIL / "clients" / "gmail_reply.eml", "rb") as fh:
        rows = client.post("/api/score", files={"file": ("reply.eml", fh)}).json()["rows"]
    expected = score_messages(model, list(ingest.read([MAIL / "clients" / "gmail_reply.eml"])))  # as the CLI scores it
    assert len(rows) == 1 and rows[0]["reason"] == expected[0]["reason"]
    assert rows[0]["p_none"] == pytest.approx(expected[0]["p_none"])
    with open(MAIL / "box.mbox", "rb") as fh:
        body = client.post("/api/score", files={"file": ("box.mbox", fh)}, data={"me": "ourco.example"}).json()
    assert body["summary"]["skipped"] >= 1


@pytest.mark.parametrize("name, content, code, words", [
    ("report.pdf", b"%PDF-1.4 whatever", 415, "'.pdf' files"),
    ("noext", b"From: a@b\n\nhello", 415, "without an extension"),
    ("random.eml", bytes(range(256)) * 20, 415, "binary"),
    ("photo.mbox", b"\x89PNG\r\n\x1a\n" + bytes(2000), 415, "binary"),
    ("table.csv", "id,text\n1,hi\n".encode("utf-16"), 415, "binary"),
    ("empty.csv", b"", 422, "empty"),
    ("notes.mbox", b"Subject: hi\n\nnot an mbox\n", 422, "not an mbox"),
    ("table.csv", b"id,body\n1,hello\n", 422, "no column 'text'"),
    ("fake.msg", b"From: a@b\n\nhello", 415, "not an Outlook message"),
])
def test_bad_uploads_are_a_4xx_with_a_message(client, name, content, code, words):
    detail = _ok_problem(client.post("/api/score", files={"file": (name, content)}), code)
    assert words.lower() in detail.lower()


def test_score_without_a_file_is_422(client):
    assert "'file' is missing" in _ok_problem(client.post("/api/score"), 422)
    _ok_problem(client.post("/api/score?format=xml", files={"file": ("a.eml", b"From: a@b\n\nhi")}), 422)


def test_oversize_upload_is_413_with_a_clear_message(model):
    with TestClient(create_app(model, max_upload_bytes=1024 * 1024)) as c:
        big = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\n" + b"hello there\n" * 200_000
        detail = _ok_problem(c.post("/api/score", files={"file": ("big.mbox", big)}), 413)
        assert "1 MB limit" in detail and "negclass score" in detail

        def body():  # chunked, no Content-Length: refused while the bytes arrive
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mbox\"\r\n\r\n"
            for _ in range(40):
                yield b"x" * 65536
            yield b"\r\n--b--\r\n"
        r = c.post("/api/score", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
        _ok_problem(r, 413)
        ok = c.post("/api/score", files={"file": ("small.eml", b"From: a@b\n\nWe are fine with our supplier.")})
        assert ok.status_code == 200


# -- corrections ---------------------------------------------------------------------------------
def test_corrections_append_a_file_that_training_accepts(client, corrections_file):
    first = client.post("/api/corrections", json={"text": EMAIL, "reason": "too_weak", "signal": "overwhelmed"})
    assert first.status_code == 200, first.text
    assert first.json()["path"] == str(corrections_file) and not first.json()["replaced"]
    other = "I can't face another round on price, please just leave it as it is."
    assert client.post("/api/corrections", json={"text": other, "reason": "too_weak"}).status_code == 200
    again = client.post("/api/corrections", json={"text": EMAIL, "reason": "too_strong", "signal": "strong_batna"})
    assert again.json()["replaced"] and again.json()["count"] == 2

    lines = [json.loads(line) for line in corrections_file.read_text("utf-8").splitlines()]
    assert {"id", "text", "reason", "signal", "source"} == set(lines[0])
    assert all(row["source"] == "web-correction" for row in lines)
    frame = dataset.load([corrections_file])
    assert len(frame) == 2
    row = frame.set_index("text").loc[EMAIL]
    assert (row["reason"], row["signal"]) == ("too_strong", "strong_batna")
    import pandas as pd
    assert pd.isna(frame.set_index("text").loc[other]["signal"])


@pytest.mark.parametrize("payload, words", [
    ({"text": "hi", "reason": "angry"}, "unknown reason"),
    ({"text": "hi", "reason": "none", "signal": "strong_batna"}, "no signal"),
    ({"text": "hi", "reason": "too_weak", "signal": "strong_batna"}, "not one of"),
    ({"text": "  ", "reason": "none"}, "empty"),
    ({"reason": "none"}, "'text' is missing"),
])
def test_bad_corrections_are_422(client, payload, words):
    assert words in _ok_problem(client.post("/api/corrections", json=payload), 422)


def test_corrections_default_to_the_user_data_directory(model, tmp_path, monkeypatch):
    monkeypatch.setenv("NEGCLASS_HOME", str(tmp_path))
    with TestClient(create_app(model)) as c:
        saved = c.post("/api/corrections", json={"text": "we're fine as we are", "reason": "too_strong"}).json()
    assert saved["path"] == str(tmp_path / "corrections.jsonl")


# -- negclass serve --------------------------------------------------------------------------------
def test_serve_without_the_extra_says_what_to_install(monkeypatch, capsys):
    import negclass.apps.web
    monkeypatch.setattr(negclass.apps.web, "missing_dependency", lambda: "fastapi")
    assert cli.main(["serve"]) == cli.EXIT_USER_ERROR
    assert "pip install 'negclass[web]'" in capsys.readouterr().err


def test_serve_reports_a_taken_port(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == cli.EXIT_USER_ERROR
    assert "--port" in capsys.readouterr().err


@pytest.mark.slow  # a server process of its own; the CLI smoke test is test_cli's
def test_serve_prints_its_address_and_answers(tmp_path):
    env = dict(os.environ, NEGCLASS_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "negclass", "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        import httpx
        r = httpx.post(f"http://127.0.0.1:{m.group(1)}/api/classify", json={"text": EMAIL}, timeout=30)
        assert r.status_code == 200 and r.json()["reason"] == "too_strong"
    finally:
        proc.terminate()
        proc.wait(10)


# -- the page in headless Chromium ---------------------------------------------------------------
@pytest.fixture(scope="module")
def live_server(model, tmp_path_factory):
    """The app on a free local port, in a thread of this process."""
    import uvicorn

    path = tmp_path_factory.mktemp("live") / "corrections.jsonl"
    app = create_app(model, corrections_path=path, allowed_hosts=["127.0.0.1", "localhost"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", path
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM}): apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_page_pastes_an_email_and_shows_reason_evidence_and_tactics(browser, live_server, client):
    base, corrections = live_server
    expected = client.post("/api/classify", json={"text": EMAIL}).json()
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    outside = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith((base, "data:")) else None)
    page.goto(base + "/")
    page.wait_for_function("document.querySelector('#model-name').textContent !== '…'")

    page.click("#classify-btn")  # nothing pasted yet: said plainly on the page
    assert "empty" in page.inner_text("#paste-error")

    page.fill("#text", EMAIL)
    page.click("#classify-btn")
    page.wait_for_selector("#result:not([hidden])")
    assert page.is_hidden("#paste-error")
    assert page.inner_text("#reason-label") == taxonomy.reason_label("too_strong")
    assert page.inner_text("#confidence-value") == f"{round(expected['confidence'] * 100)}%"
    assert page.inner_text("#signal") == expected["signal"]
    marks = page.locator("#highlighted mark").all_inner_texts()
    assert marks and all(m in EMAIL for m in marks)
    assert page.inner_text("#highlighted") == EMAIL  # the whole text, with the phrases marked inside it
    titles = page.locator("#tactics .title").all_inner_texts()
    assert titles == [t["title"] for t in expected["tactics"]]
    says = page.locator("#tactics q").all_inner_texts()
    assert says == [t["say"] for t in expected["tactics"]]
    assert page.locator("#tactics button.copy").count() == len(titles)
    assert page.is_hidden("#low-note") == (not expected["low_confidence"])

    page.select_option("#correct-reason", "too_weak")
    page.select_option("#correct-signal", "overwhelmed")
    page.click("#correct-btn")
    page.wait_for_function("document.querySelector('#correct-status').textContent.startsWith('Saved')")
    saved = [json.loads(line) for line in corrections.read_text("utf-8").splitlines()]
    assert saved[-1]["text"] == EMAIL and saved[-1]["reason"] == "too_weak" and saved[-1]["signal"] == "overwhelmed"
    assert outside == []
    page.close()


def test_page_says_when_it_is_not_sure(browser, live_server, client):
    base, _ = live_server
    text = "Let me check with my boss and circle back."
    expected = client.post("/api/classify", json={"text": text}).json()
    page = browser.new_page()
    page.goto(base + "/")
    page.fill("#text", text)
    page.press("#text", "Control+Enter")
    page.wait_for_selector("#result:not([hidden])")
    if expected["low_confidence"]:
        assert "Not sure" in page.inner_text("#low-note")
    else:
        assert page.is_hidden("#low-note")
    page.close()


def test_page_uploads_a_mailbox_and_shows_table_chart_and_csv(browser, live_server, model, tmp_path):
    base, _ = live_server
    expected = _expected_rows(model, MAIL / "box.mbox")
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(base + "/")
    page.click("#tab-upload")
    page.set_input_files("#file", str(MAIL / "box.mbox"))
    page.click("#upload-btn")
    page.wait_for_function("document.querySelector('#upload-progress').textContent.startsWith('Done')")
    flagged = [r for r in expected if r["reason"] not in (None, "none") and not r["error"]]
    assert page.is_checked("#flagged-only")
    assert page.locator("#rows tbody tr").count() == len(flagged)  # flagged only, by default
    page.uncheck("#flagged-only")
    assert page.locator("#rows tbody tr").count() == len(expected)
    counts = {r: sum(1 for row in expected if row["reason"] == r and not row["error"]) for r in taxonomy.reasons()}
    for r, n in counts.items():
        assert page.locator(f"#chart g[data-reason='{r}'] text.count").text_content() == str(n)
    with page.expect_download() as dl:
        page.click("#download-btn")
    out = tmp_path / "scored.csv"
    dl.value.save_as(out)
    import pandas as pd
    frame = pd.read_csv(out)
    assert len(frame) == len(expected) and list(frame["reason"].fillna("")) == [r["reason"] or "" for r in expected]

    page.set_input_files("#file", {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
    page.click("#upload-btn")
    assert "'.pdf' files" in page.inner_text("#upload-error")
    page.set_input_files("#file", {"name": "random.eml", "mimeType": "message/rfc822", "buffer": bytes(range(256)) * 8})
    page.click("#upload-btn")
    page.wait_for_function("document.querySelector('#upload-error').textContent.includes('binary')")
    page.close()


def test_page_table_sorts_flags_fits_and_links_the_report(browser, live_server, model, tmp_path):
    """At 1280 px every column shows; rows by likelihood; no correction offered on error rows;
    .jsonl uploads; the report downloads and opens from disk."""
    base, _ = live_server
    table = tmp_path / "messages.jsonl"
    texts = ["We're happy with our current supplier and have two other quotes, so no need to meet.",
             "Can we do Tuesday at 10 to go through the numbers?",
             "I am not authorised to sign anything; my director would have to approve and she is away.",
             "   ",
             "After last year's mess I frankly don't trust your team and won't discuss renewals."]
    table.write_text("".join(json.dumps({"id": f"m{i}", "text": t, "from": f"p{i}@buyer.example",
                                         "subject": "Renewal"}) + "\n" for i, t in enumerate(texts)), "utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/")
    page.click("#tab-upload")
    page.set_input_files("#file", str(table))
    page.click("#upload-btn")
    page.wait_for_function("document.querySelector('#upload-progress').textContent.startsWith('Done')")
    rows = page.locator("#rows tbody tr")
    shown = [float(t.strip("%")) for t in page.locator("#rows tbody td.why .conf").all_inner_texts()]
    assert rows.count() >= 2 and shown == sorted(shown, reverse=True)
    assert page.locator("#rows tbody td.msg .snippet").count() == rows.count()
    assert page.locator("#rows tbody mark").count() >= 1
    page.uncheck("#flagged-only")
    assert rows.count() == len(texts)
    error_row = page.locator("#rows tbody tr", has=page.locator(".note-error"))
    assert error_row.count() == 1 and error_row.locator("select").count() == 0
    box = page.locator("#rows").bounding_box()
    wrap = page.locator(".table-wrap").bounding_box()
    last = page.locator("#rows thead th").last.bounding_box()
    assert box["width"] <= wrap["width"] + 1 and last["x"] + last["width"] <= wrap["x"] + wrap["width"] + 1
    page.select_option("#sort", "file")
    assert page.locator("#rows tbody td.num").first.inner_text() == "1"
    with page.expect_download() as dl:
        page.click("#report-btn")
    out = tmp_path / "report.html"
    dl.value.save_as(out)
    assert dl.value.suggested_filename == "messages-report.html"
    report_page = browser.new_page()
    errors = []
    report_page.on("pageerror", lambda e: errors.append(str(e)))
    report_page.goto(out.as_uri())
    report_page.wait_for_selector("body[data-ready='1']")
    assert report_page.locator("#view-flagged article.card").count() >= 2 and errors == []
    report_page.close()
    page.close()


def test_report_api_turns_a_scored_csv_into_the_page(client):
    with open(MAIL / "box.mbox", "rb") as fh:
        scored = client.post("/api/score?format=csv", files={"file": ("box.mbox", fh, "application/mbox")})
    assert scored.status_code == 200 and "snippet" in scored.text.splitlines()[0]
    r = client.post("/api/report", files={"file": ("box-scored.csv", scored.content, "text/csv")})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'filename="box-report.html"' in r.headers["content-disposition"]
    assert "dana@buyer.example" in r.text and "<script" in r.text
    bad = client.post("/api/report", files={"file": ("notes.txt", b"hello", "text/plain")})
    _ok_problem(bad, 415)
    bad = client.post("/api/report", files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    _ok_problem(bad, 422)
    assert "not a file written by 'negclass score'" in bad.json()["detail"] and "/tmp" not in bad.json()["detail"]


def test_an_upload_that_is_not_utf8_is_named_by_its_own_name(client):
    r = client.post("/api/score", files={"file": ("caf\u00e9s.csv", b"id,text\n1,caf\xe9 ol\xe9\n", "text/csv")})
    _ok_problem(r, 422)
    detail = r.json()["detail"]
    assert detail.startswith("caf\u00e9s.csv:2: not UTF-8 text") and "/tmp" not in detail
    r = client.post("/api/report", files={"file": ("s.jsonl", b'{"id": 1}\n[1]\n', "application/x-ndjson")})
    _ok_problem(r, 422)
    assert r.json()["detail"].startswith("s.jsonl: cannot read it as a scored file")


def test_jsonl_upload_is_scored_and_checked(client):
    lines = b'{"id": "a", "text": "We are happy with our current supplier."}\n{"id": "b", "text": "See you Tuesday."}\n'
    r = client.post("/api/score", files={"file": ("t.jsonl", lines, "application/x-ndjson")})
    assert r.status_code == 200 and [row["id"] for row in r.json()["rows"]] == ["a", "b"]
    rows = r.json()["rows"]
    assert all(row["snippet"] for row in rows)
    # evidence is found for the flagged rows only
    assert all(bool(row["evidence"]) == (row["reason"] != "none") for row in rows)
    bad = client.post("/api/score", files={"file": ("t.jsonl", b'{"body": "x"}\n', "application/x-ndjson")})
    _ok_problem(bad, 422)
    assert "no field 'text'" in bad.json()["detail"]
    bad = client.post("/api/score", files={"file": ("t.jsonl", b"id,text\n", "application/x-ndjson")})
    _ok_problem(bad, 422)
