"""Featurise cleaned text: spaCy lemmas and rule cues, then scikit-learn vectorisers.

``LinguisticParser`` runs ``spacy.blank("en")`` with the lookup lemmatizer over batches
(``nlp.pipe``) and matches the cue patterns of ``cues.yaml`` with a ``PhraseMatcher`` and a
``Matcher``. ``build_features`` joins three views of each parsed text in one
``FeatureUnion``: lemma n-grams, character n-grams and cue counts.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

CUE_PREFIX = "cue="
NUM_TOKEN = "<num>"
NAME_TOKEN = "<name>"
_DIGITS = re.compile(r"\d")


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


@lru_cache(maxsize=4)
def _nlp_and_matchers(patterns_key: str):
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    cues = yaml.safe_load(patterns_key)
    phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
    checker = Matcher(nlp.vocab)  # validates the patterns as written
    matcher = Matcher(nlp.vocab, validate=False)
    flags: dict = {}
    for name, spec in cues.items():
        phrases = spec.get("phrases") or []
        if phrases:
            phrase.add(name, list(nlp.tokenizer.pipe(phrases)))
        pats = spec.get("patterns") or []
        if pats:
            checker.add(name, pats)
            matcher.add(name, [_flag_sets(pat, nlp.vocab, table, flags) for pat in pats])
    return nlp, table, phrase, matcher


def _free_flag(vocab) -> int | None:
    """A spare lexeme flag bit (spaCy names them FLAG19 to FLAG63) not taken yet, or None."""
    from spacy.attrs import IDS

    spare = {v for k, v in IDS.items() if k.startswith("FLAG") and 0 < v < 64}  # FLAG19 ... FLAG63
    return next((bit for bit in sorted(spare) if bit not in vocab.lex_attr_getters), None)


def _flag_sets(pattern: list, vocab, table, flags: dict) -> list:
    """A token pattern with its ``{LOWER|LEMMA: {IN: [...]}}`` sets turned into lexeme flags.

    The Matcher calls back into Python for every ``IN`` set on every token, which made it the
    slowest step of featurisation; a flag is checked in compiled code. The flag holds exactly when
    the set test would: ``LOWER`` is the lexeme's lower case, and the lemma is the lookup of the
    lower case (``parse`` sets it so for every token), so both depend on the lexeme alone. When no
    flag is left (64 bits per lexeme) the set stays as it is.
    """
    out = []
    for spec in pattern:
        new = {}
        for attr, value in spec.items():
            kind = attr.upper() if isinstance(attr, str) else None
            values = value.get("IN") if isinstance(value, dict) and set(value) == {"IN"} else None
            if kind in {"LOWER", "LEMMA"} and isinstance(values, list) and values \
                    and all(isinstance(v, str) for v in values):
                key = (kind, frozenset(values))
                if key not in flags:
                    wanted = key[1]
                    if kind == "LOWER":
                        def test(s, wanted=wanted):
                            return s.lower() in wanted
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


@lru_cache(maxsize=8)
def _token_cache(patterns_key: str, mask_names: bool) -> dict:
    return {}


@lru_cache(maxsize=8)
def _lemma_cache(patterns_key: str) -> dict:
    return {}


_SYMBOLS = re.compile(r"[@/\\_=<>|]")


def _lemma_token(tok, mask_names: bool = True) -> str | None:
    """The feature token for one spaCy token.

    Names, numbers, addresses and system strings are masked: who and what a message is about
    says nothing about the stance, and unmasked they let the model learn one sender's habits.
    """
    if tok.is_space or tok.is_punct:
        return None
    if tok.like_num or _DIGITS.search(tok.text):
        return NUM_TOKEN
    if tok.like_email:
        return "<email>"
    if tok.like_url:
        return "<url>"
    if mask_names and tok.is_title and not tok.is_sent_start and tok.text != "I":
        return NAME_TOKEN
    if _SYMBOLS.search(tok.text):
        return "<sym>"
    lemma = tok.lemma_.lower()
    return "not" if lemma in {"n't", "nt"} else lemma


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

    def parse(self, texts):
        from spacy.attrs import IDX, LEMMA, LENGTH, LOWER, ORTH, SENT_START

        nlp, table, phrase, matcher = _nlp_and_matchers(self.patterns_)
        # what _lemma_token gives depends only on the token's text and whether it starts a
        # sentence (its lemma is the lookup of its lower case), so it is computed once per pair
        tokens = _token_cache(self.patterns_, self.mask_names)
        # every token's lemma is the lookup of its lower case: set from a per-lexeme cache in one
        # array call instead of the lemmatizer component's Python loop over tokens
        lemma_of = _lemma_cache(self.patterns_)
        strings = nlp.vocab.strings
        texts = [t[: self.max_chars] for t in texts]
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=self.batch_size, disable=["lemmatizer"])):
            parsed = Parsed(text=text)
            arr = doc.to_array([ORTH, LOWER, SENT_START, IDX, LENGTH]).tolist()
            lemmas = []
            for _, lower, _, _, _ in arr:
                try:
                    lemmas.append(lemma_of[lower])
                except KeyError:
                    if len(lemma_of) >= _TOKEN_CACHE_SIZE:
                        lemma_of.clear()
                    low = strings[lower]
                    lemma_of[lower] = strings.add(table.get(low, low))
                    lemmas.append(lemma_of[lower])
            if lemmas:
                doc.from_array([LEMMA], np.array(lemmas, dtype=np.uint64).reshape(-1, 1))
            for i, (orth, lower, start, idx, length) in enumerate(arr):
                key = (orth, start == 1)
                try:
                    lemma = tokens[key]
                except KeyError:
                    if len(tokens) >= _TOKEN_CACHE_SIZE:  # keep memory flat on endless input
                        tokens.clear()
                    lemma = tokens[key] = _lemma_token(doc[i], self.mask_names)
                if lemma is not None:
                    parsed.lemmas.append(lemma)
                    parsed.spans.append((idx, idx + length))
            seen = set()
            for match_id, start, end in list(phrase(doc)) + list(matcher(doc)):
                name = nlp.vocab.strings[match_id]
                span = doc[start:end]
                key = (name, span.start_char, span.end_char)
                if key not in seen:
                    seen.add(key)
                    parsed.cues.append(key)
            parsed.cues.sort(key=lambda c: (c[1], c[2], c[0]))
            yield parsed

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


# Selectors and helpers live at module level so that saved pipelines can be loaded again.
def select_lemmas(parsed: list[Parsed]) -> list[str]:
    return [p.lemma_text for p in parsed]


def select_chars(parsed: list[Parsed]) -> list[str]:
    """Character n-grams read the masked lemma stream, not the raw text: they catch spelling
    variants and word pieces without learning layout, names or a sender's typing habits."""
    return [p.lemma_text for p in parsed]


