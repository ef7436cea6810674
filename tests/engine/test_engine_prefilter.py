"""The anchor prefilter: every rule is reachable through it, and it never hides a match."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.engine import (
    Engine,
    EngineConfig,
    Rule,
    default_engine,
    normalise,
    parse_eval_file,
)
from moderation.engine import gate as gate_module
from moderation.engine import lexicon as lexicon_module
from moderation.engine.anchors import render_anchors_file
from moderation.engine.lexicon import ANCHORS_FILE, _rule_anchors
from moderation.engine.normalize import fold_pattern_literal
from moderation.engine.prefilter import AnchorFilter, anchors_key, pattern_anchors, rule_anchors

EVAL_FILE = Path(__file__).resolve().parents[1] / "data" / "crisis_eval.tsv"


@pytest.mark.parametrize(
    ("pattern", "anchors"),
    [
        ("die", {" die "}),
        ("(?:want|wanna) ?to ?die", None),  # checked below: every string holds "die"
        ("[0-9]+ ?mg", set("0123456789")),  # a required digit is rarer than "mg"
        ("(?:ich ?)?ritze mich", {" ritze mich ", " ichritze mich "}),
        ("x*", None),
        ("(?:a|b*)c", {"c "}),
        ("\U0001f48a", {"\U0001f48a"}),
    ],
)
def test_pattern_anchors_are_literals_every_match_contains(
    pattern: str, anchors: set[str] | None
) -> None:
    found = pattern_anchors(pattern)
    if anchors is not None:
        assert found == anchors
    elif pattern == "x*":
        assert found is None
    else:
        assert found and all("die" in a for a in found)


def test_a_pattern_without_a_literal_has_no_anchor() -> None:
    assert pattern_anchors("[a-z]+") is None
    assert rule_anchors(["die", "\\w+"]) is None


def _rules() -> list[Rule]:
    return list(default_engine().rules)


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.id)
def test_every_rule_has_anchors(rule: Rule) -> None:
    # A rule without anchors would make its whole matcher run on every message.
    anchors = rule_anchors(
        (fold_pattern_literal(p) for p in rule.patterns),
        word_end=rule.boundary,
        prefer_digits=rule.needs_digit,
    )
    assert anchors, rule.id


@pytest.fixture(scope="module")
def ungated() -> Engine:
    # Only matchers without a Hyperscan gate are prefiltered.
    return Engine(EngineConfig(gated_scans=False))


def test_no_matcher_runs_on_every_message(ungated: Engine) -> None:
    assert all(m.anchors for m in ungated._bits)
    assert all(not m.gated for m in ungated._bits)


def test_gated_matchers_are_not_prefiltered() -> None:
    # Their gate says where they can match; the Aho-Corasick pass would only add to it.
    engine = default_engine()
    assert all(m.gated for m in engine._bits)
    everything = sum(engine._bits.values())
    assert engine._prefilter.candidates("the weather is nice") == everything


def test_without_hyperscan_every_matcher_is_prefiltered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_module, "_HS", None)
    engine = Engine(EngineConfig())
    assert not any(m.gated for m in engine._bits)
    assert engine._prefilter.candidates("ok") == 0
    assert engine.assess("I want to die tonight").tier.value == "imminent"


def _texts() -> list[str]:
    rows, _errors = parse_eval_file(EVAL_FILE)
    examples = [e for r in _rules() for e in (*r.examples, *r.counter_examples)]
    texts = [row.text for row in rows] + examples
    # Word edges next to emoji and other symbols take the prefilter's other path.
    return texts + [f"🙂{t}…" for t in examples] + [f"x:{t}" for t in examples]


def test_the_prefilter_never_hides_a_match(ungated: Engine) -> None:
    for text in _texts():
        direct = {h.rule.id for m in ungated._bits for h in m.finditer(normalise(text).text)}
        assert ungated.match_rule_ids(text) == direct, text


def test_every_rule_is_reachable_through_the_prefilter(ungated: Engine) -> None:
    reached: set[str] = set()
    for text in _texts():
        reached |= ungated.match_rule_ids(text)
    with_examples = {r.id for r in _rules() if r.examples}
    assert with_examples - reached == set()


class _Fixed:
    def __init__(self, anchors: frozenset[str] | None) -> None:
        self.anchors = anchors


@pytest.mark.parametrize(
    ("text", "mask"),
    [
        ("i want to die", 0b101),
        ("studied all night", 0b100),  # "die" inside a word is not a word start
        ("bye 💊", 0b110),
        ("see you", 0b100),
    ],
)
def test_anchor_filter_reports_the_matchers_that_may_match(text: str, mask: int) -> None:
    matchers = [_Fixed(frozenset({" die "})), _Fixed(frozenset({"💊"})), _Fixed(None)]
    assert AnchorFilter(matchers).candidates(text) == mask


def test_the_stored_anchors_are_up_to_date_with_the_lexicons() -> None:
    # Regenerate with: python -m moderation.engine.anchors
    assert ANCHORS_FILE.read_text("utf-8") == render_anchors_file()


def test_a_stored_entry_for_other_patterns_is_not_used() -> None:
    rule = Rule(id="en.test.die", lang="en", kind="signal", category="suicide", patterns=("die",))
    stale = {rule.id: {"key": "0" * 32, "anchors": ["never"]}}
    assert _rule_anchors(rule, stale) == {" die "}
    key = anchors_key(["die"], word_end=True, prefer_digits=False)
    assert _rule_anchors(rule, {rule.id: {"key": key, "anchors": ["stored"]}}) == {"stored"}


def test_the_default_engine_is_compiled_before_it_is_returned() -> None:
    # A crisis message must not wait for a matcher to compile: a fresh process,
    # without a compile cache, gets a fully compiled engine.
    code = (
        "from moderation.engine import default_engine\n"
        "engine = default_engine()\n"
        "digits = [m._digit_matcher for m in engine._bits if m._digit_matcher]\n"
        "matchers = [*engine._bits, *digits]\n"
        "gated = [m for m in matchers if m.gated]\n"
        "print(sum(m._program is None for m in matchers), len(matchers),\n"
        "      sum(m._program.gate is None for m in gated), len(gated))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PEERCHAT_ENGINE_CACHE_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=EVAL_FILE.parents[2],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    uncompiled, total, ungated, gated = map(int, result.stdout.split())
    assert total > 10 and uncompiled == 0
    # The crisis and norm scans are gated (see moderation/engine/gate.py).
    assert gated >= 4 and ungated == 0


def test_a_matcher_whose_gate_fails_is_prefiltered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if Hyperscan refused every matcher's patterns: the matchers keep working
    # without gates, and the prefilter covers them instead of none of them.
    monkeypatch.setattr(lexicon_module, "gate_for", lambda *args, **kwargs: None)
    engine = Engine(EngineConfig())
    assert all(m.gated for m in engine._bits)
    engine.prepare()
    assert not any(m.has_gate() for m in engine._bits)
    assert engine._prefilter.candidates("ok") == 0
    assert engine.assess("I want to die tonight").tier.value == "imminent"
