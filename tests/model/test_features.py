import numpy as np
import pytest

from negclass.model.features import NAME_TOKEN, NUM_TOKEN, LinguisticParser, build_features


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


@pytest.mark.parametrize("n", [1, 7, 300])
def test_lemma_ngrams_give_the_tfidf_vectorizer_matrix_exactly(n):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from negclass.model.features import LemmaNgrams, select_lemmas, split_on_space

    train = select_lemmas(parse(*TEXTS * 3))
    docs = select_lemmas(parse(*(TEXTS * n)[:n])) + ["", "unseen words only here"]
    settings = dict(ngram_range=(1, 3), min_df=2, max_features=50, sublinear_tf=True, dtype=np.float32)
    ours = LemmaNgrams(**settings).fit(train)
    theirs = TfidfVectorizer(tokenizer=split_on_space, token_pattern=None, lowercase=False, **settings).fit(train)
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    a, b = ours.transform(docs), theirs.transform(docs)
    assert a.shape == b.shape and a.nnz == b.nnz and a.dtype == b.dtype
    assert (a != b).nnz == 0
    assert (a.indices == b.indices).all() and (a.indptr == b.indptr).all()
    assert (ours.fit_transform(train) != theirs.fit_transform(train)).nnz == 0


def test_sentence_starts_follow_spacys_sentencizer():
    """Names are masked except at a sentence start; the start rule is the Sentencizer's."""
    import spacy

    from negclass.model.features import _feature_token

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


def test_word_set_patterns_in_a_phrase_matcher_find_what_the_matcher_finds():
    """Token patterns made of word sets are matched as word sequences; the cues must not change."""
    import yaml

    from negclass.model.features import _flagged_matcher

    texts = TEXTS + list(CUE_CASES) + [
        "We were perfectly happy with how things are. I'd rather not meet. They burned us last year.",
        "we'll probably just lose anyway. I would rather avoid meetings. Prices are fixed, sorry.",
        "Can't say yes, not really my call, I'll need to run it past the board. Send us your best offer.",
        "I have got a lot on right now; not quite ready. Let's hold off until May 3 at 10 am.",
        "THE PRICE IS FIRM. We Are Quite Happy As We Are. We Have Several Other Quotes.",
    ]
    parser = LinguisticParser().fit(None)
    fast = parser.transform(texts)
    rt = parser._runtime()
    patterns = {name: spec["patterns"] for name, spec in yaml.safe_load(parser.patterns_).items()
                if spec.get("patterns")}
    rt.matchers = [rt.matchers[0], _flagged_matcher(rt.nlp, rt.table, patterns, rt.flags)]  # every pattern in the Matcher
    plain = parser.transform(texts)
    assert sum(len(p.cues) for p in plain) > 30
    for a, b in zip(fast, plain):
        assert (a.lemmas, a.spans, a.cues) == (b.lemmas, b.spans, b.cues)


def test_results_do_not_depend_on_the_batch():
    parser = LinguisticParser().fit(None)
    together = parser.transform(TEXTS * 50)[: len(TEXTS)]
    for text, p in zip(TEXTS, together):
        q = LinguisticParser().fit(None).transform([text])[0]
        assert (p.lemmas, p.spans, p.cues) == (q.lemmas, q.spans, q.cues)


def test_a_saved_parser_leaves_its_spacy_pipeline_behind():
    import pickle

    parser = LinguisticParser().fit(None)
    before = parser.transform(TEXTS)
    copy = pickle.loads(pickle.dumps(parser))
    assert "_rt" in parser.__dict__ and "_rt" not in copy.__dict__
    assert [(p.lemmas, p.cues) for p in copy.transform(TEXTS)] == [(p.lemmas, p.cues) for p in before]


def test_lemma_sets_expand_to_the_forms_that_look_up_to_them():
    import spacy

    from negclass.model.features import _as_word_sequences, _lemma_forms

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
    from negclass.model import features

    parser = LinguisticParser().fit(None)
    before = parser.transform(TEXTS)
    first = parser._runtime().nlp
    monkeypatch.setattr(features, "VOCAB_LIMIT", len(first.vocab) - 1)
    after = parser.transform(TEXTS)
    assert parser._runtime().nlp is not first
    assert [(p.lemmas, p.spans, p.cues) for p in before] == [(p.lemmas, p.spans, p.cues) for p in after]


def test_short_texts_get_a_length_bin():
    from negclass.model.features import Parsed, length_feature, select_cues

    assert length_feature(1) == "len=1-3" and length_feature(6) == "len=4-8" and length_feature(50) is None
    rows = select_cues([Parsed("now", lemmas=["now"]), Parsed("x", lemmas=["word"] * 40)])
    assert rows[0]["len=1-3"] == 1.0 and not any(k.startswith("len=") for k in rows[1])


# -- scikit-learn conventions -------------------------------------------------------------------
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from negclass.model.features import LemmaNgrams, select_lemmas  # noqa: E402

from ..conftest import check_text_estimator  # noqa: E402


@parametrize_with_checks([LinguisticParser(), LemmaNgrams()])
def test_sklearn_checks(estimator, check):
    # both read texts, not 2-D arrays: scikit-learn runs its cloning check and skips the rest
    # (with a SkipTestWarning); test_text_estimator_conventions covers them on texts
    check(estimator)


def test_text_estimator_conventions():
    check_text_estimator(LinguisticParser(), TEXTS)
    check_text_estimator(LemmaNgrams(ngram_range=(1, 2)), select_lemmas(parse(*TEXTS)))
