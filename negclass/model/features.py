"""Featurise cleaned text: spaCy lemmas and rule cues, then scikit-learn vectorisers.

``LinguisticParser`` runs ``spacy.blank("en")`` with the lookup lemmatizer over batches
(``nlp.pipe``) and matches the cue patterns of ``cues.yaml`` with a ``PhraseMatcher`` and a
``Matcher``. ``build_features`` joins three views of each parsed text in one
``FeatureUnion``: lemma n-grams, character n-grams and cue counts.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer
from sklearn.utils.validation import check_is_fitted

CUE_PREFIX = "cue="
NUM_TOKEN = "<num>"
NAME_TOKEN = "<name>"
_DIGITS = re.compile(r"\d")
TOKENIZER_CACHE_SIZE = 100_000


@dataclass
class Parsed:
    """One text after spaCy: lemma tokens with their character spans, and cue matches."""

    text: str
    lemmas: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # char span of each lemma token
    cues: list[tuple[str, int, int]] = field(default_factory=list)  # (cue, start_char, end_char)

    @property
    def lemma_text(self) -> str:
        return " ".join(self.lemmas)

    def cue_counts(self) -> dict[str, float]:
        counts: dict[str, float] = {}
        for name, _, _ in self.cues:
            counts[CUE_PREFIX + name] = counts.get(CUE_PREFIX + name, 0.0) + 1.0
        return counts


@lru_cache(maxsize=None)
def load_cue_patterns() -> dict:
    """The cue patterns shipped in ``cues.yaml``."""
    text = resources.files("negclass").joinpath("data/cues.yaml").read_text("utf-8")
    return yaml.safe_load(text)["cues"]


@dataclass
class _Runtime:
    """What a fitted ``LinguisticParser`` builds from its patterns on first use and keeps, never
    pickled: the spaCy pipeline, the cue matchers, and what it has learnt about each word form."""

    key: tuple       # (patterns, mask_names) it was built for
    nlp: object
    table: object    # the lookup lemmatizer's table
    matchers: list   # PhraseMatcher of the cue phrases, PhraseMatcher of word-set patterns, Matcher of the rest
    flags: dict      # (attr, set of values) -> lexeme flag bit (see ``_flag_sets``)
    words: dict = field(default_factory=dict)  # word form (orth id) -> ``_Word``


def _build_runtime(patterns_key: str, mask_names: bool) -> _Runtime:
    """The spaCy pipeline and the cue matchers for ``patterns_key`` (``cues.yaml`` as saved).

    Cue phrases go to a ``PhraseMatcher``. Token patterns that are only word sets (see
    ``_as_word_sequences``) become word sequences in a second ``PhraseMatcher``, leaving the
    ``Matcher`` only the few patterns with wildcards or other attributes, their sets turned into
    lexeme flags (``_flag_sets``): the Matcher's cost grows with its number of patterns at every
    token, a PhraseMatcher's hardly at all. Every pattern is also checked by a plain ``Matcher``.
    """
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

    nlp = spacy.blank("en")
    # the tokenizer caches the tokens of each whitespace-separated chunk, but by default stops
    # adding to the cache after 10,000 chunks, which mail passes within a few thousand messages
    nlp.tokenizer.max_cache_size = TOKENIZER_CACHE_SIZE
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    cues = yaml.safe_load(patterns_key)
    phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
    checker = Matcher(nlp.vocab)  # validates the patterns as written
    forms = _lemma_forms(table)
    sequences = PhraseMatcher(nlp.vocab, attr="LOWER")
    kept: dict[str, list] = {}
    for name, spec in cues.items():
        if spec.get("phrases"):
            phrase.add(name, list(nlp.tokenizer.pipe(spec["phrases"])))
        if spec.get("patterns"):
            checker.add(name, spec["patterns"])
        for pat in spec.get("patterns") or []:
            words = _as_word_sequences(pat, forms)
            if words is None:
                kept.setdefault(name, []).append(pat)
            elif words:
                sequences.add(name, [Doc(nlp.vocab, words=w) for w in words])
    flags: dict = {}
    matcher = _flagged_matcher(nlp, table, kept, flags)
    return _Runtime((patterns_key, mask_names), nlp, table, [phrase, sequences, matcher], flags)


def _flagged_matcher(nlp, table, patterns: dict, flags: dict):
    from spacy.matcher import Matcher

    # flags go first to the sets of a pattern's first token, which the Matcher tests at every
    # token; later sets are only tested once the tokens before them have matched
    everything = [pat for pats in patterns.values() for pat in pats]
    for position in range(max((len(p) for p in everything), default=0)):
        for pat in everything:
            _flag_sets(pat[position:position + 1], nlp.vocab, table, flags)
    matcher = Matcher(nlp.vocab, validate=False)
    for name, pats in patterns.items():
        matcher.add(name, [_flag_sets(pat, nlp.vocab, table, flags) for pat in pats])
    return matcher


MAX_SEQUENCES = 20_000  # a pattern with more word sequences than this stays in the Matcher


@dataclass(frozen=True)
class _LemmaForms:
    """The lookup table turned around: lemma -> lower-case forms that look up to it."""

    forms: dict      # lemma -> set of forms
    keys: frozenset  # every lower-case form the table has (any other word is its own lemma)

    def of(self, lemma: str) -> set[str]:
        """The lower-case words whose lemma is ``lemma``."""
        own = {lemma} if lemma == lemma.lower() and lemma not in self.keys else set()
        return self.forms.get(lemma, set()) | own


def _lemma_forms(table) -> _LemmaForms | None:
    """The forms of every lemma, read from the same lookup data as ``table``; None when that data
    cannot be read or does not agree with ``table``."""
    import gzip
    import json

    from spacy.util import registry

    try:
        path = Path(registry.lookups.get("en")["lemma_lookup"])
        if not path.exists():
            path = path.with_suffix(".json.gz")
        with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")) as fh:
            data = json.load(fh)
    except Exception:
        return None
    if len(data) != len(table) or any(table.get(k) != v for k, v in data.items()):
        return None
    forms: dict[str, set[str]] = {}
    for form, lemma in data.items():
        if form == form.lower():  # a token's lower case is what is looked up
            forms.setdefault(lemma, set()).add(form)
    return _LemmaForms(forms, frozenset(k for k in data if k == k.lower()))


def _as_word_sequences(pattern: list, forms: _LemmaForms | None) -> list[list[str]] | None:
    """The lower-case word sequences a token pattern matches, when it can be written so.

    A pattern made only of ``LOWER``/``LEMMA`` values or ``IN`` sets, each optionally ``OP: "?"``,
    matches exactly the token sequences whose lower cases are one of these word sequences (a
    lemma is the lookup of the lower case, so ``LEMMA`` sets become the forms that look up to
    them). Such patterns go to the ``PhraseMatcher``, which is many times cheaper than the
    ``Matcher``; anything else (wildcards, other attributes) returns None.
    """
    import itertools

    choices = []
    for spec in pattern:
        op = spec.get("OP")
        attrs = {k: v for k, v in spec.items() if k != "OP"}
        if op not in (None, "?") or len(attrs) != 1:
            return None
        (attr, value), = attrs.items()
        values = value.get("IN") if isinstance(value, dict) and set(value) == {"IN"} else (
            [value] if isinstance(value, str) else None)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        if attr == "LOWER":
            words = {v for v in values if v == v.lower()}  # a token's lower case has no capitals
        elif attr == "LEMMA" and forms is not None:
            words = set().union(*(forms.of(v) for v in values))
        else:
            return None
        choices.append(sorted(words) + ([None] if op == "?" else []))
    if math.prod(len(c) for c in choices) > MAX_SEQUENCES:
        return None
    sequences = []
    for combo in itertools.product(*choices):
        words = [w for w in combo if w is not None]
        if words:
            sequences.append(words)
    return sequences


def _free_flag(vocab) -> int | None:
    """A spare lexeme flag bit (spaCy names them FLAG19 to FLAG63) not taken yet, or None."""
    from spacy.attrs import IDS

    spare = {v for k, v in IDS.items() if k.startswith("FLAG") and 0 < v < 64}  # FLAG19 ... FLAG63
    return next((bit for bit in sorted(spare) if bit not in vocab.lex_attr_getters), None)


def _flag_sets(pattern: list, vocab, table, flags: dict) -> list:
    """A token pattern with its ``{LOWER|LEMMA|SHAPE: {IN: [...]}}`` sets turned into lexeme flags.

    The Matcher calls back into Python for every ``IN`` set on every token, which made it the
    slowest step of featurisation; a flag is checked in compiled code. The flag holds exactly when
    the set test would: ``LOWER`` is the lexeme's lower case, and the lemma is the lookup of the
    lower case (``parse`` sets it so for every token), and the shape is the vocabulary's function
    of the text, so all three depend on the lexeme alone. When no flag is left (64 bits per
    lexeme) the set stays as it is.
    """
    from spacy.attrs import SHAPE
    from spacy.lang.lex_attrs import word_shape as default_shape

    word_shape = vocab.lex_attr_getters.get(SHAPE, default_shape)
    out = []
    for spec in pattern:
        new = {}
        for attr, value in spec.items():
            kind = attr.upper() if isinstance(attr, str) else None
            values = value.get("IN") if isinstance(value, dict) and set(value) == {"IN"} else None
            if kind in {"LOWER", "LEMMA", "SHAPE"} and isinstance(values, list) and values \
                    and all(isinstance(v, str) for v in values):
                key = (kind, frozenset(values))
                if key not in flags:
                    wanted = key[1]
                    if kind == "LOWER":
                        def test(s, wanted=wanted):
                            return s.lower() in wanted
                    elif kind == "SHAPE":
                        def test(s, wanted=wanted):
                            return word_shape(s) in wanted
                    else:
                        def test(s, wanted=wanted):
                            low = s.lower()
                            return table.get(low, low) in wanted
                    flags[key] = _free_flag(vocab)
                    if flags[key] is not None:
                        vocab.add_flag(test, flags[key])
                if flags[key] is not None:
                    new[flags[key]] = True
                    continue
            new[attr] = value
        out.append(new)
    return out


_TOKEN_CACHE_SIZE = 200_000
VOCAB_LIMIT = 250_000  # lexemes; past this a parser builds its spaCy pipeline afresh (see ``_runtime``)


_SYMBOLS = re.compile(r"[@/\\_=<>|]")


def _feature_token(lex, lemma: str, sent_start: bool, mask_names: bool = True) -> str | None:
    """The feature token for one word (a spaCy lexeme, its lemma, whether it starts a sentence).

    Names, numbers, addresses and system strings are masked: who and what a message is about
    says nothing about the stance, and unmasked they let the model learn one sender's habits.
    """
    if lex.is_space or lex.is_punct:
        return None
    if lex.like_num or _DIGITS.search(lex.text):
        return NUM_TOKEN
    if lex.like_email:
        return "<email>"
    if lex.like_url:
        return "<url>"
    if mask_names and lex.is_title and not sent_start and lex.text != "I":
        return NAME_TOKEN
    if _SYMBOLS.search(lex.text):
        return "<sym>"
    lemma = lemma.lower()
    return "not" if lemma in {"n't", "nt"} else lemma


@dataclass(frozen=True)
class _Word:
    """What parsing needs of one word form, computed once per form (see ``LinguisticParser.parse``)."""

    inside: str | None      # feature token inside a sentence
    first: str | None       # feature token at a sentence start
    lemma: int              # lemma's string id
    plain: bool             # neither punctuation nor a sentence-ending character
    ends: bool              # a sentence-ending character (the Sentencizer's punct_chars)


class LinguisticParser(TransformerMixin, BaseEstimator):
    """Texts -> ``Parsed`` objects (lemmas, spans, cue matches), batched through ``nlp.pipe``.

    The cue patterns are copied into the fitted estimator (``patterns_``), so a saved model
    keeps the rules it was trained with even if ``cues.yaml`` changes later.
    """

    def __init__(self, batch_size: int = 256, max_chars: int = 5000, mask_names: bool = True):
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.mask_names = mask_names

    def fit(self, X, y=None):
        self.patterns_ = yaml.safe_dump(load_cue_patterns(), sort_keys=True)
        return self

    def transform(self, X) -> list[Parsed]:
        return list(self.parse(X))

    def _runtime(self) -> _Runtime:
        """The spaCy pipeline and matchers of this parser, built on first use.

        spaCy keeps a lexeme and a string for every word form it has seen, without a cap, so a
        process scoring an endless stream of mail would grow; about 120,000 lexemes come from
        24,000 messages. Past ``VOCAB_LIMIT`` lexemes everything is built afresh (under a second,
        every hundred thousand messages or so), which keeps memory bounded; results do not change,
        since everything is recomputed from the same patterns and lookup data."""
        check_is_fitted(self, "patterns_")
        key = (self.patterns_, self.mask_names)
        rt = self.__dict__.get("_rt")
        if rt is None or rt.key != key or len(rt.nlp.vocab) > VOCAB_LIMIT:
            rt = self._rt = _build_runtime(*key)
        return rt

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the running parser keeps its pipeline
        state.pop("_rt", None)  # rebuilt on first use after loading
        return state

    def parse(self, texts):
        from spacy.attrs import IDX, LEMMA, LENGTH, ORTH

        rt = self._runtime()
        nlp, table, matchers = rt.nlp, rt.table, rt.matchers
        texts = [t[: self.max_chars] for t in texts]
        # Everything parsing needs of a token but its sentence start depends on its word form alone
        # (the lemma is the lookup of the lower case), so it is computed once per form; the
        # lemmatizer and sentencizer components, which loop over tokens in Python, are replaced by
        # that cache plus the sentencizer's own rule below, and lemmas are set in one array call.
        words = rt.words
        ends_sentence = nlp.get_pipe("sentencizer").punct_chars
        vocab = nlp.vocab
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=self.batch_size, disable=["lemmatizer", "sentencizer"])):
            parsed = Parsed(text=text)
            orths = doc.to_array(ORTH).tolist()
            entries = []
            for orth in orths:
                try:
                    entries.append(words[orth])
                except KeyError:
                    if len(words) >= _TOKEN_CACHE_SIZE:  # keep memory flat on endless input
                        words.clear()
                    words[orth] = word = self._word(vocab[orth], table, ends_sentence)
                    entries.append(word)
            if not entries:
                yield parsed
                continue
            doc.from_array([LEMMA], np.array([w.lemma for w in entries], dtype=np.uint64).reshape(-1, 1))
            places = doc.to_array([IDX, LENGTH]).tolist()
            # spaCy's Sentencizer rule: after a sentence-ending character, the next token that is
            # neither punctuation nor such a character starts a sentence; so does the first token
            after_end = False
            for i, (word, (idx, length)) in enumerate(zip(entries, places)):
                if after_end and word.plain:
                    token, after_end = word.first, False
                else:
                    token = word.first if i == 0 else word.inside
                    after_end = after_end or word.ends
                if token is not None:
                    parsed.lemmas.append(token)
                    parsed.spans.append((idx, idx + length))
            seen = set()
            for match_id, start, end in [m for match in matchers for m in match(doc)]:
                last_idx, last_len = places[end - 1]
                key = (vocab.strings[match_id], places[start][0], last_idx + last_len)
                if key not in seen:
                    seen.add(key)
                    parsed.cues.append(key)
            parsed.cues.sort(key=lambda c: (c[1], c[2], c[0]))
            yield parsed

    def _word(self, lex, table, ends_sentence) -> _Word:
        low = lex.lower_
        lemma = table.get(low, low)
        return _Word(inside=_feature_token(lex, lemma, False, self.mask_names),
                     first=_feature_token(lex, lemma, True, self.mask_names),
                     lemma=lex.vocab.strings.add(lemma),
                     plain=not lex.is_punct and lex.text not in ends_sentence,
                     ends=lex.text in ends_sentence)

    def get_feature_names_out(self, input_features=None):
        return np.array(["parsed"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False  # a list of texts
        return tags


# Selectors and helpers live at module level so that saved pipelines can be loaded again.
def select_lemmas(parsed: list[Parsed]) -> list[str]:
    return [p.lemma_text for p in parsed]


def select_chars(parsed: list[Parsed]) -> list[str]:
    """Character n-grams read the masked lemma stream, not the raw text: they catch spelling
    variants and word pieces without learning layout, names or a sender's typing habits."""
    return [p.lemma_text for p in parsed]


