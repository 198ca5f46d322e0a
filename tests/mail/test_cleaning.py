"""Cleaning: only the author's new words survive, on real client layouts (tests/fixtures/mail)."""
from __future__ import annotations

import email
import json
import time
from email import policy

import pytest

from negclass.mail.cleaning import Cleaned, clean, html_to_text, new_text

from ..conftest import FIXTURES, ROOT

CLIENTS = FIXTURES / "mail" / "clients"
EXPECTED = json.loads((CLIENTS / "expected.json").read_text())


def _parts(name):
    msg = email.message_from_bytes((CLIENTS / name).read_bytes(), policy=policy.default)
    for kind in ("plain", "html"):
        part = msg.get_body((kind,))
        if part is not None:
            yield kind, part.get_content()


CASES = [(name, kind, text) for name in EXPECTED for kind, text in _parts(name)]


@pytest.mark.parametrize("name,kind,text", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_client_layouts_keep_new_words_only(name, kind, text):
    out = clean(text, html=kind == "html").text
    for word in EXPECTED[name]["keep"]:
        assert word.lower() in out.lower(), (word, out)
    for word in EXPECTED[name]["drop"]:
        assert word.lower() not in out.lower(), (word, out)


def test_every_client_fixture_is_covered():
    assert len(CASES) >= len(EXPECTED) and {k for _, k, _ in CASES} == {"plain", "html"}


def test_signature_is_kept_of_clean_signature():
    c = clean("Fine by me.")
    assert isinstance(c, Cleaned) and c.text == "Fine by me." and c.offset == 0
    assert clean("") == Cleaned("", None) and clean(None).text == ""


def test_only_quoted_text_means_no_new_text():
    text = "On Mon, Mar 4, 2024 at 9:00 AM Sam <sam@ourco.example> wrote:\n> We will not negotiate.\n"
    assert clean(text).text == ""


def test_inline_answers_between_quotes_are_kept():
    text = ("On Mon, Mar 4, 2024 at 9:00 AM Sam <sam@ourco.example> wrote:\n> Can you do 10%?\n"
            "No, 5% at most.\n> And delivery in May?\nJune is the earliest.\n")
    out = clean(text).text
    assert "5% at most" in out and "June" in out and "10%" not in out


def test_thanks_opening_is_not_taken_for_a_signature():
    out = clean("Thanks, but we will stay with our current supplier.\n\nBest regards,\nAnn\nCEO | Firm\n+1 555").text
    assert "current supplier" in out and "CEO" not in out


def test_long_note_above_a_forward_drops_the_forward():
    note = "We looked at this carefully with the team and we think there is room to talk about the volume tiers " \
           "and the delivery window, so please send a new draft with both changes and we will review it quickly."
    text = f"{note}\n\n---------- Forwarded message ---------\nFrom: A <a@x.example>\nSubject: s\n\nWe refuse.\n"
    assert clean(text).text == note


def test_outlook_forward_with_nothing_above_keeps_the_forwarded_text():
    text = ("-----Original Message-----\nFrom: Lee, Ann\nSent: Monday, May 07, 2001 9:00 AM\nTo: Kim, Bo\n"
            "Subject: pricing\n\nBo - hold the line on price, they have nowhere else to go.\nAnn\n")
    assert clean(text).text.startswith("Bo - hold the line")


def test_disclaimer_with_loaded_words_is_removed():
    text = ("Happy to meet on Tuesday.\n\nThis message is confidential and intended solely for the addressee. "
            "It is not an offer and we refuse any liability. If you have received it in error, notify the sender.")
    assert clean(text).text == "Happy to meet on Tuesday."


def test_html_is_sniffed_and_markdown_escapes_removed():
    out = clean("<html><body><p>1. We pass - thanks.</p><table><tr><td>x</td></tr></table></body></html>").text
    assert out.startswith("1. We pass - thanks.") and "\\" not in out
    assert "We pass" in html_to_text("<p>We pass</p>")


def test_clean_is_idempotent_on_fixtures():
    for _, kind, text in CASES:
        once = clean(text, html=kind == "html").text
        assert new_text(once) == once


def test_clean_is_fast():
    texts = [t for _, _, t in CASES if not t.lstrip().startswith("<")] * 20
    start = time.perf_counter()
    for t in texts:
        clean(t, html=False)
    per_message = (time.perf_counter() - start) / len(texts)
    assert per_message < 0.005  # 5 ms; typically well under 1 ms


def test_folded_patterns_match_like_ignorecase():
    import re

    from negclass.mail.cleaning import _Folded

    source = r"\bnot (?:the )?intended recipient|confidential"
    folded = _Folded(source)
    reference = re.compile(source, re.IGNORECASE)   # what the folded pattern must behave like
    for text in ["If you are NOT THE Intended Recipient, delete it.", "Strictly Confidential.", "nothing here",
                 "cannot the intended recipient", "CONFIDENTIAL and confidential"]:
        assert text.isascii()   # these take the lower-cased path
        assert [m.span() for m in folded.finditer(text)] == [m.span() for m in reference.finditer(text)], text
        assert folded.count(text) == len(reference.findall(text))
        assert bool(folded.search(text)) == bool(reference.search(text))
    # 'İ' lower-cases to two characters: spans must still point into the text as given
    text = "İstanbul office: if you are NOT THE Intended Recipient, the Kelvin \u212a note is CONFIDENTIAL."
    assert len(text.lower()) > len(text)
    assert [text[a:b] for a, b in (m.span() for m in folded.finditer(text))] == [
        "NOT THE Intended Recipient", "CONFIDENTIAL"]
    assert folded.count(text) == 2
    with pytest.raises(ValueError):
        _Folded(r"Original Message")


def test_windows_cover_a_long_text_whole_with_overlap():
    from negclass.mail.cleaning import windows

    text = "\n".join(f"Line {i} of the weekly gas report, nothing to see here." for i in range(700))
    spans = windows(text, size=4000, overlap=400)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(b - a <= 4000 for a, b in spans)
    assert all(nxt[0] < prev[1] for prev, nxt in zip(spans, spans[1:]))  # neighbours overlap: nothing falls between


def test_a_short_text_is_one_window():
    from negclass.mail.cleaning import windows

    assert windows("ok thanks") == [(0, 9)]


# -- Lotus Notes layouts (invented people and words, in the shapes Notes writes) -------------------
LOTUS_FORWARD = ("---------------------- Forwarded by Pat Quill/HOU/ACME on 03/14/2001 \n"
                 "09:41 AM ---------------------------\n\n\n"
                 "Robin Vale\n\n03/13/2001 05:02 PM\n\n"
                 "To: Pat Quill/HOU/ACME@ACME\ncc:  \nSubject: Price sheet\n\n"
                 "Pat, we will not move on the unit price this quarter.\n")


def test_lotus_forward_with_a_wrapped_marker_and_no_new_words_has_no_new_text():
    assert clean(LOTUS_FORWARD).text == ""


def test_lotus_forward_under_a_long_note_keeps_the_note_only():
    note = ("Jo, this is the supplier that keeps refusing to talk about volume. I think we should call them on "
            "Monday and ask what changed since the last round, before the board meets on the budget.")
    out = clean(f"{note}\n\n{LOTUS_FORWARD}").text
    assert out == note


def test_lotus_forward_under_a_short_note_keeps_the_note_and_the_forwarded_words_without_debris():
    out = clean(f"FYI, see below\n\n{LOTUS_FORWARD}").text
    assert out.startswith("FYI, see below") and "not move on the unit price" in out
    for debris in ("09:41 AM", "-----", "Robin Vale", "03/13/2001", "To:", "cc:", "Subject:"):
        assert debris not in out, debris


@pytest.mark.parametrize("block", [
    # name and date-time on two lines, blank lines between, indented
    "\tRobin Vale\n\t03/13/2001 05:02 PM\n\t\t \n\t\t To: Pat Quill/HOU/ACME@ACME, Lee Moss/HOU/ACME@ACME, Kim \n"
    "Roe/HOU/ACME@ACME\n\t\t cc: \n\t\t Subject: Price sheet\n",
    # name and date-time on one line
    "   Robin Vale @ ACME                03/13/2001 05:02 PM\n\nTo: Pat Quill/HOU/ACME@ACME\ncc:\n\nSubject: Price sheet\n",
    # "Sent by:" and "Please respond to" lines around the stamp
    "\tACME Trading Desk@ACME\n\tSent by: Robin Vale@ACME\n\t03/13/01 05:02 AM\n\tPlease respond to Robin Vale\n\n"
    "\t\t To: Pat Quill/HOU/ACME@ACME\n\t\t cc:\n\t\t Subject: Price sheet\n",
    # no sender line at all, a To: list wrapped over many lines
    "To: " + ", ".join(f"Person {i} Name/HOU/ACME@ACME" for i in range(30)).replace(", ", ",\n", 10) + "\ncc:\n\n"
    "Subject: Price sheet\n",
    # From: with the stamp, then wrapped addresses and lines holding only whitespace
    "From:  Robin Vale                                  \n  03/13/2001 05:02 PM\t\n\t\n\t\n\t    \n\t\n\n"
    "To: Pat Quill/HOU/ACME@ACME\ncc: Lee Moss/HOU/ACME@ACME, Kim \nRoe/HOU/ACME@ACME \nSubject: Price sheet\n",
], ids=["two-lines", "one-line", "sent-by", "bare-to-wrapped", "from-whitespace"])
def test_lotus_header_block_below_a_reply_is_cut(block):
    reply = "Fine, send me the new sheet and I will look at it tomorrow.\n\nPat"
    text = f"{reply}\n\n{block}\nPat, we will not move on the unit price this quarter.\nRobin\n"
    out = clean(text).text
    assert out.startswith("Fine, send me the new sheet") and "unit price" not in out
    for debris in ("To:", "cc:", "Subject:", "/HOU/ACME"):
        assert debris not in out, debris


def test_lotus_header_block_with_nothing_above_keeps_the_message_without_its_headers():
    text = ("\tRobin Vale\n\t03/13/2001 05:02 PM\n\t\t \n\t\t To: Pat Quill/HOU/ACME@ACME, Kim \nRoe/HOU/ACME@ACME\n"
            "\t\t cc: \n\t\t Subject: Price sheet\n\nWe will not move on the unit price this quarter.\n")
    assert clean(text).text == "We will not move on the unit price this quarter."


def test_a_date_and_time_on_its_own_line_without_a_header_block_is_kept():
    text = ("The call is set for\n03/13/2001 05:02 PM\nand we will not move on price.\n\n"
            "Agenda\nTo: be decided by the board.\n")
    out = clean(text).text
    assert "03/13/2001 05:02 PM" in out and "not move on price" in out and "be decided" in out


# -- properties: any text, any mix of mail layout lines -----------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LAYOUT = st.sampled_from([
    "From: Robin Vale", "Sent: Monday, May 07, 2001 9:00 AM", "To: Pat Quill/HOU/ACME@ACME", "cc:", "cc: Kim \n",
    "Subject: Re: price", "-----Original Message-----", "---------------------- Forwarded by Pat Quill/HOU/ACME on 03/14/2001",
    "09:41 AM ---------------------------", "Robin Vale", "03/13/2001 05:02 PM", "   Robin Vale @ ACME      03/13/2001 05:02 PM",
    "Sent by: Robin Vale@ACME", "Please respond to Robin", "On Mon, Mar 4, 2024 at 9:00 AM Sam <s@x.example> wrote:",
    "> We will not negotiate.", "-- ", "Best regards,", "Sent from my iPhone", "FYI", "", " ", "\t", "<p>", "<html><body>",
    "This message is confidential and intended solely for the addressee. Notify the sender.",
    "We will not move on the unit price this quarter.", "Thanks, call me on Monday."])
