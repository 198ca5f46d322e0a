"""Reading every input format into one ``Message`` per message, without crashing on bad mail."""
from __future__ import annotations

import sys
import types

import pytest

from negclass.errors import NegclassError
from negclass.mail import ingest, message, mime

from ..conftest import FIXTURES

MAIL = FIXTURES / "mail"


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
    return None if body is None else (body.get_content_subtype(), mime._decode_part(body))


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
        got = mime.parse_email(raw, "x", "x")
        assert (None if got.text is None else ("html" if got.html else "plain", got.text)) == expected


# -- every input a user can throw at it -------------------------------------------------------------
def _random_bytes(n: int, seed: int = 14) -> bytes:
    import random

    return random.Random(seed).randbytes(n)


def _mbox(*bodies: bytes) -> bytes:
    return b"".join(b"From a@x.example Mon Mar  4 10:00:00 2024\nFrom: a@x.example\nSubject: s\n"
                    b"Message-ID: <m%d@x.example>\n\n" % i + body + b"\n\n" for i, body in enumerate(bodies))


@pytest.mark.parametrize("text", [
    "We will not negotiate the price, sorry.", "Café, déjà vu: nous ne négocierons pas.",
    "Привет, мы не будем обсуждать цену.", "価格については交渉しません。", "Καλημέρα, δεν θα διαπραγματευτούμε.",
    "col1\tcol2\tcol3\n1\t2\t3\n\f\r\n", "x" * 20000])
def test_text_in_any_language_is_not_binary(text):
    assert not mime.looks_binary(text) and not mime.looks_binary(text.encode("utf-8"))


def test_random_bytes_and_nul_are_binary_as_bytes_and_decoded():
    raw = _random_bytes(50000)
    assert mime.looks_binary(raw) and mime.looks_binary(raw.decode("latin-1"))
    assert mime.looks_binary(raw.decode("utf-8", errors="replace"))
    assert mime.looks_binary(b"plain text then a NUL\x00") and mime.looks_binary("a\x00b")


@pytest.mark.parametrize("text,encoding", [("Café, we will not negotiate. Déjà vu.", "cp1252"),
                                           ("Grüße, wir verhandeln nicht über den Preis.", "latin-1"),
                                           ("Nous avons déjà répondu, voilà – «non».", "cp1252"),
                                           ("Привет, мы не будем обсуждать цену сегодня, извините.", "cp1251")])
def test_decode_text_detects_undeclared_charsets(text, encoding):
    assert mime.decode_text(text.encode(encoding))[0] == text
    assert mime.decode_text(("\ufeff" + text).encode("utf-8")) == (text, "utf-8")


def test_binary_content_is_one_error_row_in_every_reader(tmp_path):
    junk = _random_bytes(50000)
    (tmp_path / "box.mbox").write_bytes(_mbox(b"We pass, thanks.", junk, b"Call me on Monday."))
    (tmp_path / "junk.eml").write_bytes(junk)
    (tmp_path / "junk.txt").write_bytes(junk)
    (tmp_path / "t.jsonl").write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": "%s"}\n'
                                      % ("\\u0001\\u0002\\u0003" * 100), "utf-8")
    box = list(ingest.read([tmp_path / "box.mbox"]))
    assert [m.error for m in box] == [None, mime.BINARY, None] and box[2].text.startswith("Call me")
    for name in ("junk.eml", "junk.txt"):
        (only,) = ingest.read([tmp_path / name])
        assert only.error == mime.BINARY and only.text is None
    assert [m.error for m in ingest.read([tmp_path / "t.jsonl"])] == [None, mime.BINARY]


