"""The model card written beside every model: data, figures against baselines, limits."""
from __future__ import annotations


def _f(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def _comparison(name: str, block: dict) -> list[str]:
    rows = [f"### {name} ({block['model']['n']} examples)", "",
            "| | macro-F1 | accuracy | refusal recall | false alarms | signal acc. | ECE |",
            "|---|---|---|---|---|---|---|"]
    for label, key in (("negclass", "model"), ("majority class", "majority"), ("keyword rules", "keyword_rules")):
        m = block[key]
        rows.append(f"| {label} | {_f(m['macro_f1'])} | {_f(m['accuracy'])} | {_f(m['refusal_recall'])} | "
                    f"{_f(m['false_alarm_rate'])} | {_f(m.get('signal_accuracy'))} | {_f(m.get('ece'))} |")
    m = block["model"]
    rows += ["", "Per class (negclass): " + ", ".join(
        f"{k} F1 {v['f1']:.2f} (n={v['support']})" for k, v in sorted(m["per_class"].items())), ""]
    if m.get("reason_accuracy_on_detected") is not None:
        rows += [f"Reason accuracy on the refusals it found: {_f(m['reason_accuracy_on_detected'])}; "
                 f"calibration error of P(refusal): {_f(m.get('refusal_ece'))}.", ""]
    return rows


def reliability_chart(curve: list[dict], width: int = 40) -> list[str]:
    """The reliability curve of P(refusal) as a text chart: per bin, the mean predicted
    probability (``|``) and the observed share of refusals (``#`` bar)."""
    lines = ["```", f"{'P(refusal) bin':16}{'n':>6}  predicted | observed #", ""]
    for b in curve:
        bar = "#" * round(b["observed"] * width)
        mark = round(b["mean_predicted"] * width)
        row = list(bar.ljust(width + 1))
        row[min(mark, width)] = "|"
        lines.append(f"{b['lo']:.1f}-{b['hi']:.1f}{'':8}{b['n']:>6}  {''.join(row)}  "
                     f"{b['mean_predicted']:.2f} vs {b['observed']:.2f}")
    lines += ["```", ""]
    return lines


def _threshold_origin(meta: dict, tuning: dict | None) -> str:
    """How the refusal threshold was chosen, when it was chosen on real mail."""
    if not tuning or not str(tuning.get("note", "")).startswith("lowest"):
        return ""
    rescaled = " (after a Platt rescaling of P(refusal) fitted there)" if tuning.get("refusal_scale") else ""
    return (f", the lowest threshold that flags at most {meta['config']['tune_false_alarm']:.0%} of the "
            f"{tuning['examples'] - tuning['refusals']} real non-refusals of the real dev set{rescaled}")


def model_card(meta: dict, metrics: dict) -> str:
    d = meta["data"]
    tuning = metrics.get("tuning")
    lines = [
        f"# Model card: negclass `{meta['name']}`", "",
        f"Created {meta['created']} with negclass {meta['versions']['negclass']}, "
        f"scikit-learn {meta['versions']['scikit-learn']}, spaCy {meta['versions']['spacy']}, "
        f"NumPy {meta['versions']['numpy']}, pandas {meta['versions']['pandas']}.", "",
        "## Intended use",
        "Reads what a counterparty wrote (email, chat, meeting or call notes) and suggests why they",
        "are not negotiating: `too_strong`, `too_weak`, `emotions_high`, or `none` when the text is not",
        "a refusal. A prompt for a negotiator's judgement, not a verdict about a person.", "",
        "## Model",
        f"spaCy `blank('en')` with the lookup lemmatizer and rule cues, lemma 1-3-grams"
        f"{', character 2-5-grams' if meta['selected']['use_chars'] else ''} and cue counts, then "
        f"a linear model ({meta['selected']['linear']}, C={meta['selected']['C']}, signals `{meta['selected']['signal_mode']}`), "
        f"probabilities calibrated ({meta['config']['calibration']}).",
        *([f"A stance-content gate (lemma 1-2-grams, logistic regression) trained on "
           f"{meta['gate']['rows']} rows, {meta['gate']['no_stance_content']} of them real mail with no stance "
           f"content (automatic notices, jokes and chain letters, news and newsletters, personal mail), "
           f"multiplies P(refusal) by (1 − P(no stance content))^{meta['gate']['power']:g}."]
          if meta.get("gate") else []),
        f"A text counts as a refusal when 1 − P(none) ≥ {meta['refusal_threshold']:.3f}{_threshold_origin(meta, tuning)}. "
        f"A result is flagged low-confidence when its probability is below "
        f"{meta['low_confidence']['min_confidence']:.2f} or its lead over the runner-up is below "
        f"{meta['low_confidence']['min_margin']:.2f} (chosen on cross-validation so that confident "
        f"predictions are at least {meta['config']['low_confidence_accuracy']:.0%} accurate).", "",
        "## Data",
        f"Files: {', '.join(d['files'])} (fingerprint `{d['fingerprint'][:16]}`).",
        f"Training: {d['train']['examples']} examples {d['train']['reason']}.",
        f"Held out (never trained on): {d['heldout']['examples']} examples {d['heldout']['reason']}.", "",
        "## Results", "",
        f"Cross-validation on the training part ({metrics['cross_validation']['n']} examples): macro-F1 "
        f"{_f(metrics['cross_validation']['macro_f1'])}, signal accuracy given the true reason "
        f"{_f(metrics['cross_validation']['signal_accuracy'])}.", "",
    ]
    names = {"heldout": "Held-out split of data/", "devset": "Dev set written by other people",
             "real-devset": "Real emails labelled by two annotators (shared)",
             "real_dev": "Real dev set (data/real-dev.jsonl; the refusal threshold chosen here)",
             "real-test": "Real test set (data/real-test.jsonl; frozen, never trained on or tuned on)"}
    order = [k for k in names if k in metrics] + sorted(k for k in metrics if k not in names)
    for key in order:  # a fixed order, so the card is the same when rebuilt from the saved JSON
        block = metrics[key]
        if isinstance(block, dict) and "model" in block:
            lines += _comparison(names.get(key, key), block)
    test = metrics.get("real-test", {}).get("model")
    if test and test.get("refusal_reliability"):
        lines += ["## Reliability of P(refusal) on the real test set", "",
                  "Each row is a bin of messages by predicted P(refusal): `|` marks the mean prediction, "
                  "the `#` bar the share that annotators labelled a refusal. A calibrated model puts "
                  "the `|` at the end of the bar.", ""]
        lines += reliability_chart(test["refusal_reliability"])
    audit = metrics.get("reserve_audit")
    if audit:
        lines += ["## Precision at the top of unlabelled real mail", "",
                  f"The {audit['n']} messages the model ranks highest in the reserve ({audit['reserve']} real "
                  "messages never labelled or trained on), read by two annotators who saw only the guideline "
                  f"and the text: **{audit['both']} of {audit['n']}** are refusals or stalls by both readers, "
                  f"{audit['either']} by at least one. Verdicts: `{audit['file']}`.", ""]
        if audit.get("flagged") is not None and audit.get("reserve"):
            lines += [f"The model flags {audit['flagged']} of the {audit['reserve']} reserved messages "
                      f"({audit['flagged'] / audit['reserve']:.2%}); "
                      "real refusals are about 1 in 1,400 messages of this mail.", ""]
    lines += ["## Model selection (cross-validation)", ""]
    search = meta.get("search")
    if search and search["folds"] != meta["config"]["cv_folds"]:
        lines += [f"A large training set: the search used {search['folds']} folds"
                  + ("" if True in search["use_chars"] else " and left out character n-grams") + ".", ""]
    lines += ["| model | C | signals | chars | macro-F1 | signal acc. given the true reason |",
              "|---|---|---|---|---|---|"]
    for s in metrics["selection"]:
        lines.append(f"| {s['linear']} | {s['C']} | {s['signal_mode']} | {s['use_chars']} | {_f(s['cv_macro_f1'])} | "
                     f"{_f(s['cv_signal_accuracy'])} |")
    lines += ["", "## Limits",
              "- English only; trained on written examples, real business emails of one company (2000-2002) read by two annotators, and minimal pairs edited from them.",
              "- Real mail is ambiguous: people disagree on refusal versus tough-but-engaged, and so does the model.",
              "- Sees one message at a time, without the thread's history or who the parties are.",
              "- Low-confidence results should be read, not acted on automatically.", ""]
    return "\n".join(lines)