MAIL_TEXT = st.lists(st.one_of(LAYOUT, st.text(max_size=80)), max_size=40).map("\n".join)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(text=st.one_of(MAIL_TEXT, st.text(max_size=2000)), html=st.sampled_from([None, False, True]))
def test_clean_never_fails_and_its_offset_points_at_its_text(text, html):
    out = clean(text, html=html)
    assert isinstance(out.text, str) and out.text == out.text.strip()
    if out.offset is not None:
        assert text[out.offset:out.offset + len(out.text)] == out.text
    if html is False:
        assert len(out.text) <= len(text)


@pytest.mark.slow
def test_real_mailbox_cleaned_texts_rarely_hold_a_quoted_header_block():
    import re

    from negclass.mail import ingest

    mbox = ROOT.parent / "shared" / "data" / "enron-sample.mbox"
    if not mbox.exists():
        pytest.skip(f"{mbox} is not on this machine")
    block = re.compile(r"^[ \t>]*(?:To|cc)[ \t]*:.*\n(?:.*\n){0,3}?[ \t>]*Subject[ \t]*:", re.IGNORECASE | re.MULTILINE)
    texts = [clean(m.text, html=m.html).text for m in ingest.read([mbox]) if m.error is None]
    texts = [t for t in texts if t]
    holding = sum(1 for t in texts if block.search(t + "\n"))
    assert len(texts) > 20000 and holding / len(texts) < 0.005  # 2,127 of 23,747 (9.0%) before the Lotus rules
