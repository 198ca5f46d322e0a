"""Screenshots for the docs from made-up mail only: the report overview, one counterparty, the web table.

    python scripts/screenshots.py            # writes docs/report.png, docs/report-counterparty.png, docs/web-table.png

Builds a small synthetic mailbox (fictional people and organisations, texts written for this
script), scores it with the default model, writes the report and photographs it in Debian's
chromium; then serves the web page and photographs its score table after uploading the same mailbox.
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

# (days after the start, sender, subject, text); replies in a thread name the first message
MAIL = [
    (0, "Sam Lee <sam@ourco.example>", "Renewal proposal", "Hi Dana, here is our renewal proposal. Can we talk it through next week?"),
    (2, "Dana Ortiz <dana@northwind.example>", "RE: Renewal proposal",
     "Thanks Sam. To be honest we're happy with our current supplier, and we have two other quotes well under "
     "your number, so I don't see the need for a call."),
    (9, "Dana Ortiz <dana@northwind.example>", "RE: Renewal proposal",
     "We're not in a hurry on this. Our current contract runs to next year, so let's revisit in the autumn."),
    (23, "Dana Ortiz <dana@northwind.example>", "RE: Renewal proposal",
     "After the delivery problems in March I frankly don't trust your team to deliver, and I'm not willing to "
     "discuss terms until someone explains what went wrong."),
    (30, "Dana Ortiz <dana@northwind.example>", "RE: Renewal proposal",
     "Thanks for the call with your director yesterday. Tuesday at 10 works to go through the pilot plan."),
    (4, "Priya Raman <priya@bluelake.example>", "Pricing for Q3",
     "I'm not authorised to agree to any of this. I'd need my director to sign off and she won't look at it "
     "this quarter."),
    (15, "Priya Raman <priya@bluelake.example>", "RE: Pricing for Q3",
     "Honestly this is all a bit much for us right now, we're short-staffed and I can't take on a negotiation."),
    (26, "Priya Raman <priya@bluelake.example>", "RE: Pricing for Q3",
     "I'm not comfortable haggling over this. Could you just send your best and final price?"),
    (6, "Tom Berg <tom@bluelake.example>", "Site visit",
     "Lunch on Thursday at noon works for me, see you at the front desk."),
    (11, "Ana Costa <ana@harbour.example>", "Framework agreement",
     "We will not negotiate on price. Either you match the list price of the other bidder or we move on."),
    (19, "Ana Costa <ana@harbour.example>", "RE: Framework agreement",
     "We have received your latest note. We will come back to you when we have reviewed all offers."),
    (28, "Ana Costa <ana@harbour.example>", "RE: Framework agreement",
     "Please find the signed minutes attached. Thanks for organising the workshop."),
]


def write_mbox(path: Path) -> None:
    start = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
    roots: dict[str, str] = {}
    out = []
    for i, (days, sender, subject, text) in enumerate(MAIL):
        mid = f"<m{i}@mail.example>"
        base = subject.removeprefix("RE: ")
        refs = roots.get(base)
        roots.setdefault(base, mid)
        when = start + timedelta(days=days, hours=i % 5)
        head = [f"From x@y {when:%a %b %d %H:%M:%S %Y}", f"Message-ID: {mid}", f"Date: {format_datetime(when)}",
                f"From: {sender}", "To: Sam Lee <sam@ourco.example>", f"Subject: {subject}"]
        if refs:
            head += [f"In-Reply-To: {refs}", f"References: {refs}"]
        out.append("\n".join(head) + "\n\n" + text + "\n\n")
    path.write_text("".join(out), "utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from negclass.apps.cli import main as cli

    work = Path(tempfile.mkdtemp(prefix="negclass-shots-"))
    mbox = work / "synthetic.mbox"
    write_mbox(mbox)
    scored, page_file = work / "synthetic.jsonl", work / "report.html"
    assert cli(["score", str(mbox), "--out", str(scored), "--include-text", "--me", "sam@ourco.example",
                "--jobs", "1", "--quiet"]) == 0
    assert cli(["report", str(scored), "--out", str(page_file)]) == 0
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(page_file.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        page.screenshot(path=str(args.out / "report.png"))
        page.click("#tab-cps")
        card = page.locator("#view-cps article.card[data-cp='dana@northwind.example']")
        card.locator("circle").last.click()
        card.screenshot(path=str(args.out / "report-counterparty.png"))

        import uvicorn

        from negclass import load_model
        from negclass.apps.web import create_app

        app = create_app(load_model(), corrections_path=work / "corrections.jsonl")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        web = browser.new_page(viewport={"width": 1280, "height": 1000})
        web.goto(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        web.click("#tab-upload")
        web.set_input_files("#file", str(mbox))
        web.click("details.options summary")
        web.fill("#me", "sam@ourco.example")
        web.click("#upload-btn")
        web.wait_for_function("document.querySelector('#upload-progress').textContent.startsWith('Done')")
        web.locator("#batch").screenshot(path=str(args.out / "web-table.png"))
        server.should_exit = True
        thread.join(10)
        browser.close()
    print(f"wrote {args.out}/report.png, report-counterparty.png, web-table.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
