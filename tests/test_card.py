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