def select_cues(parsed: list[Parsed]) -> list[dict[str, float]]:
    return [p.cue_counts() for p in parsed]


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
            ("select", FunctionTransformer(select_lemmas)),
            ("tfidf", TfidfVectorizer(tokenizer=split_on_space, token_pattern=None, lowercase=False,
                                      ngram_range=(1, 3), min_df=2, max_features=word_max_features,
                                      sublinear_tf=True, dtype=np.float32)),
        ])),
        ("cues", Pipeline([
            ("select", FunctionTransformer(select_cues)),
            ("count", DictVectorizer()),
            ("log", FunctionTransformer(log1p_sparse, accept_sparse=True)),
        ])),
    ]
    if use_chars:
        parts.insert(1, ("chars", Pipeline([
            ("select", FunctionTransformer(select_chars)),
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3,
                                      max_features=char_max_features, sublinear_tf=True,
                                      dtype=np.float32)),
        ])))
    weights = {name: 1.0 for name, _ in parts}
    weights["cues"] = cue_weight
    return FeatureUnion(parts, transformer_weights=weights)


# -- fast transform ----------------------------------------------------------------------------
_WORD_CACHE_SIZE = 200_000
_WORD_COLUMNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # vectoriser -> {word: columns}


def _is_char_wb(trans) -> bool:
    """A ``chars`` view as ``build_features`` makes it (select_chars, then a plain char_wb TF-IDF)."""
    steps = getattr(trans, "steps", None)
    if not steps or len(steps) != 2:
        return False
    select, vec = steps[0][1], steps[1][1]
    return (isinstance(select, FunctionTransformer) and select.func is select_chars and select.kw_args is None
            and type(vec) is TfidfVectorizer and vec.analyzer == "char_wb" and vec.input == "content"
            and vec.preprocessor is None and vec.strip_accents is None and vec.lowercase
            and not vec.binary and hasattr(vec, "_tfidf"))


def _char_wb_counts(vec: TfidfVectorizer, docs: list[str]):
    """The count matrix ``vec`` would build from ``docs``, built word by word.

    A ``char_wb`` n-gram never crosses a word, so a document's counts are the sum of its words'
    counts; the in-vocabulary n-gram columns of each word are computed once and cached.
    """
    import scipy.sparse as sp

    cache = _WORD_COLUMNS.get(vec)
    if cache is None:
        cache = _WORD_COLUMNS[vec] = {}
    vocab = vec.vocabulary_
    ngrams = vec._char_wb_ngrams
    indptr, indices, values = [0], [], []
    for doc in docs:
        counts: dict[int, int] = {}
        words: dict[str, int] = {}
        for w in doc.lower().split():
            words[w] = words.get(w, 0) + 1
        for w, k in words.items():
            cols = cache.get(w)
            if cols is None:
                if len(cache) >= _WORD_CACHE_SIZE:
                    cache.clear()
                cols = cache[w] = [vocab[g] for g in ngrams(w) if g in vocab]
            for c in cols:
                counts[c] = counts.get(c, 0) + k
        indices.extend(counts.keys())
        values.extend(counts.values())
        indptr.append(len(indices))
    X = sp.csr_array((np.asarray(values, dtype=np.intc), np.asarray(indices, dtype=np.int32),
                      np.asarray(indptr, dtype=np.int32)), shape=(len(docs), len(vocab)), dtype=vec.dtype)
    X.sort_indices()
    return X


def transform_features(union: FeatureUnion, parsed: list[Parsed]):
    """``union.transform(parsed)``, the same matrix, with the character n-grams counted word by
    word (see ``_char_wb_counts``); any other layout goes through ``union.transform``."""
    try:
        parts = list(union._iter())
        hstack = union._hstack
    except AttributeError:
        return union.transform(parsed)
    if union.n_jobs not in (None, 1) or not any(_is_char_wb(t) for _, t, _ in parts):
        return union.transform(parsed)
    Xs = []
    for name, trans, weight in parts:
        if _is_char_wb(trans):
            vec = trans.steps[1][1]
            res = vec._tfidf.transform(_char_wb_counts(vec, select_chars(parsed)), copy=False)
        else:
            res = trans.transform(parsed)
        Xs.append(res if weight is None else res * weight)
    return hstack(Xs)
