"""assess_window: weaker signals from the writer's last messages add up."""

from pathlib import Path

import pytest

from moderation.engine import Tier, assess_window, default_engine, parse_eval_file


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


EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "crisis_eval.tsv"


def test_a_reading_gives_the_same_verdict_as_reading_again() -> None:
    """A server reads a message once (to choose its lane) and passes the reading on:
    the window's verdict is the same as analysing the text afresh, over the whole
    evaluation set, each line after the three before it, with and without a hint."""
    rows, errors = parse_eval_file(EVAL_FILE)
    assert not errors and len(rows) > 600
    engine = default_engine()
    texts = [row.text for row in rows]
    raised = 0
    for index, row in enumerate(rows):
        previous = texts[max(0, index - 3) : index]
        for lang in (None, row.lang if len(row.lang) == 2 else None):
            reading = engine.read(row.text, lang=lang)
            assert reading.verdict == engine.assess(row.text, lang=lang)
            with_reading = engine.assess_window(previous, row.text, lang=lang, reading=reading)
            assert with_reading == engine.assess_window(previous, row.text, lang=lang)
            raised += with_reading.tier > reading.verdict.tier
            # The reading is not changed by being used: using it again gives the same.
            assert engine.assess_window(previous, row.text, lang=lang, reading=reading) == (
                with_reading
            )
    assert raised > 0  # the window did add up somewhere, so the comparison meant something


def test_a_reading_of_another_text_or_language_is_not_used() -> None:
    engine = default_engine()
    hopeless = engine.read("I feel so hopeless")
    assert engine.assess_window([], "hello everyone", reading=hopeless).tier is Tier.NONE
    german = engine.read("ich will sterben", lang="de")
    assert engine.assess_window([], "ich will sterben", lang=None, reading=german) == (
        engine.assess("ich will sterben")
    )


def test_a_reading_is_not_analysed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = default_engine()
    reading = engine.read("I have the pills", lang="en")
    analysed: list[str] = []
    analyse = engine._analyse

    def counting(text: str, lang: str | None):  # type: ignore[no-untyped-def]
        analysed.append(text)
        return analyse(text, lang)

    monkeypatch.setattr(engine, "_analyse", counting)
    verdict = engine.assess_window(
        ["I feel so hopeless"], "I have the pills", lang="en", reading=reading
    )
    assert verdict.tier is Tier.IMMINENT
    assert analysed == ["I feel so hopeless"]  # only the earlier message
