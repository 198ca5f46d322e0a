from negclass.model import taxonomy


def test_reasons_and_signals_match_the_contract():
    assert taxonomy.reasons() == ["too_strong", "too_weak", "emotions_high", "none"]
    assert taxonomy.signals("too_strong") == ["strong_batna", "tactical_silence", "sensed_weakness", "price_only"]
    assert taxonomy.signals("too_weak") == ["win_lose", "avoids_discomfort", "overwhelmed"]
    assert taxonomy.signals("emotions_high") == ["distrust_conflict", "no_authority"]
    assert taxonomy.signals("none") == []


def test_reason_of_each_signal():
    for reason in taxonomy.refusal_reasons():
        for signal in taxonomy.signals(reason):
            assert taxonomy.reason_of(signal) == reason
