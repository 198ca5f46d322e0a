"""Reading every input format into one ``Message`` per message, without crashing on bad mail."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from negclass import ingest
from negclass.errors import NegclassError

MAIL = Path(__file__).resolve().parent / "fixtures" / "mail"


def ids(path, fmt=None):
    return [m.id for m in ingest.read([path], fmt)]


@pytest.mark.parametrize("name,fmt", [("box.mbox", "mbox"), ("truncated.mbox", "mbox"), ("maildir", "maildir"),
                                      ("emltree", "emldir"), ("table.csv", "csv"), ("table.jsonl", "jsonl"),
                                      ("table.parquet", "parquet"), ("clients/gmail_reply.eml", "eml")])
def test_detect_format(name, fmt):
    assert ingest.detect_format(MAIL / name) == fmt


def test_mbox_streams_one_message_per_entry_and_unescapes_from_lines():
    msgs = list(ingest.read([MAIL / "box.mbox"]))
    assert [m.id for m in msgs] == ["<theirs-1@buyer.example>", "<ours-1@ourco.example>", "<gmail-1@buyer.example>"]
    assert "From the desk of Dana" in msgs[0].text  # stored as ">From the desk" in the mbox
    assert msgs[1].address == "sam@ourco.example"  # lower-cased
    assert all(m.error is None for m in msgs)


def test_truncated_mbox_keeps_every_message():
    msgs = list(ingest.read([MAIL / "truncated.mbox"]))
    assert len(msgs) == 3 and msgs[-1].text


def test_non_email_given_as_mbox_is_one_error_row():
    msgs = list(ingest.read([MAIL / "not_email.mbox"]))
    assert len(msgs) == 1 and "not an mbox" in msgs[0].error
    msgs = list(ingest.read([MAIL / "table.csv"], "mbox"))
    assert len(msgs) == 1 and msgs[0].error


def test_maildir_and_eml_tree():
    assert len(ids(MAIL / "maildir")) == 2
    tree = list(ingest.read([MAIL / "emltree"]))
    assert len(tree) == 2 and all(m.source.endswith(".eml") for m in tree)  # notes.txt is not read


def test_tables_keep_row_ids_and_report_bad_rows():
    for name in ("table.csv", "table.jsonl", "table.parquet"):
        msgs = list(ingest.read([MAIL / name]))
        assert [m.id for m in msgs[:3]] == ["r1", "r2", "r3"]
        assert msgs[0].sender == "a@x.example" and msgs[2].error == "empty text"
    jsonl = list(ingest.read([MAIL / "table.jsonl"]))
    assert len(jsonl) == 4 and "bad JSON" in jsonl[3].error
    for name in ("table.csv", "table.jsonl", "table.parquet"):
        with pytest.raises(NegclassError, match=r"no column 'body'; the columns are 'id', 'text'"):
            list(ingest.read([MAIL / name], text_column="body"))


def test_nasty_mime():
    by_id = {m.id: m for m in ingest.read([MAIL / "nasty"])}
    assert len(by_id) == 7
    assert by_id["<b64html@x.example>"].html and "budget is frozen" in by_id["<b64html@x.example>"].text
    assert "Caf" in by_id["<badcs@x.example>"].text                         # unknown charset
    assert "thé" in by_id["<lyingcs@x.example>"].text                       # latin-1 bytes declared utf-8
    assert "fête" in by_id["<undecl@x.example>"].text                       # 8-bit, no charset
    assert by_id["<empty@x.example>"].text == "" and by_id["<empty@x.example>"].error is None
    assert "application/pdf" in by_id["<attonly@x.example>"].error
    assert "REFUSE" not in by_id["<withatt@x.example>"].text                # attachments ignored


def test_quoted_printable_and_base64_bodies():
    de = next(ingest.read([MAIL / "clients" / "german_reply.eml"]))
    assert "Grüßen" in de.text and "Jörg" in de.sender
    b64 = next(ingest.read([MAIL / "clients" / "outlook_classic_base64.eml"]))
    assert "first of the year" in b64.text


def test_several_inputs_and_forced_format():
    msgs = list(ingest.read([MAIL / "box.mbox", MAIL / "table.jsonl"]))
    assert len(msgs) == 7
    assert len(list(ingest.read([MAIL / "clients" / "gmail_reply.eml"], "eml"))) == 1


def test_missing_input_and_folder_as_file_are_user_errors():
    with pytest.raises(NegclassError, match="no such file"):
        list(ingest.read([MAIL / "nope.mbox"]))
    with pytest.raises(NegclassError, match="is a folder"):
        list(ingest.read([MAIL / "maildir"], "mbox"))


def test_msg_without_extra_names_it(tmp_path, monkeypatch):
    f = tmp_path / "a.msg"
    f.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    monkeypatch.setitem(sys.modules, "extract_msg", None)  # import fails as if not installed
    with pytest.raises(NegclassError, match=r"pip install 'negclass\[msg\]'"):
        list(ingest.read([f]))
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "b.msg").write_bytes(f.read_bytes())
    rows = list(ingest.read([tmp_path / "tree"]))
    assert len(rows) == 1 and "negclass[msg]" in rows[0].error


def test_msg_is_read_with_extract_msg(tmp_path, monkeypatch):
    class Fake:
        messageId = "<m1@x.example>"
        sender = "Kay <kay@x.example>"
        subject = "RE: offer"
        date = "2024-03-04 10:00:00"
        body = ""
        htmlBody = b"<p>We will pass, thanks.</p>"

        def close(self):
            pass

    monkeypatch.setitem(sys.modules, "extract_msg", types.SimpleNamespace(openMsg=lambda p: Fake()))
    f = tmp_path / "a.msg"
    f.write_bytes(b"\xd0\xcf\x11\xe0")
    assert ingest.detect_format(f) == "msg"
    m = next(ingest.read([f]))
    assert (m.id, m.address, m.html, m.error) == ("<m1@x.example>", "kay@x.example", True, None)


def _standard_body(raw: bytes):
    """What ``EmailMessage.get_body`` (policy.default) picks: (subtype, decoded text) or None."""
    import email as email_pkg
    from email import policy

    msg = email_pkg.message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    return None if body is None else (body.get_content_subtype(), ingest._decode_part(body))


def _built_messages() -> list[bytes]:
    from email.message import EmailMessage

    out = []
    alt = EmailMessage()
    alt["Subject"] = "alt"
    alt.set_content("plain words")
    alt.add_alternative("<p>html words</p>", subtype="html")
    out.append(alt)
    html_first = EmailMessage()
    html_first.set_content("<p>only html</p>", subtype="html")
    html_first.add_attachment("an attached note", filename="note.txt")
    out.append(html_first)
    related = EmailMessage()
    related.set_content("<p>root</p>", subtype="html")
    related.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<img1>")
    related.add_alternative("text version", subtype="plain")
    out.append(related)
    attached_text = EmailMessage()
    attached_text.make_mixed()
    attached_text.add_attachment("only an attachment", filename="a.txt")
    out.append(attached_text)
    nested = EmailMessage()
    nested.set_content("outer")
    inner = EmailMessage()
    inner.set_content("inner message")
    nested.add_attachment(inner)
    out.append(nested)
    return [m.as_bytes() for m in out]


def test_body_choice_matches_the_standard_librarys_get_body():
    raws = [p.read_bytes() for p in sorted(MAIL.rglob("*.eml"))] + _built_messages()
    assert len(raws) > 15
    for raw in raws:
        expected = _standard_body(raw)
        got = ingest.parse_email(raw, "x", "x")
        assert (None if got.text is None else ("html" if got.html else "plain", got.text)) == expected