def test_csv_rows_with_the_wrong_number_of_fields_are_error_rows_naming_the_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text,from\nr1,"We pass, thanks.",a@x.example\nr2,We pass, thanks,b@x.example\n'
                    'r3,"Multi\nline, quoted",c@x.example\nr4,Too few\nr5,Fine,e@x.example\n', "utf-8")
    msgs = list(ingest.read([path]))
    assert len(msgs) == 5
    assert [m.id for m in msgs if m.error is None] == ["r1", "r3", "r5"]
    assert msgs[0].sender == "a@x.example" and msgs[2].sender == "c@x.example" and msgs[4].text == "Fine"
    assert msgs[1].error.startswith("line 3: 4 fields but the header has 3")
    assert msgs[3].error.startswith("line 6: 2 fields but the header has 3")


def test_non_utf8_tables_are_refused_with_the_message_train_gives(tmp_path):
    from negclass.errors import DataError
    from negclass.training import dataset

    path = tmp_path / "latin.csv"
    path.write_bytes("text,reason\nok,none\nCafé fermé,none\n".encode("latin-1"))
    with pytest.raises(DataError) as scored:
        list(ingest.read([path]))
    with pytest.raises(DataError) as trained:
        dataset.load([path])
    assert str(scored.value) == str(trained.value)
    assert f"{path}:3: not UTF-8 text" in str(scored.value) and "CSV UTF-8" in str(scored.value)


def test_utf8_check_finds_a_bad_byte_past_the_first_piece(tmp_path):
    path = tmp_path / "big.jsonl"
    line = '{"text": "%s"}\n' % ("é" * 200)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(line * 6000)  # over 1 MB: the check reads in pieces, a character may straddle two
    with open(path, "ab") as fh:
        fh.write(b'{"text": "caf\xe9"}\n')
    with pytest.raises(NegclassError, match=r":6001: not UTF-8 text"):
        ingest.check_utf8(path)


def test_a_table_without_the_text_column_is_refused_listing_its_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("msg_id,body\n1,hello\n", "utf-8")
    with pytest.raises(NegclassError, match=r"no column 'text'; the columns are 'msg_id', 'body'"):
        ingest.check_inputs([path], text_column="text")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(NegclassError, match="the file is empty"):
        ingest.check_inputs([tmp_path / "empty.csv"], text_column="text")


@pytest.mark.parametrize("column", ["id", "message_id", "msg_id", "Message-ID"])
def test_common_id_columns_are_detected(tmp_path, column):
    path = tmp_path / "t.csv"
    path.write_text(f"subject,{column},text\ns,abc-1,We pass.\ns,abc-2,Call me.\n", "utf-8")
    assert ingest.check_table(path, "csv") == column
    assert [m.id for m in ingest.read([path])] == ["abc-1", "abc-2"]


