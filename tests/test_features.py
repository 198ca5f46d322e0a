import numpy as np

from negclass.features import NAME_TOKEN, NUM_TOKEN, LinguisticParser, build_features


def parse(*texts):
    return LinguisticParser().fit(None).transform(list(texts))


def test_lemmas_are_lower_case_lookup_lemmas_with_names_and_numbers_masked():
    (p,) = parse("Prices were dropping to $4.50 and Maria's boards approved nothing. Meetings bore us.")
    assert "price" in p.lemmas and "board" in p.lemmas and "approve" in p.lemmas and "meeting" in p.lemmas
    assert NUM_TOKEN in p.lemmas and NAME_TOKEN in p.lemmas
    assert "maria" not in p.lemmas
    for lemma, (a, b) in zip(p.lemmas, p.spans):
        assert p.text[a:b]  # every lemma points back to real characters


def test_cue_patterns_fire_on_their_phrases():
    cases = {
        "We have three other offers on the table.": "alternatives",
        "Let's park this until after the new year.": "defer",
        "I'll need to run it by my director first.": "authority",
        "After what happened last time we are not keen.": "past_conflict",
        "We're swamped right now, honestly.": "overload",
        "The price is non-negotiable.": "price_firm",
        "Whatever you think is fair, I'd rather not meet.": "discomfort",
        "Happy to meet on Tuesday at 3 pm.": "engage",
        "We don't stand a chance against your lawyers.": "lose_expectation",
    }
    parsed = parse(*cases)
    for p, cue in zip(parsed, cases.values()):
        names = {c[0] for c in p.cues}
        assert cue in names, (p.text, names)


def test_cue_spans_are_character_offsets():
    (p,) = parse("Fine. We'll hold off until March.")
    spans = [(p.text[a:b], name) for name, a, b in p.cues]
    assert ("hold off", "defer") in spans


def test_feature_union_is_deterministic_and_sparse():
    texts = ["We are happy with our supplier."] * 3 + ["Can we meet Tuesday?"] * 3 + ["not now, swamped"] * 3
    a = build_features().fit_transform(parse(*texts))
    b = build_features().fit_transform(parse(*texts))
    assert a.shape == b.shape and a.shape[0] == 9
    assert np.allclose(a.toarray(), b.toarray())
