"""assess_window: weaker signals from the writer's last messages add up."""

import pytest

from moderation.engine import Tier, assess_window


@pytest.mark.parametrize(
    ("previous", "text", "tier"),
    [
        # Hopelessness, then means two messages later: a plan.
        (["I feel so hopeless", "nothing matters anymore"], "I have the pills", Tier.IMMINENT),
        # Ideation earlier, a time now.
        (["I want to die"], "tonight", Tier.IMMINENT),
        # Means earlier, ideation now.
        (["I've been saving up my pills"], "I just want to die", Tier.IMMINENT),
        # Several concerns with suicidal content: high.
        (
            ["I can't go on anymore", "nobody would miss me"],
            "what's the point of anything",
            Tier.HIGH,
        ),
        # German: hopelessness then "ich habe die Tabletten".
        (["ich kann nicht mehr"], "ich habe die Tabletten", Tier.IMMINENT),
    ],
)
def test_signals_add_up_across_messages(previous: list[str], text: str, tier: Tier) -> None:
    assert assess_window(previous, text).tier is tier


@pytest.mark.parametrize(
    ("previous", "text", "tier"),
    [
        # A pure idiom is never raised, whatever came before.
        (["I want to die"], "this homework is killing me", Tier.NONE),
        # Plain chat after a crisis message is not re-alerted.
        (["I want to die"], "thanks for listening everyone", Tier.NONE),
        # Distress alone does not make a time word a plan.
        (["I feel hopeless"], "see you tonight at group", Tier.NONE),
        # Concerns without suicidal content stay concerns.
        (["I feel so alone", "I hate myself"], "I feel hopeless", Tier.CONCERN),
    ],
)
def test_window_does_not_raise_without_reason(previous: list[str], text: str, tier: Tier) -> None:
    assert assess_window(previous, text).tier is tier


def test_window_keeps_spans_on_the_current_message() -> None:
    text = "I have the pills"
    verdict = assess_window(["I feel so hopeless"], text)
    assert verdict.spans
    assert all(0 <= s.start < s.end <= len(text) for s in verdict.spans)


def test_window_with_no_history_equals_assess() -> None:
    assert assess_window([], "I want to die").tier is Tier.HIGH