DEAL_CONTEXT = "deal_context"   # the cue (cues.yaml) that puts a deal, terms or a counterparty on the table
NO_DEAL = "no_deal_context"
NO_DEAL_SUFFIX = "|no_deal"
LENGTH_BINS = ((3, "len=1-3"), (8, "len=4-8"), (20, "len=9-20"))  # words; longer texts get no length feature


def length_feature(n_words: int) -> str | None:
    """The length bin of a short text: real mail's one-liners are almost never refusals, and
    the model can only learn that if it sees how short a text is."""
    return next((name for top, name in LENGTH_BINS if n_words <= top), None)


def word_count(p: Parsed) -> int:
    """Words of a parsed text (tokens with a letter or digit)."""
    return sum(1 for lemma in p.lemmas if any(c.isalnum() for c in lemma))


def select_cues(parsed: list[Parsed]) -> list[dict[str, float]]:
    out = []
    for p in parsed:
        counts = p.cue_counts()
        name = length_feature(word_count(p))
        if name:
            counts[name] = 1.0
        if CUE_PREFIX + DEAL_CONTEXT not in counts:
            # the same words weigh differently with no deal on the table ("I'm overwhelmed" to a
            # friend): each cue also counts under its no-deal name, and the absence itself is a feature
            for key in [k for k in counts if k.startswith(CUE_PREFIX)]:
                counts[key + NO_DEAL_SUFFIX] = counts[key]
            counts[NO_DEAL] = 1.0
        out.append(counts)
    return out