def test_an_unknown_id_column_is_refused_and_no_id_column_gives_file_row_ids(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text\nWe pass.\n", "utf-8")
    assert [m.id for m in ingest.read([path])] == [f"{path}#0"]
    with pytest.raises(NegclassError, match="no column 'ref' for --id-column; the columns are 'text'"):
        list(ingest.read([path], id_column="ref"))


def test_an_empty_mbox_is_one_row_saying_so(tmp_path):
    (tmp_path / "empty.mbox").write_bytes(b"")
    (only,) = ingest.read([tmp_path / "empty.mbox"])
    assert only.error == "the file is empty"


def test_a_folder_without_mail_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not mail", "utf-8")
    (tmp_path / "sub").mkdir()
    with pytest.raises(NegclassError, match=rf"no messages found in {tmp_path} \(looked for mbox, maildir, .eml, .msg\)"):
        ingest.check_inputs([tmp_path])
    (tmp_path / "cur").mkdir()
    (tmp_path / "new").mkdir()
    with pytest.raises(NegclassError, match="no messages found"):  # an empty maildir
        ingest.check_inputs([tmp_path])


def test_a_folder_of_mbox_files_is_read(tmp_path):
    (tmp_path / "a.mbox").write_bytes(_mbox(b"We pass.", b"Call me."))
    (tmp_path / "b.eml").write_bytes(b"From: b@x.example\nMessage-ID: <b@x.example>\n\nNo thanks.\n")
    assert [m.error for m in ingest.read([tmp_path])] == [None, None, None]


def test_a_message_over_the_size_limit_is_one_error_row(tmp_path, monkeypatch):
    monkeypatch.setattr(message, "MAX_MESSAGE_BYTES", 4096)
    monkeypatch.setattr(message, "LINE_CHUNK", 512)
    (tmp_path / "box.mbox").write_bytes(_mbox(b"We pass.", b"x" * 10000, b"Call me."))
    (tmp_path / "big.eml").write_bytes(b"From: a@x.example\n\n" + b"y" * 5000)
    box = list(ingest.read([tmp_path / "box.mbox"]))
    assert [m.error is None for m in box] == [True, False, True] and "too large" in box[1].error
    assert box[1].id == f"{tmp_path / 'box.mbox'}#1" and box[2].text.startswith("Call me")
    assert "too large" in next(ingest.read([tmp_path / "big.eml"])).error
    (tmp_path / "t.jsonl").write_text('{"id": "a", "text": "We pass."}\n{"id": "b", "text": "%s"}\n'
                                      '{"id": "c", "text": "Call me."}\n' % ("z" * 10000), "utf-8")
    rows = list(ingest.read([tmp_path / "t.jsonl"]))
    assert [m.id for m in rows] == ["a", f"{tmp_path / 't.jsonl'}#1", "c"] and "too large" in rows[1].error


# -- properties: whatever the bytes, one row per message, no exception, error set when unusable -----
import csv as _csv  # noqa: E402
import io as _io  # noqa: E402
import json as _json  # noqa: E402
import re as _re  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from negclass.errors import DataError, NotUTF8Error  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MAILISH = st.sampled_from([b"From: a@x.example\n", b"Subject: =?utf-8?b?w6k=?=\n", b"Content-Type: text/plain; charset=koi8-r\n",
                           b"Content-Type: multipart/mixed; boundary=\"b\"\n", b"--b\n", b"--b--\n",
                           b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
                           b"Content-Type: message/rfc822\n", b"\n", b"\r\n", b"=E9=\n", b"\x00", b"\xff\xfe"])
RAW = st.one_of(st.binary(max_size=3000), st.lists(st.one_of(MAILISH, st.binary(max_size=200)), max_size=30).map(b"".join))


def usable(m: ingest.Message) -> bool:
    """The contract of every reader: no error means a text that can be classified."""
    return m.error is not None or (isinstance(m.text, str) and not mime.looks_binary(m.text))


@FUZZ
@given(raw=RAW)
def test_any_bytes_as_an_eml_file_are_one_row(tmp_path, raw):
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    msgs = list(ingest.read([path]))
    assert len(msgs) == 1 and usable(msgs[0])
    parsed = mime.parse_email(raw, "x", "x")
    assert usable(parsed)


def _escape_from(body: bytes) -> bytes:
    return _re.sub(rb"(?m)^(>*From )", rb">\1", body)


@FUZZ
@given(bodies=st.lists(RAW, min_size=1, max_size=5))
def test_any_bytes_as_mbox_bodies_are_one_row_per_message(tmp_path, bodies):
    path = tmp_path / "box.mbox"
    path.write_bytes(b"".join(b"From a@x.example Mon Mar  4 10:00:00 2024\nSubject: s\n\n" + _escape_from(b) + b"\n\n"
                              for b in bodies))
    msgs = list(ingest.read([path]))
    assert len(msgs) == len(bodies) and all(usable(m) for m in msgs)


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@FUZZ
@given(rows=st.lists(st.tuples(CELL, CELL), min_size=1, max_size=8))
def test_any_csv_cells_are_one_row_per_record(tmp_path, rows):
    path = tmp_path / "t.csv"
    buf = _io.StringIO(newline="")
    writer = _csv.writer(buf)
    writer.writerow(["id", "text", "from"])
    for i, (text, sender) in enumerate(rows):
        writer.writerow([f"r{i}", text, sender])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    msgs = list(ingest.read([path]))
    assert [m.id for m in msgs] == [f"r{i}" for i in range(len(rows))]
    assert all(usable(m) for m in msgs)
    for m, (text, _) in zip(msgs, rows):
        if not text.strip():
            assert m.error == "empty text"
        elif mime.looks_binary(text):
            assert m.error == mime.BINARY
        else:
            assert m.error is None and m.text == text


LINE = st.one_of(st.builds(lambda t, i: _json.dumps({"id": i, "text": t}), CELL, st.integers()),
                 st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
                         max_size=200))


