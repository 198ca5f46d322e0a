"""The review page: what goes in (flagged first, capped sample, threads joined), user errors, and
the page itself opened from disk in headless Chromium (no console errors, no network, filters work)."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from negclass.apps.cli import main
from negclass.batch import report
from negclass.model import taxonomy

from ..conftest import FIXTURES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    """Scored rows with made-up senders and texts (no real mail), as ``negclass score`` writes them."""
    import random

    rnd = random.Random(seed)
    reasons = taxonomy.reasons()
    rows = []
    for i in range(n):
        reason = rnd.choices(reasons, weights=[1, 1, 1, 7])[0]
        conf = round(rnd.uniform(0.3, 0.99), 4)
        cp = f"person{rnd.randrange(max(1, n // 20))}@org{rnd.randrange(30)}.example"
        signal = rnd.choice(taxonomy.signals(reason)) if reason != taxonomy.NONE else None
        rows.append({"id": f"<m{i}@example>", "source": "synthetic.mbox", "date": None,
                     "date_utc": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z" if i % 50 else None,
                     "thread": f"subject:deal {i % (n // 4 + 1)}", "counterparty": cp, "from": cp,
                     "subject": f"Deal {i % (n // 4 + 1)}", "text_chars": 60, "reason": reason, "signal": signal,
                     "confidence": conf, "low_confidence": conf < 0.5,
                     **{f"p_{r}": (conf if r == reason else (1 - conf) / 3) for r in reasons},
                     "tactics": "ts_total_value;ts_new_angle" if reason == "too_strong" else None,
                     "error": None, "skipped": False, "model": "synthetic",
                     "snippet": f"Message {i}: we are happy with our current supplier, thanks.",
                     "evidence": "happy with our current supplier" if reason != taxonomy.NONE else None})
    return rows


def test_flagged_first_most_likely_first_and_the_rest_sampled():
    rows = synthetic_rows(2000)
    rows[5] |= {"skipped": True, "reason": None}
    rows[6] |= {"error": "no text body", "reason": None}
    data = report.build_data(rows, sample_rest=100)
    c = data["counts"]
    assert c["rows"] == 2000 and c["skipped"] == 1 and c["errors"] == 1 and c["classified"] == 1998
    assert sum(c["per_reason"].values()) == 1998
    flagged = [m for m in data["messages"] if data["light"][m["n"]][2] != taxonomy.reasons().index("none")]
    assert len(flagged) == c["flagged"] == c["flagged_kept"]
    confs = [data["light"][m["n"]][3] for m in flagged]
    assert confs == sorted(confs, reverse=True)
    assert c["rest"] > 100 and c["rest_kept"] == 100 == len(data["messages"]) - len(flagged)
    assert len(data["light"]) == 1998  # every classified message is behind the timelines and threads
    # each message kept is one light record pointing back at it
    assert all(data["light"][m["n"]][6] == k for k, m in enumerate(data["messages"]))
    assert all(v["flagged"] > 0 and v["rows"] for v in data["cp_views"])


def test_too_many_flagged_keeps_the_most_likely_and_says_so():
    rows = synthetic_rows(500)
    data = report.build_data(rows, max_flagged=10, sample_rest=0)
    assert data["counts"]["flagged_kept"] == 10 < data["counts"]["flagged"]
    kept = sorted((data["light"][m["n"]][3] for m in data["messages"]), reverse=True)
    best = sorted((float(r["confidence"]) for r in rows if r["reason"] != "none"), reverse=True)[:10]
    assert kept == pytest.approx(best, abs=1e-3)


def test_thread_root_without_references_joins_its_replies():
    rows = [{"id": "<a@x>", "thread": "subject:renewal", "reason": "none", "confidence": 0.9},
            {"id": "<b@y>", "thread": "<a@x>", "reason": "too_strong", "confidence": 0.8},
            {"id": "<c@x>", "thread": "<a@x>", "reason": "emotions_high", "confidence": 0.7},
            {"id": "<d@z>", "thread": "subject:lunch", "reason": "too_weak", "confidence": 0.6},
            {"id": "<e@z>", "thread": "subject:lunch", "reason": "too_weak", "confidence": 0.6}]
    keys = report._threads(rows)
    assert keys[0] == keys[1] == keys[2] != keys[3] == keys[4]
    data = report.build_data(rows)
    changes = sorted((len(v["rows"]), v["changes"]) for v in data["thread_views"])
    assert changes == [(2, 0), (3, 2)]


def test_the_page_inlines_everything_and_no_text_can_close_the_script(tmp_path):
    rows = synthetic_rows(50)
    rows[0] |= {"snippet": "</script><script>alert(1)</script> <!-- x", "reason": "too_strong", "confidence": 0.99}
    page = report.render(report.build_data(rows))
    blob = page.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(blob)["messages"][0]["text"].startswith("</script>")
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "{{" not in page


def _scored(tmp_path, model) -> Path:
    out = tmp_path / "thread.jsonl"
    assert main(["score", str(FIXTURES / "mail" / "thread.mbox"), "--out", str(out), "--include-text",
                 "--jobs", "1", "--quiet"]) == 0
    return out


def test_report_command_writes_the_page_and_rejects_mistakes(tmp_path, model, capsys):
    scored = _scored(tmp_path, model)
    out = tmp_path / "r" / "report.html"
    assert main(["report", str(scored), "--out", str(out)]) == 0
    page = out.read_text("utf-8")
    assert "dana@buyer.example" in page and "don't trust" in page
    assert "wrote" in capsys.readouterr().err
    unscored = tmp_path / "messages.jsonl"
    unscored.write_text('{"id": "r1", "text": "Hello"}\n', "utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(scored.read_text("utf-8")[:50], "utf-8")
    for argv, said in ([str(tmp_path / "nope.jsonl")], "no such file"),  \
                      ([str(unscored)], "not a file written by 'negclass score'"), \
                      ([str(broken)], "cannot read it as a scored file"), \
                      ([str(FIXTURES / "mail" / "box.mbox")], ".csv, .jsonl or .parquet"):
        assert main(["report", *argv, "--out", str(tmp_path / "x.html")]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["report", str(scored), "--out", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_a_hundred_thousand_rows_build_quickly_and_stay_small(tmp_path):
    rows = synthetic_rows(100_000)
    started = time.perf_counter()
    data = report.build_data(rows)
    page = report.render(data)
    seconds = time.perf_counter() - started
    assert data["counts"]["rest_kept"] == report.SAMPLE_REST and len(page) < 40e6
    assert seconds < 30, seconds


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


def test_page_opens_from_disk_and_its_filters_work(browser, tmp_path, model):
    scored = _scored(tmp_path, model)
    rows = [json.loads(line) for line in scored.read_text("utf-8").splitlines()]
    flagged = [r for r in rows if r["reason"] != "none"]
    out = tmp_path / "report.html"
    assert main(["report", str(scored), "--out", str(out)]) == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(("file:", "data:")) else None)
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    cards = page.locator("#view-flagged article.card")
    assert cards.count() == len(flagged)
    shown = [float(t.split("%")[0]) for t in page.locator("#view-flagged .head span:nth-child(2)").all_inner_texts()]
    assert shown == sorted(shown, reverse=True)
    assert page.locator("#view-flagged mark").count() > 0
    marks = page.locator("#view-flagged mark").all_inner_texts()
    assert all(any(m.lower() in r["text"].lower() for r in flagged) for m in marks)

    page.fill("#f-cp", "@other.example")
    assert cards.count() == sum(r["counterparty"].endswith("@other.example") for r in flagged)
    page.fill("#f-cp", "")
    page.select_option("#f-reason", str(taxonomy.reasons().index("emotions_high")))
    assert cards.count() == sum(r["reason"] == "emotions_high" for r in flagged)
    page.select_option("#f-reason", str(taxonomy.reasons().index("none")))
    assert cards.count() == sum(r["reason"] == "none" for r in rows)
    page.select_option("#f-reason", "refusals")
    page.fill("#f-conf", "90")  # a range input: fill sets its value and fires input
    assert cards.count() == sum(r["confidence"] >= 0.9 for r in flagged)
    page.click("#f-clear")
    assert cards.count() == len(flagged)

    page.click("#tab-cps")
    cp = page.locator("#view-cps article.card[data-cp='dana@buyer.example']")
    assert cp.count() == 1
    cp.locator("circle").first.click()
    assert cp.locator(".points article.card").count() >= 1
    cp.locator("button.link").click()  # its organisation: everyone at buyer.example on one timeline
    assert page.input_value("#f-cp") == "@buyer.example"
    assert page.locator("#view-cps article.org[data-org='buyer.example'] circle").count() >= 1
    page.click("#f-clear")
    page.click("#tab-threads")
    thread = page.locator("#view-threads article.thread").first
    assert thread.locator("li").count() == 4 and thread.locator(".changed").count() >= 1
    assert problems == [] and outside == []
    page.close()