def selected_text(transformer, input_features) -> list[str]:
    """The column name of a selector's output (one text per parse), for ``get_feature_names_out``."""
    return ["text"]


def selected_cues(transformer, input_features) -> list[str]:
    return ["cue_counts"]


def split_on_space(text: str) -> list[str]:
    return text.split(" ") if text else []


def log1p_sparse(X):
    X = X.copy().astype(np.float64)
    X.data = np.log1p(X.data)
    return X


def build_features(word_max_features: int = 30000, char_max_features: int = 30000,
                   use_chars: bool = True, cue_weight: float = 1.0) -> FeatureUnion:
    """Lemma 1-3-grams, character 2-5-grams and cue counts, side by side."""
    parts = [
        ("lemmas", Pipeline([
            ("select", FunctionTransformer(select_lemmas, feature_names_out=selected_text)),
            ("tfidf", LemmaNgrams(ngram_range=(1, 3), min_df=2, max_features=word_max_features,
                                  sublinear_tf=True, dtype=np.float32)),
        ])),
        ("cues", Pipeline([
            ("select", FunctionTransformer(select_cues, feature_names_out=selected_cues)),
            ("count", DictVectorizer()),
            ("log", FunctionTransformer(log1p_sparse, accept_sparse=True, feature_names_out="one-to-one")),
            # scale-free like the n-grams: a long article's many cue matches weigh no more than
            # the few of a short reply, so length alone cannot make a text look like a refusal
            ("norm", Normalizer()),
        ])),
    ]
    if use_chars:
        parts.insert(1, ("chars", Pipeline([
            ("select", FunctionTransformer(select_chars, feature_names_out=selected_text)),
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3,
                                      max_features=char_max_features, sublinear_tf=True,
                                      dtype=np.float32)),
        ])))
    weights = {name: 1.0 for name, _ in parts}
    weights["cues"] = cue_weight
    return FeatureUnion(parts, transformer_weights=weights)


