import re
from pathlib import Path

import pytest

from negclass.model import playbook, taxonomy

from ..conftest import ROOT

SEED = ROOT.parent / "shared" / "seed" / "why-theyre-not-negotiating.txt"


def test_every_refusal_reason_and_signal_has_tactics():
    for reason in taxonomy.refusal_reasons():
        for signal in taxonomy.signals(reason):
            tactics = playbook.tactics_for(reason, signal)
            assert len(tactics) >= 3, (reason, signal)
            for t in tactics:
                assert t.id and t.title and t.do and t.say


def test_none_has_no_tactics():
    assert playbook.tactics_for("none") == []


def test_emotions_high_tactics_differ_by_signal():
    distrust = {t.id for t in playbook.tactics_for("emotions_high", "distrust_conflict")}
    authority = {t.id for t in playbook.tactics_for("emotions_high", "no_authority")}
    assert distrust and authority and not distrust & authority


def test_signal_priority_orders_tactics():
    assert playbook.tactics_for("too_strong", "price_only")[0].id == "ts_total_value"
    assert playbook.tactics_for("too_strong", "tactical_silence")[0].id == "ts_own_the_timing"


def test_each_tactic_id_belongs_to_one_reason():
    ids = [t.id for r in taxonomy.refusal_reasons() for s in taxonomy.signals(r) for t in playbook.tactics_for(r, s)]
    per_reason = {}
    for r in taxonomy.refusal_reasons():
        for s in taxonomy.signals(r):
            for t in playbook.tactics_for(r, s):
                per_reason.setdefault(t.id, set()).add(r)
    assert all(len(v) == 1 for v in per_reason.values())
    assert len(set(ids)) >= 18


def test_render_mentions_every_reason():
    text = playbook.render()
    for reason in taxonomy.reasons():
        assert reason in text


def test_unknown_reason_is_an_error():
    with pytest.raises(KeyError, match="unknown reason 'angry'; expected one of too_strong, too_weak"):
        playbook.render("angry")


@pytest.mark.skipif(not SEED.exists(), reason="seed article not present")
def test_playbook_does_not_copy_sentences_from_the_article():
    seed = " ".join(SEED.read_text("utf-8").split()).lower()
    words = re.findall(r"[a-z']+", seed)
    shingles = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
    text = (Path(playbook.__file__).parent.parent / "data" / "playbook.yaml").read_text("utf-8").lower()
    ours = re.findall(r"[a-z']+", text)
    copied = [" ".join(ours[i:i + 8]) for i in range(len(ours) - 7) if " ".join(ours[i:i + 8]) in shingles]
    assert copied == []
