"""Normalisation: each obfuscation folds to the plain form, and offsets map back."""

import random
import re

import pytest

from moderation.engine import assess, normalise, normalise_light, normalize
from moderation.engine.normalize import _unleet_text, _unleet_token, fold_pattern_literal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I WANT TO DIE", "i want to die"),  # case fold
        (
            "\uff4b\uff49\uff4c\uff4c \uff4d\uff59\uff53\uff45\uff4c\uff46",
            "kil myself",
        ),  # full-width (NFKC)
        ("kill\u200bmyself", "kilmyself"),  # zero-width space removed
        ("kill\u202emyself", "kilmyself"),  # bidi control removed
        ("\u0455u\u0456\u0441\u0456d\u0435", "suicide"),  # Cyrillic look-alikes
        ("\u039a\u0399LL", "kil"),  # Greek capitals
        ("k1ll mys3lf", "kil myself"),  # leetspeak digits
        ("$uicide", "suicide"),  # leetspeak symbol
        ("k!ll", "kil"),  # "!" inside a word is a letter
        ("help!", "help."),  # "!" at the end is punctuation
        ("k i l l  m y s e l f", "kilmyself"),  # letters split by spaces
        ("s.u.i.c.i.d.e", "suicide"),  # letters split by dots
        ("c-u-t", "cut"),  # letters split by hyphens
        ("dieeeeee", "die"),  # repeated letters squeezed
        ("zabiję się", "zabije sie"),  # diacritics stripped
        ("Straße", "strase"),  # ß folds to ss, then squeezed
        ("łza", "lza"),  # ł has no decomposition: table fold
        ("I'm", "i m"),  # apostrophe is a word gap
        ("self-harm", "self harm"),  # hyphen is a word gap
        ("🔪\ufe0f🏽", "🔪"),  # variation selector and skin tone dropped
    ],
)
def test_obfuscation_folds_to_plain_text(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


@pytest.mark.parametrize(
    "raw",
    ["I took 30 pills at 3am", "call 116 123", "10mg", "it was 2019", "100pills"],
)
def test_numbers_are_not_leetspeak(raw: str) -> None:
    digits = [c for c in raw if c.isdigit()]
    assert [c for c in normalise(raw).text if c.isdigit()] == digits


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("so... I want to DIEEEE tonight", "want to DIEEEE"),
        ("ok k i l l  m y s e l f", "k i l l  m y s e l f"),
        ("\uff29 want to \uff44\uff49\uff45", "want to \uff44\uff49\uff45"),
        ("i w\u200bant to die", "w\u200bant to die"),
        ("Straße: ich will sterben", "ich will sterben"),
        (
            "\u0455u\u0456\u0441\u0456d\u0435 is the only way out",
            "\u0455u\u0456\u0441\u0456d\u0435 is the only way out",
        ),
    ],
)
def test_span_maps_back_to_original_text(raw: str, needle: str) -> None:
    verdict = assess(raw)
    crisis = [s for s in verdict.spans if s.category in verdict.categories]
    assert crisis, verdict
    assert any(raw[s.start : s.end] == needle for s in crisis), [
        raw[s.start : s.end] for s in crisis
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 1), (0, 5), (3, 9), (2, 2)],
)
def test_to_original_is_monotonic_and_in_range(start: int, end: int) -> None:
    raw = "\uff2b\uff49\uff4c\uff4c  mmmyyy   \u0455elf"
    norm = normalise(raw)
    s, e = norm.to_original(start, min(end, len(norm.text)))
    assert 0 <= s <= e <= len(raw)


def test_light_form_keeps_digits_and_case() -> None:
    light = normalise_light("Call \uff10\uff17\uff17\uff10\uff10\u200b 900123 NOW")
    assert light.text == "Call 07700 900123 NOW"
    start = light.text.index("07700")
    assert light.to_original(start, start + 5) == (5, 10)


