import codecs

from negclass.mail import mime


def test_text_in_any_script_is_not_binary():
    for text in ["Thanks, we will pass for now.", "Спасибо, но нам это не нужно.", "ありがとうございます。", "tab\tand\r\nlines\f"]:
        assert not mime.looks_binary(text)
        assert not mime.looks_binary(text.encode("utf-8"))


def test_nul_bytes_or_many_control_characters_are_binary():
    assert mime.looks_binary(b"PK\x03\x04\x00\x00rest of a zip")
    assert mime.looks_binary("text\x00more")
    assert mime.looks_binary(bytes(range(1, 9)) * 50 + b"some words")
    assert not mime.looks_binary(b"")


def test_decode_text_follows_byte_order_marks_then_utf8_then_cp1252():
    assert mime.decode_text(codecs.BOM_UTF8 + "caf\u00e9".encode()) == ("caf\u00e9", "utf-8")
    text, enc = mime.decode_text(codecs.BOM_UTF16_LE + "Not now".encode("utf-16-le"))
    assert text == "Not now" and enc.startswith("utf-16")
    assert mime.decode_text("we\u2019ll pass".encode("utf-8"))[0] == "we\u2019ll pass"
    text, enc = mime.decode_text("we\u2019ll pass \u2013 thanks".encode("cp1252"))
    assert text == "we\u2019ll pass \u2013 thanks" and enc == "cp1252"

