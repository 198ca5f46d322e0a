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


CUE_CASES = {
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


def test_cue_patterns_fire_on_their_phrases():
    parsed = parse(*CUE_CASES)
    for p, cue in zip(parsed, CUE_CASES.values()):
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


TEXTS = [
    "Hi Dana,\n\nThanks for the deck. We're happy with our current supplier and don't see a reason to meet. "
    "Mr. Smith said it's fine. U.S.-based teams only!! See www.example.com or mail a.b@example.org.",
    "honestly?? we've been burned before... last time you people cut corners. not again. (e.g. the 2019 deal)",
    "Can we do Tuesday 3:30 pm? I'll bring Priya from legal; she's the one who signs off.",
    "Our board decides, not me. I'd rather not get into numbers until they've met on the 14th.",
    "¿Qué tal? Sorry — swamped. Let's revisit in Q3. Cheers, Jo",
]


def test_fast_transform_gives_the_union_matrix_exactly():
    from negclass.features import _NGRAM_TABLES, EXPAND_FROM, transform_features

    parsed = parse(*(TEXTS * EXPAND_FROM)[:EXPAND_FROM])
    for chars in (True, False):
        union = build_features(use_chars=chars).fit(parsed[: len(TEXTS) * 3])
        slow = union.transform(parsed)
        fast = transform_features(union, parsed)
        assert union.transformer_list[0][1].steps[1][1] in _NGRAM_TABLES  # the array path was taken
        assert slow.shape == fast.shape and slow.nnz == fast.nnz
        assert (slow != fast).nnz == 0
        assert (slow.indices == fast.indices).all() and (slow.indptr == fast.indptr).all()


def test_sentence_starts_follow_spacys_sentencizer():
    """Names are masked except at a sentence start; the start rule is the Sentencizer's."""
    import spacy

    from negclass.features import _feature_token

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    texts = TEXTS + ["Fine. Maria agrees. ... Bob? No!! Carol: yes.", "'Quoted.' Then Dan left", ". Eve starts"]
    for text, p in zip(texts, parse(*texts)):
        doc = nlp(text)
        # the lemma of a word is the lookup of its lower case
        expected = [_feature_token(tok, table.get(tok.lower_, tok.lower_), tok.is_sent_start) for tok in doc]
        expected = [t for t in expected if t is not None]
        assert p.lemmas == expected


def test_large_batches_find_the_same_cues_with_expanded_matchers():
    """Big batches match word-set patterns with a PhraseMatcher; the cues must not change."""
    from negclass.features import EXPAND_FROM

    texts = TEXTS + list(CUE_CASES) + [
        "We were perfectly happy with how things are. I'd rather not meet. They burned us last year.",
        "we'll probably just lose anyway. I would rather avoid meetings. Prices are fixed, sorry.",
        "Can't say yes, not really my call, I'll need to run it past the board. Send us your best offer.",
        "I have got a lot on right now; not quite ready. Let's hold off until May 3 at 10 am.",
        "THE PRICE IS FIRM. We Are Quite Happy As We Are. We Have Several Other Quotes.",
    ]
    batch = (texts * (EXPAND_FROM // len(texts) + 1))[:EXPAND_FROM]
    one_by_one = [parse(t)[0] for t in texts]
    together = parse(*batch)[: len(texts)]
    assert sum(len(p.cues) for p in one_by_one) > 30
    for a, b in zip(one_by_one, together):
        assert (a.lemmas, a.spans, a.cues) == (b.lemmas, b.spans, b.cues)


def test_lemma_sets_expand_to_the_forms_that_look_up_to_them():
    import spacy

    from negclass.features import _as_word_sequences, _lemma_forms

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    forms = _lemma_forms(table)
    assert forms is not None
    seqs = _as_word_sequences([{"LEMMA": "be"}, {"LOWER": {"IN": ["very", "Quite"]}, "OP": "?"}, {"LOWER": "happy"}],
                              forms)
    words = {tuple(s) for s in seqs}
    assert ("is", "very", "happy") in words and ("was", "happy") in words
    assert not any("Quite" in s or "quite" in s for s in words)  # a capitalised value never matches a lower case
    assert all(table.get(s[0], s[0]) == "be" for s in words)
    assert _as_word_sequences([{"LEMMA": "go"}, {"OP": "?"}, {"LOWER": "away"}], forms) is None  # wildcard


def test_pipeline_is_renewed_when_its_vocabulary_grows_and_results_stay(monkeypatch):
    from negclass import features

    parser = LinguisticParser().fit(None)
    before = parser.transform(TEXTS)
    first = features._nlp_and_matchers(parser.patterns_)[0]
    monkeypatch.setattr(features, "VOCAB_LIMIT", len(first.vocab) - 1)
    after = parser.transform(TEXTS)
    assert features._nlp_and_matchers(parser.patterns_)[0] is not first
    assert [(p.lemmas, p.spans, p.cues) for p in before] == [(p.lemmas, p.spans, p.cues) for p in after]


def test_short_texts_get_a_length_bin():
    from negclass.features import Parsed, length_feature, select_cues

    assert length_feature(1) == "len=1-3" and length_feature(6) == "len=4-8" and length_feature(50) is None
    rows = select_cues([Parsed("now", lemmas=["now"]), Parsed("x", lemmas=["word"] * 40)])
    assert rows[0]["len=1-3"] == 1.0 and not any(k.startswith("len=") for k in rows[1])
