"""Lexicon files: they load, their examples are covered, bad files fail clearly."""

import shutil
from pathlib import Path

import pytest

from moderation.engine import (
    Engine,
    EngineConfig,
    Lexicon,
    LexiconError,
    Rule,
    Tier,
    assess,
    default_engine,
    load_lexicons,
)
from moderation.engine.cache import CompileCache
from moderation.engine.lexicon import DEFAULT_LEXICON_DIR, Matcher, parse_lexicon

LANGUAGES = {"en", "de", "fr", "es", "it", "pl", "cs", "ro", "nl", "pt", "xx"}


def test_every_language_has_a_lexicon() -> None:
    assert {lexicon.lang for lexicon in load_lexicons(DEFAULT_LEXICON_DIR)} == LANGUAGES


def _rules_with_examples() -> list[Rule]:
    return [r for r in default_engine().rules if r.examples or r.counter_examples]


def _covers(rule: Rule, hit: Rule) -> bool:
    """Return True when ``hit`` says what ``rule`` says (same kind and category, tier as high)."""
    if hit.kind != rule.kind or hit.category != rule.category:
        return False
    return rule.kind != "signal" or hit.tier >= rule.tier


@pytest.mark.parametrize("rule", _rules_with_examples(), ids=lambda r: r.id)
def test_lexicon_examples_are_matched(rule: Rule) -> None:
    engine = default_engine()
    by_id = {r.id: r for r in engine.rules}
    for example in rule.examples:
        hits = [by_id[i] for i in engine.match_rule_ids(example)]
        assert any(_covers(rule, hit) for hit in hits), (example, [h.id for h in hits])
    for example in rule.counter_examples:
        assert rule.id not in engine.match_rule_ids(example), example


def test_rule_ids_are_prefixed_with_their_language() -> None:
    assert all(r.id.split(".", 1)[0] == r.lang for r in default_engine().rules)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"lang": "english"}, "two-letter code"),
        ({"lang": "en", "signal": [{"id": "x", "patterns": ["a"]}]}, "category"),
        (
            {
                "lang": "en",
                "signal": [{"id": "x", "category": "suicide", "tier": "urgent", "patterns": ["a"]}],
            },
            "tier",
        ),
        ({"lang": "en", "cue": [{"id": "x", "kind": "weather", "patterns": ["a"]}]}, "kind"),
        ({"lang": "en", "norm": [{"id": "x", "norm": "abuse", "patterns": []}]}, "at least one"),
        (
            {"lang": "en", "norm": [{"id": "x", "norm": "abuse", "patterns": ["a"], "oops": 1}]},
            "unknown keys",
        ),
    ],
)
def test_malformed_lexicons_are_rejected_with_the_reason(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(data)


def test_a_bad_regex_names_its_rule() -> None:
    lexicon = parse_lexicon(
        {
            "lang": "en",
            "signal": [
                {"id": "bad", "category": "suicide", "tier": "high", "patterns": ["(unclosed"]}
            ],
        }
    )
    # Reported when the matcher compiles: when an engine with a cache is built, in
    # prepare() (as default_engine() does), or on first use of a lazily built one.
    with pytest.raises(LexiconError, match=r"en\.bad"):
        Matcher(lexicon.rules).prepare()
    with pytest.raises(LexiconError, match=r"en\.bad"):
        Engine(EngineConfig(lexicons=(lexicon,))).prepare()
    with pytest.raises(LexiconError, match=r"en\.bad"):
        Engine(EngineConfig(lexicons=(lexicon,), gated_scans=False))  # the prefilter's anchors


def test_engine_can_be_built_from_loaded_lexicons() -> None:
    lexicon = parse_lexicon(
        {
            "lang": "en",
            "signal": [
                {
                    "id": "suicide.test",
                    "category": "suicide",
                    "tier": "high",
                    "patterns": ["blue whale"],
                }
            ],
        }
    )
    engine = Engine(EngineConfig(lexicons=(lexicon,)))
    verdict = engine.assess("the BLUE  whale challenge")
    assert verdict.tier is Tier.HIGH
    assert verdict.rules == ("en.suicide.test",)


def test_compile_cache_gives_the_same_verdicts(tmp_path: Path) -> None:
    texts = ["I want to die tonight", "ich lach mich tot", "call 07700 900123", "kms"]
    plain = Engine(EngineConfig(languages=("en", "de")))
    cold = Engine(EngineConfig(languages=("en", "de"), cache_dir=tmp_path))
    warm = Engine(EngineConfig(languages=("en", "de"), cache_dir=tmp_path))
    assert any(tmp_path.iterdir())
    for text in texts:
        assert plain.assess(text) == cold.assess(text) == warm.assess(text)


def test_parsed_lexicon_files_are_cached_by_their_bytes(tmp_path: Path) -> None:
    lexicon_dir = tmp_path / "lexicons"
    shutil.copytree(DEFAULT_LEXICON_DIR, lexicon_dir)
    cache = CompileCache(tmp_path / "cache")
    parsed = load_lexicons(lexicon_dir, ("en",))
    assert load_lexicons(lexicon_dir, ("en",), cache) == parsed
    assert len(list((tmp_path / "cache").glob("*.toml.marshal"))) == 2  # en and xx
    assert load_lexicons(lexicon_dir, ("en",), cache) == parsed  # read back
    # An edited file is parsed again, not served from the cache.
    english = lexicon_dir / "en.toml"
    english.write_text(
        english.read_text("utf-8") + '\n[[signal]]\nid = "cache_probe"\ncategory = "suicide"\n'
        'tier = "high"\npatterns = ["zzyzx forever"]\n',
        "utf-8",
    )
    edited = load_lexicons(lexicon_dir, ("en",), cache)
    assert edited != parsed
    assert "en.cache_probe" in {rule.id for lexicon in edited for rule in lexicon.rules}


def test_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    Engine(EngineConfig(languages=("en",), cache_dir=tmp_path))
    for path in tmp_path.iterdir():
        path.write_bytes(b"garbage")
    engine = Engine(EngineConfig(languages=("en",), cache_dir=tmp_path))
    assert engine.assess("I want to die").tier is Tier.HIGH


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("i want to die now", "en.imminent_now"),  # the imminent wording wins at one place
        ("i want to die later", "en.high_die"),
        ("i want to sleep", "en.concern_want"),
        ("so tired of it", "en.concern_tired"),
    ],
)
def test_tiers_sharing_a_first_letter_keep_their_order(text: str, rule_id: str) -> None:
    def signal(local_id: str, tier: str, pattern: str) -> dict[str, object]:
        return {"id": local_id, "category": "suicide", "tier": tier, "patterns": [pattern]}

    lexicon = parse_lexicon(
        {
            "lang": "en",
            "signal": [
                signal("concern_want", "concern", "i want(?: to \\w+)?"),
                signal("concern_tired", "concern", "(?:so )?tired of it"),
                signal("high_die", "high", "i want to die"),
                signal("imminent_now", "imminent", "i want to die now"),
            ],
        }
    )
    assert [h.rule.id for h in Matcher(lexicon.rules).finditer(text)] == [rule_id]