@pytest.mark.parametrize(
    ("pattern", "folded"),
    [
        ("i want to die", "i[ ]want ?to ?die"),
        ("kill myself", "kil ?myself"),
        ("zabiję się", "zabije ?sie"),
        ("(i'm)", "(?:i ?m)"),
        ("[0-9]+ pills", "[0-9]+[ ]pils"),
    ],
)
def test_patterns_fold_like_text(pattern: str, folded: str) -> None:
    assert fold_pattern_literal(pattern) == folded


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("k1ll 3am h3lp! ok", "kil 3am help. ok"),  # only tokens where a letter touches leet
        ("call 07700 900123 or k1ll", "cal 07700 900123 or kil"),  # numbers stay numbers
        ("x1y2 hello w0rld!", "xiy2 helo world."),  # the whole token folds, "2" is no leet
        ("wh3re@re you", "whereare you"),  # "@" inside a token is a letter
        ("a!b !c d!", "aib ic d."),
        ("oo0oo 55s", "o 55s"),
    ],
)
def test_leetspeak_folds_whole_tokens(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


# The token regex the hint-driven folding replaced (a lookahead at every token start).
_LEET_TOKEN_REFERENCE = re.compile(
    r"(?<![\w@$!])(?=[\w@$!]*?(?:[^\W\d_][0134579@$!]|[0134579@$][^\W\d_]|![^\W\d_]))"
    r"[\w@$!]+"
)


def test_leetspeak_folding_matches_the_token_regex() -> None:
    rng = random.Random(3)
    alphabet = [*"aeiklmsxz  .,-_*!?@$0123456789", "é", "ł", "²", "😂", "\n"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        expected = _LEET_TOKEN_REFERENCE.sub(lambda m: _unleet_token(m.group()), text)
        assert _unleet_text(text) == expected, text


def test_every_run_of_a_repeated_letter_is_squeezed_the_same_with_or_without_hints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long texts squeeze the letters one Hyperscan pass found doubled; short ones all letters.

    Both ways give the same text and the same offsets, on every text.
    """
    assert normalize._HINTS is not None
    rng = random.Random(11)
    alphabet = [*"aabcdlloszz  .,", "é", "ł", "ß", "😂", "\ud800", "l1"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    monkeypatch.setattr(normalize, "_HINTS_MIN_LENGTH", 0)
    hinted = [normalise(text) for text in texts]
    monkeypatch.setattr(normalize, "_HINTS", None)
    for text, norm in zip(texts, hinted, strict=True):
        plain = normalise(text)
        assert norm.text == plain.text, text
        assert not re.search(r"([^\W\d_])\1", norm.text), text
        spans = [(i, j) for i in range(len(norm.text)) for j in (i + 1, len(norm.text))]
        assert [norm.to_original(*span) for span in spans] == [
            plain.to_original(*span) for span in spans
        ], text
        assert norm.to_original(0, len(norm.text)) == (0, len(text)), text


@pytest.mark.parametrize(
    ("raw", "squeezed"),
    [("ééé aa łłł ßß", "e a l s"), ("zażółć ﬁx\u200bed", "zazolc fixed"), ("déjà vu", "deja vu")],
)
def test_accented_text_folds_and_maps_back_whole(raw: str, squeezed: str) -> None:
    norm = normalise(raw)
    assert norm.text == squeezed
    assert norm.to_original(0, len(norm.text)) == (0, len(raw))


def test_light_form_of_accented_text_is_the_text() -> None:
    light = normalise_light("zażółć gęślą jaźń 07700 900123")
    assert light.text == "zażółć gęślą jaźń 07700 900123"
    assert light.to_original(18, 30) == (18, 30)
    folded = normalise_light("zażółć ﬁx\u200bed \uff10\uff17\uff17")
    assert folded.text == "zażółć fixed 077"
    assert folded.to_original(7, 12) == (7, 12)  # "ﬁ", "x", a zero-width space, "ed"
    assert folded.to_original(13, 16) == (13, 16)


def test_collapsed_runs_map_back_to_the_whole_run() -> None:
    """Each character of the match form maps to the run it stands for, in order."""
    rng = random.Random(17)
    for _ in range(2000):
        words = rng.choices(["ab", "aab", "abba", "cc", "abc", "bcccb", "aa"], k=rng.randint(1, 8))
        text = "".join(word + " " * rng.randint(1, 3) for word in words)
        norm = normalise(text)
        runs = [m.span() for m in re.finditer(r"([a-z])\1*| +", text)]
        assert len(runs) == len(norm.text), text
        for i, (start, end) in enumerate(runs):
            assert norm.to_original(i, i + 1) == (start, end), (text, i)
        for i in range(len(norm.text) + 1):
            for j in range(i + 1, len(norm.text) + 1):
                assert norm.to_original(i, j) == (runs[i][0], runs[j - 1][1]), (text, i, j)


@pytest.mark.parametrize("hint", ["_SPLIT_HINT", "_LEET_HINT"])
def test_the_hyperscan_hints_report_every_text_the_regex_hints_match(hint: str) -> None:
    """A hint Hyperscan does not report is never looked for again: it must not miss."""
    pattern = getattr(normalize, hint)
    index = normalize._SPLIT_FOUND if hint == "_SPLIT_HINT" else normalize._LEET_FOUND
    rng = random.Random(23)
    alphabet = [*"ab1!@$_ 3. -*0", "é", "ł", "²", "😂", "ß", "A"]
    matched = 0
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        assert normalize._HINTS is not None
        found = normalize._HINTS.found(text)
        assert found is not None
        if pattern.search(text):
            matched += 1
            assert index in found, text
    assert matched > 300


def test_leetspeak_in_letters_split_by_spaces_is_folded_after_joining() -> None:
    assert normalise("k 1 l l myself").text == normalise("kill myself").text


def test_long_texts_fold_in_stretches_exactly_as_character_by_character() -> None:
    rng = random.Random(29)
    sparse = [*"abc de. ABC," * 4, "é", "Ł"]
    dense = [*"ab ", "ż", "ó", "ł", "ć", "ß", "Ω", "ﬁ", "\u200b", "😂", "\ud800", "İ"]
    for _ in range(400):
        alphabet = rng.choice([sparse, dense, sparse + dense])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(150, 600)))
        if text.isascii():
            continue
        assert normalize._fold(text) == text.translate(normalize._FOLD_TABLE), text
