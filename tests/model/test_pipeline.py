"""The saved pipeline is the whole model: on raw messages it answers as ``Model.classify`` does."""
import numpy as np
import pytest

from negclass.mail import cleaning

LONG = ("\n".join(f"Item {i}: the pipeline nomination for day {i % 30} is unchanged at the usual volume."
                  for i in range(120))
        + "\n\nOn the proposal: thanks, but we have two other suppliers quoting and are happy with where we "
          "are, so there's no need to meet on it.")
QUOTED = ("After the way your people handled the warranty claim we're not prepared to talk.\n\n"
          "On Tue, 3 Mar 2026 at 09:14, Pat <pat@example.com> wrote:\n"
          "> We have three other bidders and can walk away at any time, take it or leave it.\n")
MIXED = [
    "Thanks, but we've had three other firms quote on this already. No need to meet.",   # short
    LONG,                                                                                 # several windows
    QUOTED,                                                                               # a reply quoting us
    "",                                                                                   # empty
    "> On Monday Sam wrote:\n> can we meet?\n",                                           # nothing new
    "<html><body><p>I'd rather not haggle, just send whatever you think is fair.</p></body></html>",  # HTML
    "Hi all, the invoice for October is attached. Payment is due on the 15th. Thanks, Ana",
]


def test_the_fixtures_cover_what_they_claim():
    assert len(cleaning.windows(cleaning.clean(LONG).text)) > 1
    assert cleaning.clean(QUOTED).text != QUOTED.strip()
    assert cleaning.clean(MIXED[4]).text == ""


def test_pipeline_on_raw_text_equals_classify(model):
    results = list(model.classify_many(MIXED, batch_size=3))
    proba = model.pipeline.predict_proba(MIXED)
    reasons = model.pipeline.predict(MIXED)
    low = model.reader.predict_low_confidence(model.cleaner.transform(MIXED))
    for i, r in enumerate(results):
        if r.empty:
            assert reasons[i] is None and not proba[i].any() and low[i]
            continue
        assert reasons[i] == r.reason
        assert bool(low[i]) == r.low_confidence
        assert {c: round(float(p), 4) for c, p in zip(model.reasons, proba[i])} == r.probabilities
    assert [r.empty for r in results] == [False, False, False, True, True, False, False]


def test_a_reply_is_judged_on_its_new_text_only(model):
    assert model.pipeline.predict([QUOTED])[0] == model.classify(QUOTED).reason


def test_feature_names_come_out_of_the_pipeline(model):
    names = model.pipeline.get_feature_names_out()
    inner = model.reader.estimator_
    assert len(names) == inner[:-1].transform(["We will not move on price."]).shape[1]
    assert any(n.startswith("lemmas__") for n in names) and any(n.startswith("cues__cue=") for n in names)
    assert list(names) == list(model.reader.get_feature_names_out())


def test_training_reads_a_labelled_text_with_no_new_text_as_written():
    from negclass.model.pipeline import MailCleaner

    text = "> On Monday Sam wrote:\n> can we meet?"
    assert MailCleaner().transform([text]) == [""]
    assert MailCleaner().fit_transform([text]) == [text]


def test_low_confidence_follows_the_pipeline_settings(model):
    from sklearn.base import clone

    texts = model.cleaner.transform(MIXED[:3])
    strict = clone(model.reader).set_params(min_confidence=1.01)
    strict.estimator_, strict.classes_, strict.gate_ = model.reader.estimator_, model.reader.classes_, model.reader.gate_
    assert strict.predict_low_confidence(texts).all()
    assert np.array_equal(strict.predict(texts), model.reader.predict(texts))


@pytest.mark.parametrize("batch_size", [1, 2, 256])
def test_results_do_not_depend_on_the_batch(model, batch_size):
    want = model.pipeline.predict_proba(MIXED)
    got = [r.probabilities for r in model.classify_many(MIXED, batch_size=batch_size)]
    for p, r in zip(want, got):
        assert r == ({} if not p.any() else {c: round(float(v), 4) for c, v in zip(model.reasons, p)})


# -- scikit-learn conventions -------------------------------------------------------------------
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from negclass.model.pipeline import MailCleaner  # noqa: E402


def _reader():
    from sklearn.pipeline import Pipeline

    from negclass.model.estimator import ReasonSignalClassifier
    from negclass.model.features import LinguisticParser, build_features
    from negclass.model.pipeline import WholeTextClassifier

    return WholeTextClassifier(Pipeline([("parse", LinguisticParser()), ("features", build_features(use_chars=False)),
                                         ("clf", ReasonSignalClassifier(cv=2))]))


@parametrize_with_checks([MailCleaner(), _reader()])
def test_sklearn_checks(estimator, check):
    # both read texts, not 2-D arrays: scikit-learn runs its cloning check and skips the rest
    # (with a SkipTestWarning); test_text_estimator_conventions covers them on texts
    check(estimator)


def test_text_estimator_conventions_of_the_cleaner():
    from tests.conftest import check_text_estimator

    check_text_estimator(MailCleaner(), MIXED)


@pytest.mark.slow  # fits the reader three times
def test_text_estimator_conventions_of_the_reader():
    from negclass.training import dataset
    from negclass.model.estimator import join_labels
    from tests.conftest import FIXTURES, check_text_estimator

    frame = dataset.load([FIXTURES / "labelled.jsonl"])
    check_text_estimator(_reader(), frame["text"].tolist(), join_labels(frame["reason"], frame["signal"]))
