import json

from negclass.model import store
from negclass.model.card import model_card


def test_card_compares_the_model_with_both_baselines(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    card = model_card(meta, metrics)
    assert card.startswith("# Model card")
    for needle in ("## Intended use", "## Data", "## Limits", "scikit-learn", "## Model selection"):
        assert needle in card
    assert card == (tiny_model_dir / store.CARD).read_text()


def test_the_shipped_card_is_rebuilt_from_its_saved_figures_with_both_baselines():
    shipped = store.shipped_model_dir()
    meta = json.loads((shipped / store.META).read_text())
    metrics = json.loads((shipped / store.METRICS).read_text())
    card = model_card(meta, metrics)
    assert card == (shipped / store.CARD).read_text()   # the card follows from meta.json and metrics.json alone
    heldout = metrics["heldout"]
    table = card.split(f"### Held-out split of data/ ({heldout['model']['n']} examples)", 1)[1].split("###", 1)[0]
    for label, key in (("negclass", "model"), ("majority class", "majority"), ("keyword rules", "keyword_rules")):
        assert f"| {label} | {heldout[key]['macro_f1']:.3f} | {heldout[key]['accuracy']:.3f} |" in table


def test_card_reports_the_reserve_audit_and_how_much_of_the_reserve_is_flagged(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    metrics["reserve_audit"] = {"n": 20, "both": 3, "either": 5, "reserve": 2000, "flagged": 30, "file": "audit.csv"}
    card = model_card(meta, metrics)
    assert "**3 of 20**" in card and "5 by at least one" in card
    assert "flags 30 of the 2000 reserved messages (1.50%)" in card
    del metrics["reserve_audit"]["flagged"]  # audits recorded before the count was kept
    assert "reserved messages (" not in model_card(meta, metrics)


def test_card_describes_the_gate_only_when_the_model_has_one(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    assert meta["gate"] is None  # the fixture records no kinds of message
    assert "stance-content gate" not in model_card(meta, metrics)
    meta["gate"] = {"rows": 900, "no_stance_content": 120, "power": 1.0}
    assert "gate (lemma 1-2-grams, logistic regression) trained on 900 rows, 120 of them" in model_card(meta, metrics)


def test_card_says_how_the_threshold_was_chosen_on_real_mail(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    metrics.pop("tuning", None)
    assert "real non-refusals of the real dev set" not in model_card(meta, metrics)
    metrics["tuning"] = {"examples": 100, "refusals": 10, "refusal_scale": None,
                         "note": "lowest threshold with false alarms on the real non-refusals within the cap"}
    meta["config"]["tune_false_alarm"] = 0.04
    assert "the lowest threshold that flags at most 4% of the 90 real non-refusals of the real dev set." \
        in model_card(meta, metrics)
    metrics["tuning"]["refusal_scale"] = [0.4, -2.0]
    assert "dev set (after a Platt rescaling of P(refusal) fitted there)." in model_card(meta, metrics)
