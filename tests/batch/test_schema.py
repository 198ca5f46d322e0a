from negclass.batch import schema
from negclass.mail.message import Message
from negclass.model import taxonomy


def test_columns_hold_every_reason_probability_and_the_text_only_when_asked():
    cols = schema.columns()
    assert [f"p_{r}" for r in taxonomy.reasons()] == [c for c in cols if c.startswith("p_")]
    assert schema.TEXT_COLUMN not in cols
    assert schema.columns(include_text=True) == cols + [schema.TEXT_COLUMN]
    assert len(set(cols)) == len(cols)


def test_column_types():
    assert schema.column_type("p_none") == "float"
    assert schema.column_type("text_chars") == "int"
    assert schema.column_type("skipped") == "bool"
    assert schema.column_type("subject") == "str"


def test_date_utc_converts_zones_and_rejects_nonsense():
    assert schema.date_utc("Mon, 14 May 2001 16:39:00 -0700") == "2001-05-14T23:39:00Z"
    assert schema.date_utc("2001-05-14T23:39:00Z") == "2001-05-14T23:39:00Z"
    assert schema.date_utc("2001-05-14 10:00") == "2001-05-14T10:00:00Z"  # no zone: taken as UTC
    assert schema.date_utc("next tuesday") is None
    assert schema.date_utc("") is None
    assert schema.date_utc(None) is None


def test_subjects_lose_reply_and_forward_prefixes():
    assert schema.normalise_subject("RE: Fwd: AW:  Supply   Contract") == "supply contract"
    assert schema.normalise_subject("[deals] Re[2]: Pricing") == "pricing"
    assert schema.normalise_subject(None) == ""


def test_thread_key_prefers_the_reference_then_the_subject():
    with_ref = Message(id="a", source="s", text="x", subject="Re: Terms", thread_ref="<root@x>")
    by_subject = Message(id="b", source="s", text="x", subject="Re: Terms")
    bare = Message(id="c", source="s", text="x")
    assert schema.thread_key(with_ref) == "<root@x>"
    assert schema.thread_key(by_subject) == "subject:terms"
    assert schema.thread_key(bare) is None


def test_snippet_flattens_and_cuts_with_an_ellipsis():
    assert schema.snippet("a\n\n b") == "a b"
    long = schema.snippet("word " * 100, chars=20)
    assert len(long) <= 20 and long.endswith("…")
    assert schema.snippet("") is None
