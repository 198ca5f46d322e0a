"""Featurise cleaned text: spaCy lemmas and rule cues, then scikit-learn vectorisers.

``LinguisticParser`` runs ``spacy.blank("en")`` with the lookup lemmatizer over batches
(``nlp.pipe``) and matches the cue patterns of ``cues.yaml`` with a ``PhraseMatcher`` and a
``Matcher``. ``build_features`` joins three views of each parsed text in one
``FeatureUnion``: lemma n-grams, character n-grams and cue counts.
"""
from __future__ import annotations

import math
import re
import weakref
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


@lru_cache(maxsize=4)
def _nlp_and_matchers(patterns_key: str):
    """The spaCy pipeline and the cue matchers: a ``PhraseMatcher`` for the cue phrases and a
    ``Matcher`` for the token patterns (their sets turned into lexeme flags, see ``_flag_sets``)."""
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher

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
    for name, spec in cues.items():
        if spec.get("phrases"):
            phrase.add(name, list(nlp.tokenizer.pipe(spec["phrases"])))
        if spec.get("patterns"):
            checker.add(name, spec["patterns"])
    patterns = {name: spec["patterns"] for name, spec in cues.items() if spec.get("patterns")}
    flags: dict = {}
    matcher = _flagged_matcher(nlp, table, patterns, flags)
    return nlp, table, phrase, matcher, flags


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


EXPAND_FROM = 200  # batches of at least this many texts use the expanded matchers


@lru_cache(maxsize=4)
def _expanded_matchers(patterns_key: str):
    """The same cue matches from cheaper matchers, for large batches.

    Token patterns that are only word sets (see ``_as_word_sequences``) become word sequences in
    a second ``PhraseMatcher``, leaving the ``Matcher`` only the few patterns with wildcards or
    other attributes; the Matcher's cost grows with its number of patterns at every token. Building
    the sequences takes a few tenths of a second, so single texts use the plain matchers.
    """
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    nlp, table, phrase, _, flags = _nlp_and_matchers(patterns_key)
    cues = yaml.safe_load(patterns_key)
    forms = _lemma_forms(table)
    sequences = PhraseMatcher(nlp.vocab, attr="LOWER")
    kept: dict[str, list] = {}
    for name, spec in cues.items():
        for pat in spec.get("patterns") or []:
            words = _as_word_sequences(pat, forms)
            if words is None:
                kept.setdefault(name, []).append(pat)
            elif words:
                sequences.add(name, [Doc(nlp.vocab, words=w) for w in words])
    return phrase, sequences, _flagged_matcher(nlp, table, kept, flags)


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


@lru_cache(maxsize=8)
def _lexeme_cache(patterns_key: str, mask_names: bool) -> dict:
    return {}


VOCAB_LIMIT = 250_000  # lexemes; past this the pipeline is built afresh (see _renew_if_grown)


def _renew_if_grown(patterns_key: str) -> None:
    """Start a fresh pipeline once its vocabulary passes ``VOCAB_LIMIT`` lexemes.

    spaCy keeps a lexeme and a string for every word form it has seen, without a cap, so a
    process scoring an endless stream of mail would grow; about 120,000 lexemes come from 24,000
    messages. Dropping the pipeline and the caches tied to its vocabulary keeps memory bounded
    for a rebuild (under a second) every hundred thousand messages or so. Results do not change:
    everything is recomputed from the same patterns and lookup data.
    """
    if _nlp_and_matchers.cache_info().currsize and len(_nlp_and_matchers(patterns_key)[0].vocab) > VOCAB_LIMIT:
        _nlp_and_matchers.cache_clear()
        _expanded_matchers.cache_clear()
        _lexeme_cache.cache_clear()


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

    def parse(self, texts):
        from spacy.attrs import IDX, LEMMA, LENGTH, ORTH

        _renew_if_grown(self.patterns_)
        nlp, table, phrase, matcher, _ = _nlp_and_matchers(self.patterns_)
        texts = [t[: self.max_chars] for t in texts]
        matchers = [phrase, matcher]
        if len(texts) >= EXPAND_FROM:
            matchers = list(_expanded_matchers(self.patterns_))
        # Everything parsing needs of a token but its sentence start depends on its word form alone
        # (the lemma is the lookup of the lower case), so it is computed once per form; the
        # lemmatizer and sentencizer components, which loop over tokens in Python, are replaced by
        # that cache plus the sentencizer's own rule below, and lemmas are set in one array call.
        words = _lexeme_cache(self.patterns_, self.mask_names)
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