@FUZZ
@given(lines=st.lists(LINE, min_size=1, max_size=8))
def test_any_jsonl_lines_are_one_row_per_non_blank_line(tmp_path, lines):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    try:
        msgs = list(ingest.read([path]))
    except NegclassError as exc:  # a file refused as a whole must say why in one line
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert len(msgs) == sum(1 for line in lines if line.strip())
    assert all(usable(m) for m in msgs)


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_any_bytes_as_a_table_are_refused_whole_or_read_row_by_row(tmp_path, raw):
    for name in ("t.csv", "t.jsonl"):
        path = tmp_path / name
        path.write_bytes(b"id,text\n" + raw if name == "t.csv" else raw)
        try:
            msgs = list(ingest.read([path]))
        except NotUTF8Error:   # only for bytes that really are not UTF-8
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8-sig")
            continue
        except DataError as exc:   # refused whole: an empty file, or no text column
            assert exc.detail == ingest.EMPTY_FILE or exc.detail.startswith("no column 'text'"), exc
            continue
        assert all(usable(m) for m in msgs)


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_any_bytes_as_a_txt_file_are_one_row(tmp_path, raw):
    path = tmp_path / "m.txt"
    path.write_bytes(raw)
    msgs = list(ingest.read([path]))
    assert len(msgs) == 1 and usable(msgs[0])


# -- the fuzz corpus (tests/fixtures/fuzz, made by make_fuzz.py) -----------------------------------
FUZZ_DIR = MAIL.parent / "fuzz"
FUZZ_EXPECTED = {  # file -> per message: a phrase its text holds, or ("error", a phrase of the error)
    "mixed_charsets.eml": ["Мы не будем снижать цену"],
    "ascii_declared_utf8_sent.eml": ["souhaitons pas négocier"],
    "unknown_encoded_words.eml": ["the body is fine"],
    "unclosed_boundary.eml": ["keep the current rate"],
    "wrong_boundary.eml": [("error", "no text body")],
    "multipart_without_boundary.eml": [("error", "no text body")],
    "nested_rfc822.eml": ["See the note from Lee below"],
    "only_rfc822.eml": [("error", "message/rfc822")],
    "deeply_nested.eml": ["Deep down we still say no."],
    "bad_base64.eml": ["We cannot do 10%"],
    "bad_quoted_printable.eml": ["No discount"],
    "utf16_base64.eml": ["We will not sign before June."],
    "broken_html.eml": ["We pass on the"],
    "huge_header_line.eml": ["the answer is no"],
    "mixed_line_ends.mbox": ["From the start we said no.", "Old Mac line end", "No headers at all", "not interested"],
}


def test_every_fuzz_fixture_has_an_expectation():
    assert {p.name for p in FUZZ_DIR.iterdir() if p.suffix != ".py"} == set(FUZZ_EXPECTED)


@pytest.mark.parametrize("name", sorted(FUZZ_EXPECTED))
def test_fuzz_corpus_reads_one_row_per_message_as_expected(name):
    msgs = list(ingest.read([FUZZ_DIR / name]))
    assert len(msgs) == len(FUZZ_EXPECTED[name])
    for m, want in zip(msgs, FUZZ_EXPECTED[name]):
        if isinstance(want, tuple):
            assert m.error and want[1] in m.error and m.text in (None, "")
        else:
            assert m.error is None and want in m.text
            assert not mime.looks_binary(m.text)