def _lexicon_with_spellings(spellings: object, patterns: list[str]) -> Lexicon:
    return parse_lexicon(
        {
            "lang": "en",
            "spellings": spellings,
            "signal": [
                {"id": "t", "category": "suicide", "tier": "high", "patterns": patterns},
            ],
        }
    )


def test_spellings_widen_listed_words_where_they_stand_as_literal_words() -> None:
    lexicon = _lexicon_with_spellings(
        {"suicide": ["suiside", "sucide"], "myself": ["myslef"]},
        [
            "(?:commit|committing) suicide",
            "kill myself",
            "suicide?",  # a quantifier would apply to the group: left alone
            "[suicide]+",  # a class
            "suicides",  # a longer word
            "\\bsuicide",  # after a backslash (an escape's letter)
        ],
    )
    assert lexicon.rules[0].patterns == (
        "(?:commit|committing) (?:suicide|suiside|sucide)",
        "kill (?:myself|myslef)",
        "suicide?",
        "[suicide]+",
        "suicides",
        "\\bsuicide",
    )
    engine = Engine(EngineConfig(lexicons=(lexicon,), gated_scans=False))
    assert engine.assess("thinking of committing sucide").tier is Tier.HIGH
    assert engine.assess("gonna kill myslef").tier is Tier.HIGH
    assert engine.assess("kill mysel").tier is Tier.NONE


@pytest.mark.parametrize(
    "spellings",
    [
        ["suiside"],  # not a table
        {"Suicide": ["suiside"]},  # not lower case
        {"suicide": "suiside"},  # not a list
        {"suicide": []},  # empty
        {"suicide": ["sui side"]},  # not one word
        {"kill myself": ["kms"]},  # the key is not one word
    ],
)
def test_a_bad_spellings_table_is_an_error(spellings: object) -> None:
    with pytest.raises(LexiconError, match="spellings"):
        _lexicon_with_spellings(spellings, ["suicide"])


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("i keep thinking about suiside", Tier.HIGH),
        ("im so sucidal tonight", Tier.IMMINENT),
        ("i want to dye my hair blue", Tier.NONE),  # "dye" is a word: not a misspelling
        ("suicide squad was a fun movie", Tier.NONE),
    ],
)
def test_the_bundled_english_spellings(text: str, tier: Tier) -> None:
    assert assess(text).tier is tier


def test_sets_are_named_in_patterns_and_shared_by_the_common_lexicon(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_text(
        'lang = "xx"\n[sets]\ndrugs = ["lithium", "sleeping pills"]\n', "utf-8"
    )
    (tmp_path / "en.toml").write_text(
        'lang = "en"\n[sets]\nhow = ["swallowed", "took"]\n'
        '[[signal]]\nid = "attempt"\ncategory = "suicide"\ntier = "imminent"\n'
        'patterns = ["i {how} all (?:my|the) {drugs}"]\n',
        "utf-8",
    )
    lexicons = load_lexicons(tmp_path)
    assert [lexicon.lang for lexicon in lexicons] == ["en", "xx"]
    (rule,) = lexicons[0].rules
    assert rule.patterns == ("i (?:swallowed|took) all (?:my|the) (?:lithium|sleeping pills)",)
    engine = Engine(EngineConfig(lexicons=lexicons, gated_scans=False))
    assert engine.assess("i took all my sleepingpills").tier is Tier.IMMINENT


@pytest.mark.parametrize(
    ("sets", "pattern", "error"),
    [
        ({}, "took {drugs}", "unknown set {drugs}"),
        ({"Drugs": ["x"]}, "x", "lower-case"),
        ({"drugs": []}, "x", "non-empty"),
        ({"drugs": "lithium"}, "x", "non-empty"),
        (["lithium"], "x", r"\[sets\] must be a table"),
    ],
)
def test_bad_sets_are_errors(sets: object, pattern: str, error: str) -> None:
    data = {
        "lang": "en",
        "sets": sets,
        "signal": [{"id": "t", "category": "suicide", "tier": "high", "patterns": [pattern]}],
    }
    with pytest.raises(LexiconError, match=error):
        parse_lexicon(data)