# -- lemma n-grams ------------------------------------------------------------------------------
class LemmaNgrams(TransformerMixin, BaseEstimator):
    """TF-IDF of the word n-grams of space-separated lemma texts: ``TfidfVectorizer`` with
    ``tokenizer=split_on_space`` and no lower-casing, the same matrix, counted with array
    operations instead of a Python loop over every n-gram of every text.

    Fitting is scikit-learn's (``CountVectorizer`` for the vocabulary, ``TfidfTransformer`` for
    the weights, kept as ``counter_`` and ``tfidf_``); the vocabulary is also coded as numbers
    (``table_``, see ``_NgramTable``), which ``transform`` looks each window of words up in.
    """

    def __init__(self, ngram_range=(1, 1), min_df=1, max_features=None, sublinear_tf=False, dtype=np.float64):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype

    def _counter(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(tokenizer=split_on_space, token_pattern=None, lowercase=False,
                               ngram_range=self.ngram_range, min_df=self.min_df,
                               max_features=self.max_features, dtype=self.dtype)

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        from sklearn.feature_extraction.text import TfidfTransformer

        self.counter_ = self._counter()
        counts = self.counter_.fit_transform(list(X))
        self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts)
        self.table_ = _NgramTable.of(self.counter_.vocabulary_)
        return self.tfidf_.transform(counts, copy=False)

    def transform(self, X):
        check_is_fitted(self, "tfidf_")
        docs = list(X)
        counts = self.counter_.transform(docs) if self.table_ is None else self.table_.counts(docs, self.ngram_range, self.dtype)
        return self.tfidf_.transform(counts, copy=False)

    def get_feature_names_out(self, input_features=None):
        return self.counter_.get_feature_names_out()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