def test_nested_forward_attachment_words_are_not_the_senders():
    (msg,) = ingest.read([FUZZ_DIR / "nested_rfc822.eml"])
    assert "refuse to reopen" not in msg.text and "Forwarding" not in msg.text


@pytest.mark.slow
def test_a_10_mb_attachment_is_skipped_and_the_text_read(tmp_path):
    import base64

    blob = base64.encodebytes(_random_bytes(10 << 20))
    path = tmp_path / "big.eml"
    path.write_bytes(b"From: a@x.example\r\nMessage-ID: <big@x.example>\r\nMIME-Version: 1.0\r\n"
                     b"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
                     b"Numbers attached; we stay at the current rate.\r\n--B\r\nContent-Type: application/zip\r\n"
                     b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n" + blob + b"--B--\r\n")
    (msg,) = ingest.read([path])
    assert msg.error is None and msg.text.strip() == "Numbers attached; we stay at the current rate."
    box = tmp_path / "big.mbox"
    box.write_bytes(b"From a@x Mon Mar  4 10:00:00 2024\n" + path.read_bytes().replace(b"\r\n", b"\n") + b"\n"
                    + _mbox(b"And a small one after it."))
    assert [m.error for m in ingest.read([box])] == [None, None]


@pytest.mark.slow
def test_a_100_mb_single_line_is_streamed_not_loaded_whole(tmp_path):
    import tracemalloc

    path = tmp_path / "one_line.mbox"
    with open(path, "wb") as fh:
        fh.write(b"From a@x Mon Mar  4 10:00:00 2024\nSubject: huge\n\n")
        chunk = b"no " * (1 << 18)
        for _ in range((100 << 20) // len(chunk)):
            fh.write(chunk)
        fh.write(b"\n\n")
        fh.write(_mbox(b"A normal message after it."))
    txt = tmp_path / "one_line.txt"
    with open(txt, "wb") as fh:
        for _ in range((100 << 20) // len(chunk)):
            fh.write(chunk)
    jsonl = tmp_path / "one_line.jsonl"
    with open(jsonl, "wb") as fh:
        fh.write(b'{"id": "big", "text": "')
        for _ in range((100 << 20) // len(chunk)):
            fh.write(chunk)
        fh.write(b'"}\n{"id": "small", "text": "Fine."}\n')
    tracemalloc.start()
    try:
        box = list(ingest.read([path]))
        (big_txt,) = ingest.read([txt])
        table = list(ingest.read([jsonl]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [m.error is None for m in box] == [False, True] and "too large" in box[0].error
    assert box[1].text.startswith("A normal message") and "too large" in big_txt.error
    assert "too large" in table[0].error and table[1].text == "Fine."
    assert peak < message.MAX_MESSAGE_BYTES + (16 << 20)  # held at most one message's worth, never 100 MB


def test_texts_are_read_again_by_id_also_from_a_moved_input(tmp_path):
    box = tmp_path / "now" / "box.mbox"
    box.parent.mkdir()
    box.write_bytes((MAIL / "box.mbox").read_bytes())
    msgs = list(ingest.read([box]))
    then = "then/box.mbox"  # the name it had when it was scored
    ids = [m.id.replace(str(box), then, 1) for m in msgs]
    texts, single = ingest.read_texts(box, ids, named=then)
    assert texts == {i: (m.text if m.error is None else None) for i, m in zip(ids, msgs)} and single is None
    one = MAIL / "clients" / "gmail_reply.eml"
    texts, single = ingest.read_texts(one, ["<not the id we have>"])
    assert texts == {} and single == next(ingest.read([one])).text
