"""Arbitrary input never breaks the engine, and offsets always land in the original."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.engine import Tier, assess, assess_window, normalise

# Text that exercises every normalisation step: accents, look-alikes, full-width
# forms, zero-width and bidi controls, leetspeak, split letters, emoji, repeats.
TRICKY = st.text(
    alphabet=st.sampled_from(
        [
            *"abcdeiklmostuwyzABCKIL .,:;!?'-_*@$0134579",
            *["ę", "ł", "ß", "é", "ü", "\u0456", "\u043e", "\u039a", "\uff4b", "ﬁ"],
            *["\u200b", "\u202e", "\ufe0f", "💊", "🔪", "🏽", "\n", "\t"],
        ]
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TRICKY)
def test_normalised_offsets_stay_in_the_original(text: str) -> None:
    norm = normalise(text)
    previous_start = 0
    for start in range(len(norm.text)):
        s, e = norm.to_original(start, start + 1)
        assert 0 <= s <= e <= len(text)
        assert s >= previous_start
        previous_start = s


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300) | TRICKY)
def test_any_text_gets_a_verdict_with_valid_spans(text: str) -> None:
    verdict = assess(text)
    assert isinstance(verdict.tier, Tier)
    for span in verdict.spans:
        assert 0 <= span.start <= span.end <= len(text)
    assert verdict.to_dict()["tier"] == verdict.tier.value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=6), st.text(max_size=80))
def test_window_accepts_any_history(previous: list[str], text: str) -> None:
    assert assess_window(previous, text).tier >= assess(text).tier