@dataclass
class _NgramTable:
    """A word n-gram vocabulary as numbers: an id per word used in it, and per n-gram size the
    sorted codes (ids in base ``n_words``) of its n-grams with their columns."""

    word_ids: dict
    n_words: int
    codes: dict      # size -> sorted int64 codes
    columns: dict    # size -> column of each code
    n_columns: int   # the vocabulary's size

    @classmethod
    def of(cls, vocabulary: dict) -> "_NgramTable | None":
        word_ids: dict = {}
        grams = []
        for gram, col in vocabulary.items():
            words = gram.split(" ")
            grams.append(([word_ids.setdefault(w, len(word_ids)) for w in words], col))
        n_words = max(len(word_ids), 1)
        if n_words ** max((len(g) for g, _ in grams), default=1) >= 2 ** 62:
            return None  # codes would overflow
        by_size: dict = {}
        for ids, col in grams:
            code = 0
            for i in ids:
                code = code * n_words + i
            by_size.setdefault(len(ids), []).append((code, col))
        codes, columns = {}, {}
        for size, pairs in by_size.items():
            pairs.sort()
            codes[size] = np.array([c for c, _ in pairs], dtype=np.int64)
            columns[size] = np.array([col for _, col in pairs], dtype=np.int64)
        return cls(word_ids, n_words, codes, columns, len(vocabulary))

    def counts(self, docs: list[str], ngram_range: tuple[int, int], dtype=np.float64):
        """The count matrix of ``docs`` over the vocabulary, as ``CountVectorizer.transform`` gives it.

        Every token becomes its word id (-1 for a word no vocabulary n-gram uses); each window of
        ``n`` ids inside one document becomes one number, looked up in the sorted codes of the
        vocabulary's n-grams; the hits are counted per (document, column).
        """
        import scipy.sparse as sp

        n_cols = self.n_columns
        tokens = [split_on_space(d) for d in docs]
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
        get = self.word_ids.get
        ids = np.fromiter((get(w, -1) for t in tokens for w in t), dtype=np.int64, count=int(lengths.sum()))
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
        hit_docs, hit_cols = [], []
        min_n, max_n = ngram_range
        for size in range(min_n, max_n + 1):
            codes = self.codes.get(size)
            if codes is None or len(ids) < size:
                continue
            windows = len(ids) - size + 1
            code = ids[:windows].copy()
            ok = (code >= 0) & (doc_of[:windows] == doc_of[size - 1:])
            for k in range(1, size):
                nxt = ids[k:k + windows]
                ok &= nxt >= 0
                code = code * self.n_words + nxt
            code, where = code[ok], doc_of[:windows][ok]
            pos = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
            found = codes[pos] == code
            hit_docs.append(where[found])
            hit_cols.append(self.columns[size][pos[found]])
        if hit_docs:
            keys, counts = np.unique(np.concatenate(hit_docs) * n_cols + np.concatenate(hit_cols), return_counts=True)
        else:
            keys, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = keys // n_cols
        indptr = np.searchsorted(rows, np.arange(len(docs) + 1)).astype(np.int32)
        return sp.csr_array((counts.astype(np.intc), (keys % n_cols).astype(np.int32), indptr),
                            shape=(len(docs), n_cols), dtype=dtype)
