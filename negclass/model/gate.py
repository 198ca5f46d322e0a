"""Whether a text has any stance content at all.

Jokes and chain letters, forwarded news and newsletters, personal mail and automatic notices hold
no stance: nobody in them is refusing anything, whatever their words ("I can't make it, I'm
swamped" to a friend, a story about a company turning down a merger). The reason model, trained
mostly on negotiation text, reads such mail as if it were a counterparty's, and it is what used to
fill the top of a ranked mailbox.

The gate is a small classifier of the parsed lemma stream, trained on labelled real mail whose
annotators recorded its kind (``CONTENTLESS_KINDS`` against deal and business mail, one-liners,
written examples, minimal pairs and every refusal). ``WholeTextClassifier`` multiplies each text's
P(refusal) by ``(1 - P(no stance content)) ** power``; the refusal reasons keep their proportions.
One-liners are not among the kinds: a short "Not interested." is a refusal. But a text of at most
three words with no stance cue at all ("ok", "sorry", "no sorry") holds no stance whatever the
classifier says (``says_nothing``): its P(no stance content) is 1, with or without a fitted gate.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .estimator import with_refusal_probability

# kinds of message (annotation guideline, "Kind of message") that hold no stance content
CONTENTLESS_KINDS = ("auto", "joke_chain", "news_newsletter", "personal")
UNKNOWN = -1  # a training row whose kind nobody recorded: the gate does not learn from it


def build_gate(C: float = 2.0, max_features: int = 50000, seed: int = 0) -> Pipeline:
    """The unfitted gate: lemma 1-2-grams (TF-IDF) and a balanced logistic regression, reading
    ``Parsed.lemma_text`` strings (the parse the reason model makes anyway: about 0.05 ms a text).
    Training caps the vocabulary lower (``TrainConfig.gate_max_features``) to keep loading fast."""
    from .features import LemmaNgrams

    return Pipeline([("tfidf", LemmaNgrams(ngram_range=(1, 2), min_df=2, max_features=max_features,
                                           sublinear_tf=True)),
                     ("lr", LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed))])


def gate_labels(reasons, kinds, sources, unlabelled_sources) -> np.ndarray:
    """1 (no stance content), 0 (some) or ``UNKNOWN`` per training row.

    A row with a recorded kind is 1 when it is a non-refusal of a ``CONTENTLESS_KINDS`` kind. A
    refusal always has stance content. A row without a kind is 0 unless its source is real mail
    read without recording kinds (``unlabelled_sources``), which is unknown.
    """
    out = []
    for reason, kind, source in zip(reasons, kinds, sources):
        kind = kind if isinstance(kind, str) and kind else None
        if reason != "none":
            out.append(0)
        elif kind is not None:
            out.append(int(kind in CONTENTLESS_KINDS))
        else:
            out.append(UNKNOWN if source in unlabelled_sources else 0)
    return np.asarray(out, dtype=int)


# cues that name no stance of their own (cues.yaml): a deal being mentioned, a negation, a date
STANCELESS_CUES = frozenset({"deal_context", "negation", "concrete_date"})
FEW_WORDS = 3


def says_nothing(p) -> bool:
    """A text of at most ``FEW_WORDS`` words with no stance cue: "ok", "now", "no sorry" (guideline
    case 8). A few words that turn something down carry a cue ("Not interested.", case 22)."""
    from .features import word_count

    return word_count(p) <= FEW_WORDS and all(name in STANCELESS_CUES for name, _, _ in p.cues)


def damp(proba: np.ndarray, kept: np.ndarray, none: int) -> np.ndarray:
    """``proba`` with each row's P(refusal) times ``kept`` (``(1 - P(no stance content)) ** power``,
    0 for a text that ``says_nothing``)."""
    p_ref = 1.0 - proba[:, none]
    return with_refusal_probability(proba, p_ref, p_ref * kept, none)
