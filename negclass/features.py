"""Featurise cleaned text: spaCy lemmas and rule cues, then scikit-learn vectorisers.

``LinguisticParser`` runs ``spacy.blank("en")`` with the lookup lemmatizer over batches
(``nlp.pipe``) and matches the cue patterns of ``cues.yaml`` with a ``PhraseMatcher`` and a
``Matcher``. ``build_features`` joins three views of each parsed text in one
``FeatureUnion``: lemma n-grams, character n-grams and cue counts.
"""
from __future__ import annotations

import re
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
    matcher = Matcher(nlp.vocab)
    for name, spec in cues.items():
        phrases = spec.get("phrases") or []
        if phrases:
            phrase.add(name, list(nlp.tokenizer.pipe(phrases)))
        pats = spec.get("patterns") or []
        if pats:
            matcher.add(name, pats)
    return nlp, table, phrase, matcher


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
        nlp, table, phrase, matcher = _nlp_and_matchers(self.patterns_)
        texts = [t[: self.max_chars] for t in texts]
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=self.batch_size)):
            parsed = Parsed(text=text)
            for tok in doc:
                if tok.text != tok.lower_:  # the lookup table is keyed on lower case
                    tok.lemma_ = table.get(tok.lower_, tok.lower_)
                lemma = _lemma_token(tok, self.mask_names)
                if lemma is not None:
                    parsed.lemmas.append(lemma)
                    parsed.spans.append((tok.idx, tok.idx + len(tok.text)))
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
