"""The Hyperscan gate: it only skips searches, so every hit and verdict stays the same."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from moderation.engine import Engine, EngineConfig, default_engine, parse_eval_file
from moderation.engine import gate as gate_module
from moderation.engine.gate import Gate, GatePattern, Untranslatable, build_gate, translate
from moderation.engine.lexicon import Matcher, Rule
from moderation.engine.normalize import normalise

ROOT = Path(__file__).resolve().parents[2]
EVAL_FILE = ROOT / "tests" / "data" / "crisis_eval.tsv"

# Letters, word gaps, leetspeak, accented and non-Latin letters, emoji, invisible
# and non-breaking spaces: what the normaliser lets through and what it folds.
NOISE = "abcdeilmnorstuwyz  .,'-013@$!éßçøłžčřąę💊🙂\u200b\u00a0\u0391\u0399"  # Greek Alpha, Iota


@pytest.fixture(scope="module")
def plain() -> Engine:
    engine = Engine(EngineConfig(gated_scans=False))
    engine.prepare()
    return engine


def _texts(engine: Engine) -> list[str]:
    rows, errors = parse_eval_file(EVAL_FILE)
    assert errors == []
    texts = [row.text for row in rows]
    examples = [t for rule in engine.rules for t in (*rule.examples, *rule.counter_examples)]
    for text in examples:
        # Upper-cased, after emoji (multi-byte: offsets differ from Hyperscan's),
        # next to a phone number and a spelled-out e-mail address.
        texts += [text, text.upper(), f"🙂 {text} 💊", f"07700 900123 {text} bob at gmail dot com"]
    rng = random.Random(5)
    for _ in range(1500):
        words = [
            rng.choice(examples)
            if rng.random() < 0.4
            else "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 20)))
            for _ in range(rng.randint(1, 12))
        ]
        texts.append(" ".join(words))
    return texts


def _check_gate(gate: Gate, pattern: re.Pattern[str], text: str) -> None:
    """Every place where ``pattern`` matches is reported; the gated scan finds the same."""
    reported = gate.starts(text)
    assert reported is not None
    starts = [p for p in range(len(text) + 1) if pattern.match(text, p)]
    assert set(starts) <= set(reported), (pattern.pattern, text)
    assert [m.span() for m in gate.finditer(pattern, text)] == [
        m.span() for m in pattern.finditer(text)
    ]


def _hits(matcher: Matcher, text: str) -> list[tuple[str, int, int]]:
    return [(h.rule.id, h.start, h.end) for h in matcher.finditer(text)]


def test_gated_scans_find_what_plain_scans_find(plain: Engine) -> None:
    gated = default_engine()
    assert all(m._compiled().gate is not None for m in gated._bits if m.gated)
    texts = _texts(plain)
    assert len(texts) > 4000
    for text in texts:
        assert gated.assess(text) == plain.assess(text), text
        normal = normalise(text).text
        # Every matcher, prefilter or not: the gate alone decides where re searches.
        for fast, slow in zip(gated._bits, plain._bits, strict=True):
            assert _hits(fast, normal) == _hits(slow, normal), (text, fast.rules[0].kind)


@pytest.mark.parametrize(
    ("source", "word_start", "word_end"),
    [
        (r"kil+ (?:my ?self|me)", True, True),
        (r"sebevrazd\w*", True, False),
        (r"(?<!\w)\d{2,} ?mg(?!\w)", False, False),
        (r"\bbye(?:,?[ ]\w+){0,3}[ ]fore?ver", True, True),
        (r"[^\W\d]+ ?💊", False, False),
        (r"(?:za ?hodinu|[0-9]+[ ]minut)", True, True),
        (r"no(?! ?longer) ?[^ ]{2,4}", True, True),
        (r"[\s\w]{3}x", True, True),
        (r"é[^a-z]t", True, True),  # non-ASCII edge: no \b in Hyperscan
        (r"(?:ha){2,}?", True, True),
        (r"(?:a|ž)bc(?:d|é)?", True, True),  # a branch and an optional part at the edges
        (r"x(?:yz)*", True, True),
    ],
)
def test_every_place_a_pattern_matches_is_reported_by_its_gate(
    source: str, word_start: bool, word_end: bool
) -> None:
    # The regex as a matcher runs it: \b before, (?!\w) after, where the flags say.
    pattern = re.compile(
        ("\\b(?:" if word_start else "(?:") + source + (")(?!\\w)" if word_end else ")")
    )
    gate = build_gate([GatePattern(source, word_start, word_end)])
    assert gate is not None
    rng = random.Random(source)
    alphabet = NOISE + "kilmysebvrazd 0123456789 mg bye forever zahodinu minut haxéžabcd\u2003\x1c"
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        if rng.random() < 0.5:  # plant a likely match
            cut = rng.randint(0, len(text))
            sample = rng.choice(["kill myself", "sebevrazdou", "20 mg", "bye a b forever", "žbcé"])
            edge = rng.choice(["", " ", "a", "é"])  # what the word edges see
            text = text[:cut] + edge + sample + edge + text[cut:]
        _check_gate(gate, pattern, text)


def test_word_edges_are_kept_only_next_to_ascii_word_characters() -> None:
    # Expressions are reversed: a word start is their end, a word end their start.
    assert translate(GatePattern("kil", True, False)).expression.endswith("\\b")
    assert translate(GatePattern("kil", False, True)).expression.startswith("\\b")
    assert not translate(GatePattern("(?:a|ž)bc", True, False)).expression.endswith("\\b")
    assert not translate(GatePattern("abc ?💊", True, True)).expression.startswith("\\b")
    # The repeat may match nothing; then the match ends with "x": still a word character.
    assert translate(GatePattern("x(?:yz)*", True, True)).expression.startswith("\\b")
    assert not translate(GatePattern("x(?:y|-)*", True, True)).expression.startswith("\\b")


@pytest.mark.parametrize(
    "source",
    [
        r"(?<![\w.])[\w+-]{2,}\s*(?:at|małpa)\s*[\w-]+\s*(?:dot|\.)\s*(?P<tld>[a-z]{2,6})(?![\w/])",
        r"\b(?:https?://|www\.)[^\s<>\"']+",
        "[^a-z]{2}\u017fk",  # long s
        r"[k-mß]+i",
    ],
)
def test_a_case_insensitive_gate_reports_every_case(source: str) -> None:
    pattern = re.compile(source, re.IGNORECASE)
    gate = build_gate([source], flags=re.IGNORECASE)
    assert gate is not None
    rng = random.Random(source)
    # Both cases, and the characters re.IGNORECASE equates with ASCII letters.
    alphabet = "aAtTkKsSiIlLmMpP.  /-:wWhHpPsS" + "\u0130\u0131\u017f\u212aßẞŁłéÉ"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.5:
            cut = rng.randint(0, len(text))
            sample = rng.choice(
                ["bob AT MAIL DOT COM", "jan MAŁPA wp.PL", "HTTPS://x", "lK\u212aI"]
            )
            text = text[:cut] + sample + text[cut:]
        _check_gate(gate, pattern, text)


CONTACT_BITS = [
    "bob at gmail dot com",
    "Jan (at) WP [dot] pl",
    "ana arroba correo punto es",
    "jan małpa wp kropka pl",
    "x.y@mail.example.org",
    "see example.org/page",
    "www.Example.COM",
    "https://t.me/someone",
    "@handle_name",
    "07700 900123",
    "+44 7700 900123",
    "call 116 123",
    "I was at work. my boss",
    "at home. it was ok",
    "whatever.com",
    "formatted.de",
]


def test_gated_norm_checks_find_what_plain_ones_find(plain: Engine) -> None:
    gated = default_engine()._norms
    assert len(gated._gates) == 4
    rng = random.Random(11)
    for _ in range(3000):
        parts = [
            rng.choice(CONTACT_BITS)
            if rng.random() < 0.5
            else "".join(rng.choice(NOISE + "ATDOTKß.:/") for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 8))
        ]
        text = rng.choice([" ", ", ", ". ", ""]).join(parts)
        assert gated.check(text) == plain._norms.check(text), text


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (r"(a)b\1", "back-reference"),
        (r"(?i:help) me", "inline flag"),
        (r"(?s)a.b", "dot matches newline"),
        (r"x*", "empty match"),
    ],
)
def test_patterns_the_gate_cannot_translate_are_refused(source: str, reason: str) -> None:
    with pytest.raises(Untranslatable):
        translate(source)
    assert build_gate([source, "help"]) is None, reason


def test_a_matcher_with_an_untranslatable_pattern_still_finds_everything() -> None:
    rule = Rule(
        id="en.test.laugh",
        lang="en",
        kind="signal",
        category="distress",
        patterns=(r"help me", r"(?:ha)*"),  # the second may match nothing
    )
    matcher = Matcher([rule], gated=True)
    assert matcher._compiled().gate is None
    assert _hits(matcher, "help help me hahaha") == [
        ("en.test.laugh", 5, 12),
        ("en.test.laugh", 13, 19),
    ]


def test_text_that_is_not_utf8_is_scanned_without_the_gate() -> None:
    gate = build_gate(["kil myself"])
    assert gate is not None
    text = "i want to kil myself \ud800 now"
    assert gate.starts(text) is None
    assert gate.starts("i want to kil myself now") == [10]
    pattern = re.compile("kil myself")
    assert [m.span() for m in gate.finditer(pattern, text)] == [(10, 20)]


def test_a_gated_matcher_tries_every_place_when_the_gate_cannot_read_the_text(
    plain: Engine,
) -> None:
    """Lone surrogates are not UTF-8: the gate cannot scan such a text (matchers are
    given one only directly; the match form has U+FFFD in their place)."""
    gated = default_engine()
    texts = [
        "i want to kil myself \ud800 now",
        "\udfff ich wil nicht mehr leben 💊💊 tonight, cal 07700 900123 \ud800",
    ]
    for text in texts:
        assert gated._signals._compiled().gate.starts(text) is None  # type: ignore[union-attr]
        assert _hits(gated._signals, text)
        for fast, slow in zip(gated._bits, plain._bits, strict=True):
            assert _hits(fast, text) == _hits(slow, text), (text, fast.rules[0].kind)


def test_lone_surrogates_become_replacement_characters_in_the_match_form(plain: Engine) -> None:
    gated = default_engine()
    text = "\udfff ich will nicht mehr leben 💊💊 tonight, call 07700 900123 \ud800"
    norm = normalise(text)
    assert "\ufffd" in norm.text and not any("\ud800" <= c <= "\udfff" for c in norm.text)
    assert gated._signals._compiled().gate.starts(norm.text) is not None  # type: ignore[union-attr]
    assert gated.assess(text) == plain.assess(text)
    assert gated.assess(text).tier.value in ("high", "imminent")


def _rule(rule_id: str, *patterns: str, boundary: bool = True) -> Rule:
    return Rule(
        id=rule_id,
        lang="en",
        kind="signal",
        category="suicide",
        patterns=patterns,
        boundary=boundary,
    )


def test_alternatives_that_start_with_a_class_are_tried_at_every_first_character() -> None:
    """A matcher runs one regex per first character; a class or gap first goes in all of them."""
    rules = [
        _rule("en.test.class", r"[kc]il+ me", r" ?\w+ pills"),
        _rule("en.test.word", r"kys", r"cut(?:ting)? deep"),
        _rule("en.test.emoji", r"💊+", boundary=False),
    ]
    gated = Matcher(rules, gated=True)
    whole = Matcher(rules, gated=False)
    program = gated._compiled()
    assert program.gate is not None and program.full is None
    assert set(program.by_first) >= {"k", "c"}
    for text in ("kill me", "cill me 💊💊 kys", "cutting deep and 30 pills", "xkys kysx, k 💊"):
        normal = normalise(text).text
        assert _hits(gated, normal) == _hits(whole, normal), text
        assert _hits(gated, normal), text


def test_threads_scanning_at_once_each_get_their_own_results() -> None:
    engine = default_engine()
    matcher = engine._signals
    texts = [normalise(t).text for t in _texts(engine)[:3000]]
    expected = [_hits(matcher, t) for t in texts]
    failures: list[str] = []

    def work(offset: int) -> None:
        for index in range(offset, len(texts), 4):
            if _hits(matcher, texts[index]) != expected[index]:
                failures.append(texts[index])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_stored_gate_is_reused_and_a_damaged_one_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EngineConfig(languages=("en",), cache_dir=tmp_path)
    cold = Engine(config)
    stored = sorted(tmp_path.glob("*.hs"))
    gated = [m for m in cold._bits if m.gated]
    gated += [m._digit_matcher for m in gated if m._digit_matcher is not None]
    # One database per gated matcher and one per gated norm check.
    assert len(gated) >= 4 and len(stored) == len(gated) + len(cold._norms._gates)
    text = "i want to kill myself tonight, call me on 07700 900123"
    verdict = cold.assess(text)
    assert verdict.tier.value == "imminent"

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gate should come from the cache")

    monkeypatch.setattr(gate_module, "_compile", no_compiling)
    warm = Engine(config)
    assert all(m._compiled().gate is not None for m in warm._bits if m.gated)
    assert len(warm._norms._gates) == 4
    assert warm.assess(text) == verdict

    monkeypatch.undo()
    for path in stored:
        path.write_bytes(path.read_bytes()[:100])  # truncated
    rebuilt = Engine(config)
    assert all(m._compiled().gate is not None for m in rebuilt._bits if m.gated)
    assert rebuilt.assess(text) == verdict


def test_without_hyperscan_the_engine_scans_with_re_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = EngineConfig(languages=("en", "de"))
    gated = Engine(config)
    monkeypatch.setattr(gate_module, "_HS", None)
    engine = Engine(config)
    assert all(m._compiled().gate is None for m in engine._bits)
    for text, tier in [
        ("I just want to die", "high"),
        ("ich habe alle tabletten genommen", "imminent"),
        ("this homework is killing me", "none"),
    ]:
        assert engine.assess(text).tier.value == tier
        assert engine.assess(text) == gated.assess(text)


def test_a_lazy_engine_compiles_the_norm_gates_on_first_use() -> None:
    engine = Engine(EngineConfig())
    assert engine._norms._gates is None
    assert "contact_info" in engine.assess("mail jan at gmail dot com").norms
    assert engine._norms._gates is not None and len(engine._norms._gates) == 4


def test_a_pattern_too_long_for_hyperscan_is_gated_by_its_beginning() -> None:
    # Hyperscan refuses expressions over 16,000 bytes; before, one such pattern (a
    # word list set out twice) cost its whole matcher the gate.
    words = "|".join(f"w{i:04d}x" for i in range(1200))
    long_one = f"(?:took|swallowed) (?:all|a whole) (?:{words}) now"
    assert len(translate(long_one).expression) > 16_000
    beginning = translate(long_one, keep=1)
    assert len(beginning.expression) < 100
    gate = build_gate([long_one, "help me"])
    assert gate is not None
    pattern = re.compile(rf"\b(?:{long_one}|help me)")
    text = "i took all w0042x now. swallowed a whole w1199x now, help me, took all of it"
    assert [m.span() for m in gate.finditer(pattern, text)] == [
        m.span() for m in pattern.finditer(text)
    ]
    assert len(list(pattern.finditer(text))) == 3
