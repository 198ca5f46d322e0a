"""The shipped model through the public API."""
import pytest

import negclass
from negclass.errors import NegclassError

REFUSALS = {
    "too_strong": "Thanks, but we've had three other firms quote on this already and we're comfortable where we are. "
                  "No need to set up a meeting.",
    "too_weak": "Honestly I'd rather not sit down and haggle over it, I'm no good at that sort of thing. "
                "Just send whatever you think is fair and we'll go with it.",
    "emotions_high": "After the way your people handled the warranty claim last year I don't see any point in "
                     "talking. We haven't forgotten it.",
}


def test_classify_returns_a_complete_result(model):
    result = model.classify(REFUSALS["too_strong"])
    assert isinstance(result, negclass.Classification)
    assert set(result.probabilities) == {"too_strong", "too_weak", "emotions_high", "none"}
    assert abs(sum(result.probabilities.values()) - 1) < 1e-3
    assert result.confidence == pytest.approx(result.probabilities[result.reason], abs=1e-4)
    assert isinstance(result.low_confidence, bool)


@pytest.mark.parametrize("reason", sorted(REFUSALS))
def test_clear_refusals_get_their_reason_and_tactics(model, reason):
    result = model.classify(REFUSALS[reason])
    assert result.reason == reason
    assert result.signal is not None
    assert result.tactics and all(t.say for t in result.tactics)


def test_ordinary_mail_is_none_without_tactics(model):
    result = model.classify("Hi all, the invoice for October is attached. Payment is due on the 15th. Thanks, Ana")
    assert result.reason == "none" and result.signal is None and result.tactics == []


def test_evidence_offsets_point_into_the_input(model):
    text = "Hi Sam,\n\nWe'll hold off until after the new year. Our current supplier is fine for now.\n\nBest,\nKim"
    result = model.classify(text)
    assert result.evidence
    for ev in result.evidence:
        assert text[ev.start:ev.end] == ev.text
        assert ev.weight > 0


def test_quoted_text_from_our_side_is_ignored(model):
    ours = "Invoice 4471 is attached, due on the 30th. Thanks, Pat"
    quoted = ("\n\nOn Tue, 3 Mar 2026 at 09:14, Dana <dana@example.com> wrote:\n"
              "> After what happened last time we're not prepared to talk and we don't trust you.\n")
    assert model.classify(ours + quoted).reason == model.classify(ours).reason


def test_emotions_high_tactics_follow_the_signal(model):
    result = model.classify("I'd need to float this upstairs before we talk numbers, it's not really my call. "
                            "Let me see what the owners think, could be a while.")
    assert result.reason == "emotions_high" and result.signal == "no_authority"
    assert result.tactics[0].id.startswith("na_")


def test_classify_many_streams_in_order_and_flags_empty_texts(model):
    texts = [REFUSALS["too_weak"], "", "Meeting moved to 3pm Thursday, room 4B."]
    results = list(model.classify_many(iter(texts), batch_size=2))
    assert len(results) == 3
    assert results[0].reason == "too_weak"
    assert results[1].error and results[1].reason is None
    assert results[2].reason == "none"


def test_empty_text_is_a_clear_error(model):
    from negclass.errors import EmptyTextError

    for text in ("   \n", "> On Monday Sam wrote:\n> can we meet?\n"):  # empty, or nothing new once cleaned
        with pytest.raises(EmptyTextError, match="empty text"):
            model.classify(text)


@pytest.mark.parametrize("phrase, widened", [
    ("please do", "please don't"), ("sign", "not sign"), ("agree", "can't agree"), ("call them", "never call them")])
def test_evidence_phrases_keep_their_negation(phrase, widened):
    from negclass.model.predict import _with_negation

    text = f"Hi, {widened} today."
    a = text.find(phrase if phrase != "please do" else "please do")
    a, b = _with_negation(text, a, a + len(phrase))
    assert text[a:b].lower() == widened.lower()


def test_evidence_never_drops_a_negation(model):
    text = ("Please don't send the revised terms yet. We have two other offers on the table and "
            "don't need to move on price.")
    evidence = model.classify(text).evidence
    assert evidence
    for ev in evidence:
        end = ev.end
        assert not text[end:end + 3].lower().startswith("n't"), ev.text


def test_a_refusal_at_the_end_of_a_very_long_message_is_read(model):
    filler = "\n".join(f"Item {i}: the pipeline nomination for day {i % 30} is unchanged at the usual volume."
                       for i in range(400))
    refusal = ("\n\nOn the Dynegy proposal: thanks, but we have two other suppliers quoting and are happy with "
               "where we are, so there's no need to meet on it.")
    text = filler + refusal
    assert len(text) > 30000
    result = model.classify(text)
    assert result.text_chars == len(text.strip())
    assert result.probabilities["none"] < model.classify(filler).probabilities["none"]
    assert any(ev.start is not None and ev.start > len(filler) for ev in result.evidence)


def test_many_chances_divides_the_odds_of_a_long_text_by_its_windows():
    import numpy as np
    from negclass.model.pipeline import many_chances
    proba = np.array([[0.8, 0.1, 0.1, 0.0], [0.2, 0.4, 0.2, 0.2]])  # columns: none first here
    out = many_chances(proba, np.array([1, 4]), none=0)
    assert np.allclose(out[0], proba[0])                     # one window: unchanged
    assert np.isclose(1 - out[1, 0], 0.5)                    # odds 0.8/0.2 = 4, divided by 4 -> 1
    assert np.allclose(out[1, 1:] / out[1, 1:].sum(), proba[1, 1:] / proba[1, 1:].sum())
    assert np.allclose(out.sum(axis=1), 1.0)