def select_cues(parsed: list[Parsed]) -> list[dict[str, float]]:
    out = []
    for p in parsed:
        counts = p.cue_counts()
        n_words = sum(1 for lemma in p.lemmas if any(c.isalnum() for c in lemma))
        name = length_feature(n_words)
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
            ("tfidf", TfidfVectorizer(tokenizer=split_on_space, token_pattern=None, lowercase=False,
                                      ngram_range=(1, 3), min_df=2, max_features=word_max_features,
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


_NGRAM_TABLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # vectoriser -> _NgramTable


def _is_lemma_ngrams(trans) -> bool:
    """A ``lemmas`` view as ``build_features`` makes it (select_lemmas, then a word n-gram TF-IDF
    over ``split_on_space``)."""
    steps = getattr(trans, "steps", None)
    if not steps or len(steps) != 2:
        return False
    select, vec = steps[0][1], steps[1][1]
    return (isinstance(select, FunctionTransformer) and select.func is select_lemmas and select.kw_args is None
            and type(vec) is TfidfVectorizer and vec.analyzer == "word" and vec.tokenizer is split_on_space
            and vec.input == "content" and vec.preprocessor is None and vec.strip_accents is None
            and not vec.lowercase and vec.stop_words is None and not vec.binary and hasattr(vec, "_tfidf"))


@dataclass
class _NgramTable:
    """A word n-gram vocabulary as numbers: an id per word used in it, and per n-gram size the
    sorted codes (ids in base ``n_words``) of its n-grams with their columns."""

    word_ids: dict
    n_words: int
    codes: dict      # size -> sorted int64 codes
    columns: dict    # size -> column of each code

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
        return cls(word_ids, n_words, codes, columns)


def _ngram_counts(vec: TfidfVectorizer, docs: list[str]):
    """The count matrix ``vec`` would build from ``docs``, counted with array operations (None
    when the vocabulary's n-grams are too long to code as numbers, or for a small first batch).

    Every token becomes its word id (-1 for a word no vocabulary n-gram uses); each window of
    ``n`` ids inside one document becomes one number, looked up in the sorted codes of the
    vocabulary's n-grams; the hits are counted per (document, column).
    """
    import scipy.sparse as sp

    if vec not in _NGRAM_TABLES:
        if len(docs) < EXPAND_FROM:  # building the table takes about 0.1 s: not for a few texts
            return None
        _NGRAM_TABLES[vec] = _NgramTable.of(vec.vocabulary_)
    table = _NGRAM_TABLES[vec]
    n_cols = len(vec.vocabulary_)
    if table is None:
        return None
    tokens = [split_on_space(d) for d in docs]
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    get = table.word_ids.get
    ids = np.fromiter((get(w, -1) for t in tokens for w in t), dtype=np.int64, count=int(lengths.sum()))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    hit_docs, hit_cols = [], []
    min_n, max_n = vec.ngram_range
    for size in range(min_n, max_n + 1):
        codes = table.codes.get(size)
        if codes is None or len(ids) < size:
            continue
        windows = len(ids) - size + 1
        code = ids[:windows].copy()
        ok = (code >= 0) & (doc_of[:windows] == doc_of[size - 1:])
        for k in range(1, size):
            nxt = ids[k:k + windows]
            ok &= nxt >= 0
            code = code * table.n_words + nxt
        code, where = code[ok], doc_of[:windows][ok]
        pos = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
        found = codes[pos] == code
        hit_docs.append(where[found])
        hit_cols.append(table.columns[size][pos[found]])
    if hit_docs:
        keys, counts = np.unique(np.concatenate(hit_docs) * n_cols + np.concatenate(hit_cols), return_counts=True)
    else:
        keys, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = keys // n_cols
    indptr = np.searchsorted(rows, np.arange(len(docs) + 1)).astype(np.int32)
    X = sp.csr_array((counts.astype(np.intc), (keys % n_cols).astype(np.int32), indptr),
                     shape=(len(docs), n_cols), dtype=vec.dtype)
    return X


def transform_features(union: FeatureUnion, parsed: list[Parsed]):
    """``union.transform(parsed)``, the same matrix, with the character n-grams counted word by
    word (see ``_char_wb_counts``) and the lemma n-grams built only where the vocabulary has them
    (see ``_ngram_counts``); any other layout goes through ``union.transform``."""
    try:
        parts = list(union._iter())
        hstack = union._hstack
    except AttributeError:
        return union.transform(parsed)
    if union.n_jobs not in (None, 1) or not any(_is_char_wb(t) or _is_lemma_ngrams(t) for _, t, _ in parts):
        return union.transform(parsed)
    Xs = []
    for name, trans, weight in parts:
        if _is_char_wb(trans):
            vec = trans.steps[1][1]
            res = vec._tfidf.transform(_char_wb_counts(vec, select_chars(parsed)), copy=False)
        elif _is_lemma_ngrams(trans) and (counts := _ngram_counts(trans.steps[1][1], select_lemmas(parsed))) is not None:
            res = trans.steps[1][1]._tfidf.transform(counts, copy=False)
        else:
            res = trans.transform(parsed)
        Xs.append(res if weight is None else res * weight)
    return hstack(Xs)
