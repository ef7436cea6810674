"""Room norms: contact data, links, abuse, shouting, length."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.engine import Engine, EngineConfig, assess, default_engine
from moderation.engine.norms import digits_only


@pytest.mark.parametrize(
    ("text", "norms"),
    [
        # Phone numbers in several national and international formats.
        ("call me on 07700 900123", {"contact_info"}),
        ("mein handy: +49 151 23456789", {"contact_info"}),
        ("appelle-moi au 06 12 34 56 78", {"contact_info"}),
        ("mi número es 612 345 678", {"contact_info"}),
        # Crisis helplines are never contact info.
        ("call 116 123 any time", set()),
        ("TelefonSeelsorge: 0800 111 0 111", set()),
        ("en France appelez le 3114", set()),
        ("in Italia: Telefono Amico 02 2327 2327", set()),
        ("Polska: 800 70 2222", set()),
        ("emergency? dial 112", set()),
        # Dates, times and counts are not phone numbers.
        ("my appointment is on 12.05.2024 at 10:30", set()),
        ("I've been clean for 1000 days", set()),
        # E-mails, plain and spelled out.
        ("write to jane.doe@example.com", {"contact_info"}),
        ("jane at example dot com", {"contact_info"}),
        ("jane (at) example (dot) org", {"contact_info"}),
        ("ola arroba correo punto es", {"contact_info"}),
        ("jan małpa wp kropka pl", {"contact_info"}),
        # Handles.
        ("follow me @sunny_days99", {"contact_info"}),
        ("insta: jane.doe99", {"contact_info"}),
        ("add me on snap", {"contact_info"}),
        ("what's your number?", {"contact_info"}),
        # Street addresses.
        ("I live at 221b Baker Street", {"contact_info"}),
        ("ich wohne in der Hauptstraße 5", {"contact_info"}),
        ("abito in via Roma 10", {"contact_info"}),
        # Links.
        ("see https://example.org/help", {"link"}),
        ("www.example.com", {"link"}),
        ("example.org/abc", {"link"}),
        ("join discord.gg/abcdef", {"link"}),
        # Crisis resources may be shared.
        ("https://www.samaritans.org/how-we-can-help", set()),
        # Sentences that only look like domains.
        ("I'm done.it hurts", set()),
        ("ok.so what now", set()),
    ],
)
def test_contact_info_and_links(text: str, norms: set[str]) -> None:
    found = assess(text).norms & {"contact_info", "link"}
    assert found == norms


@pytest.mark.parametrize(
    ("text", "abuse"),
    [
        ("you idiot", True),
        ("you're such a pathetic loser", True),
        ("kys loser", True),
        ("du Idiot", True),
        ("t'es con", True),
        ("eres un idiota", True),
        ("this day was shit", False),
        ("fuck this weather", False),
        ("I'm such an idiot sometimes", False),
        ("mon téléphone est mort, désolée pour le retard", False),
        ("me muero de risa con este vídeo", False),
    ],
)
def test_abuse_is_aimed_at_a_person_not_plain_profanity(text: str, abuse: bool) -> None:
    assert ("abuse" in assess(text).norms) is abuse


@pytest.mark.parametrize(
    ("text", "shouting"),
    [
        ("WHY DOES NOBODY EVER LISTEN TO ME", True),
        ("I HATE THIS SO MUCH, LEAVE ME ALONE", True),
        ("OMG yes", False),
        ("my GP referred me to CAMHS and the NHS waitlist is long", False),
        ("HELP", False),
    ],
)
def test_shouting_needs_mostly_capitals_over_enough_letters(text: str, shouting: bool) -> None:
    assert ("shouting" in assess(text).norms) is shouting


def test_too_long_messages_are_flagged_with_the_excess_span() -> None:
    engine = Engine(EngineConfig(max_length=20, languages=("en",)))
    verdict = engine.assess("a" * 25)
    assert "too_long" in verdict.norms
    assert any(s.category == "too_long" and (s.start, s.end) == (20, 25) for s in verdict.spans)
    assert "too_long" not in engine.assess("a" * 20).norms


def test_helpline_allow_list_comes_from_the_config() -> None:
    engine = Engine(EngineConfig(languages=("en",), helplines=frozenset({"07700900123"})))
    assert "contact_info" not in engine.assess("call 07700 900123").norms
    assert "contact_info" in engine.assess("call 07700 900124").norms


def test_norm_spans_point_at_the_original_text() -> None:
    text = "mail me: jane at example dot com please"
    span = next(s for s in assess(text).spans if s.category == "contact_info")
    assert text[span.start : span.end] == "jane at example dot com"


_NORMS_DATA = default_engine()._norms.data
_DIGIT_GROUPS = st.lists(st.text("0123456789", min_size=1, max_size=4), max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=_DIGIT_GROUPS,
    prefix=st.sampled_from(["", "0", "1", "31", "33", "39", "44", "49"]),
    helpline=st.sampled_from(["", *sorted(_NORMS_DATA.helplines)]),
    separator=st.sampled_from([" ", "-", "", " / ", "."]),
    hint=st.sampled_from([None, *_NORMS_DATA.phone_regions]),
)
def test_a_number_judged_without_parsing_is_judged_as_every_region_would(
    groups: list[str], prefix: str, helpline: str, separator: str, hint: str | None
) -> None:
    """The suffix shortcut says "flagged" only where parsing region by region says so too.

    Numbers ending in a helpline's digits are generated on purpose: they are the ones
    a region may read as the helpline itself.
    """
    norms = default_engine()._norms
    text = separator.join(part for part in (prefix, *groups, helpline) if part)
    digits = digits_only(text)
    if norms._flagged_in_any_region(text, digits):
        assert norms._private_by_regions(text, digits, hint), (text, hint)


def test_the_parsing_shortcut_is_taken_for_ordinary_numbers_only() -> None:
    norms = default_engine()._norms
    for number in ("07700 900123", "0151 23456789", "612 345 678"):
        assert norms._flagged_in_any_region(number, digits_only(number)), number
    # A helpline's digits at the end, too few digits, or a date-like dot: parse.
    for number in ("0800 111 0 111", "030 116 123", "1234 567", "12.345.6789"):
        assert not norms._flagged_in_any_region(number, digits_only(number)), number


_CASED_NOISE = st.text(alphabet="aAbZ zÉéŁłŽžİß 1.!😂\u0130\u01c5", max_size=60)


@settings(max_examples=500, deadline=None)
@given(text=_CASED_NOISE)
def test_shouting_is_counted_over_every_cased_letter(text: str) -> None:
    """The early way out (capitals counted in ASCII first) never changes the answer."""
    norms = default_engine()._norms
    upper = sum(map(str.isupper, text))
    cased = upper + sum(map(str.islower, text))
    expected = (
        cased >= norms.shouting_min_letters
        and upper >= norms.shouting_ratio * cased
        and text.lower() != text
    )
    assert norms.is_shouting(text) is expected


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["jane", " at ", "(at)", " malpa ", "dot", ".", "kropka", "x", " "]),
        max_size=8,
    ),
    hyperscan=st.booleans(),
)
def test_spelled_out_addresses_are_looked_for_with_or_without_hyperscan(
    words: list[str], hyperscan: bool
) -> None:
    from moderation.engine import norms as norms_module

    low = f" {''.join(words)} "
    expected = any(t in low for t in norms_module._DOT_TOKENS) and any(
        h in low for h in norms_module._AT_HINTS
    )
    finder, shortest = norms_module._AT_OR_DOT, norms_module._AT_OR_DOT_MIN_LENGTH
    try:
        if hyperscan:
            norms_module._AT_OR_DOT_MIN_LENGTH = 0
        else:
            norms_module._AT_OR_DOT = None
        assert norms_module._has_at_and_dot(low) is expected
    finally:
        norms_module._AT_OR_DOT, norms_module._AT_OR_DOT_MIN_LENGTH = finder, shortest
