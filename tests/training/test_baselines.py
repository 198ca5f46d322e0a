from negclass.training.baselines import KeywordRuleBaseline


def test_keyword_rules_follow_the_cue_hints():
    rules = KeywordRuleBaseline().fit(["x"], ["none"])
    pred = rules.predict([
        "We have three other offers and we're happy with our current supplier.",
        "I'll have to run it by my boss and the board before anything.",
        "Honestly we're swamped and snowed under, not ready.",
        "Happy to meet on Tuesday at 3 pm, calendar invite attached.",
        "The cat sat on the mat.",
    ])
    assert list(pred) == ["too_strong", "emotions_high", "too_weak", "none", "none"]
