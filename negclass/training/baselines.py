"""Two reference points every model is compared with: the majority class and keyword rules."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..model import taxonomy
from ..model.features import CUE_PREFIX, LinguisticParser, load_cue_patterns


class KeywordRuleBaseline(ClassifierMixin, BaseEstimator):
    """Counts cue matches per reason (each cue's ``hints`` in ``cues.yaml``).

    No refusal cue, or more engagement cues than refusal cues, gives ``none``; otherwise the
    reason with most cue hits. Learns nothing from the labels.
    """

    def fit(self, X, y=None):
        self.parser_ = LinguisticParser().fit(X)
        self.hints_ = {name: spec.get("hints") for name, spec in load_cue_patterns().items()}
        self.classes_ = np.array(taxonomy.reasons(), dtype=object)
        return self

    def predict(self, X) -> np.ndarray:
        out = []
        for parsed in self.parser_.parse(list(X)):
            score = {r: 0 for r in taxonomy.reasons()}
            for cue, n in parsed.cue_counts().items():
                hint = self.hints_.get(cue[len(CUE_PREFIX):])
                if hint:
                    score[hint] += n
            refusal = {r: v for r, v in score.items() if r != taxonomy.NONE}
            best = max(refusal, key=lambda r: (refusal[r], -taxonomy.reasons().index(r)))
            out.append(taxonomy.NONE if refusal[best] == 0 or score[taxonomy.NONE] > refusal[best] else best)
        return np.array(out, dtype=object)
