"""What ``suggest`` prints: whole ids and the text that was classified, not the raw body."""
from __future__ import annotations

from negclass import ingest, suggest

from .conftest import FIXTURES

LONG_ID = "<CAF8x7t1qY9-this-is-a-rather-long-message-id-from-a-mail-client@mail.gmail.example>"


def test_render_shows_whole_ids_and_the_classified_text(model, monkeypatch):
    gmail = next(ingest.read([FIXTURES / "mail" / "clients" / "gmail_reply.eml"]))
    gmail.id = LONG_ID
    monkeypatch.setattr(ingest, "read", lambda *a, **k: iter([gmail]))
    frame = suggest.suggest([FIXTURES / "mail" / "clients" / "gmail_reply.eml"], n=1, model=model)
    out = suggest.render(frame)
    assert LONG_ID in out
    shown = out.splitlines()[-1].strip()
    quoted = [q.lstrip("> ").strip() for q in gmail.text.splitlines() if q.startswith(">")]
    quoted = [q for q in quoted if len(q) > 20]  # the quoted refusal from our side, not "Sam"
    assert quoted and not any(q[:30] in shown for q in quoted)
    assert shown and shown[:40] in " ".join(gmail.text.split())
