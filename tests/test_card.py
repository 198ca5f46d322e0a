import json

from negclass import store
from negclass.card import model_card


def test_card_compares_the_model_with_both_baselines(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    card = model_card(meta, metrics)
    assert card.startswith("# Model card")
    for needle in ("## Intended use", "## Data", "## Limits", "scikit-learn", "## Model selection"):
        assert needle in card
    assert card == (tiny_model_dir / store.CARD).read_text()


def test_shipped_card_reports_heldout_and_baselines():
    card = (store.shipped_model_dir() / store.CARD).read_text()
    assert "Held-out split of data/" in card and "| majority class |" in card and "| keyword rules |" in card


def test_card_reports_the_reserve_audit_and_how_much_of_the_reserve_is_flagged(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    metrics["reserve_audit"] = {"n": 20, "both": 3, "either": 5, "reserve": 2000, "flagged": 30, "file": "audit.csv"}
    card = model_card(meta, metrics)
    assert "**3 of 20**" in card and "5 by at least one" in card
    assert "flags 30 of the 2000 reserved messages (1.50%)" in card
    del metrics["reserve_audit"]["flagged"]  # audits recorded before the count was kept
    assert "reserved messages (" not in model_card(meta, metrics)
