"""Load lexicon files and compile their rules into fast matchers.

A lexicon is a TOML file per language (see docs/moderation.md for the format).
Rules come in five kinds:

* ``signal``: crisis language with a category and a tier.
* ``cue``: a modifier that raises a signal's tier (``time``, ``possession``,
  ``dose``, ``means``), or on its own is at most a concern.
* ``norm``: a room-norm breach (``abuse``, ``contact_info``, ``link``).
* ``suppressor``: a stretch in which signals do not count (``idiom``, ``media``).
* ``context``: clause cues that qualify a signal nearby (``negation``,
  ``first_person``, ``third_person``, ``past``, ``hypothetical`` for reported
  questions, ``laughter`` for "lol"/"😂" right after the words).
"""

from __future__ import annotations

import functools
import json
import marshal
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, cast

from .cache import FORMAT_VERSION, CompileCache, digest
from .gate import Gate, GatePattern, gate_for, gates_available
from .normalize import (
    PatternError,
    _class_end,
    _group_end,
    fold_pattern_literal,
    split_top_level,
)
from .prefilter import Anchors, anchors_key, rule_anchors
from .types import CRISIS_CATEGORIES, Tier

RuleKind = Literal["signal", "cue", "norm", "suppressor", "context"]

CUE_KINDS: Final = frozenset({"time", "possession", "dose", "means", "plan", "farewell"})
SUPPRESSOR_KINDS: Final = frozenset({"idiom", "media"})
CONTEXT_KINDS: Final = frozenset(
    {"negation", "first_person", "third_person", "past", "hypothetical", "laughter"}
)
PERSONS: Final = frozenset({"any", "first", "other"})
LEXICON_NORMS: Final = frozenset({"abuse", "contact_info", "link"})

COMMON_LANG: Final = "xx"
"""Language code of the language-independent lexicon (slang, emoji)."""

DEFAULT_LEXICON_DIR: Final = Path(__file__).resolve().parent.parent / "lexicons"

_ID_RE = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
_SECTIONS: Final[dict[str, RuleKind]] = {
    "signal": "signal",
    "cue": "cue",
    "norm": "norm",
    "suppressor": "suppressor",
    "context": "context",
}


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One lexicon rule.

    ``category`` is the crisis category of a signal, the kind of a cue,
    suppressor or context rule, or the norm name of a norm rule.
    """

    id: str
    lang: str
    kind: RuleKind
    category: str
    patterns: tuple[str, ...]
    tier: Tier = Tier.NONE
    person: str = "any"
    boundary: bool = True
    method_detail: bool = False
    negatable: bool = True
    needs_digit: bool = False
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The rules of one language, as loaded from its file."""

    lang: str
    name: str
    rules: tuple[Rule, ...]
    source: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Its ``[sets]``: named lists of alternatives that patterns name as ``{name}``."""


def load_lexicon(
    path: Path,
    cache: CompileCache | None = None,
    *,
    shared_sets: Mapping[str, tuple[str, ...]] | None = None,
) -> Lexicon:
    """Read and validate one lexicon file.

    With a cache, the parsed TOML is kept there, keyed by the file's bytes: Python's
    TOML parser takes about 0.13 s for the bundled lexicons, reading them back 2 ms.
    """
    try:
        raw = path.read_bytes()
        data = _parsed_toml(raw, cache)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    return parse_lexicon(data, source=str(path), shared_sets=shared_sets)


def _parsed_toml(raw: bytes, cache: CompileCache | None) -> dict[str, Any]:
    text = raw.decode("utf-8")
    name = digest("toml", text) + ".toml.marshal"
    stored = cache.load_blob(name) if cache is not None else None
    if stored is not None:
        try:
            data = marshal.loads(stored)
        except (EOFError, ValueError, TypeError):
            data = None
        if isinstance(data, dict):
            return data
    data = tomllib.loads(text)
    if cache is not None:
        try:
            cache.store_blob(name, marshal.dumps(data))
        except ValueError:  # a value marshal cannot store (a TOML date): parse each time
            pass
    return data


def parse_lexicon(
    data: Mapping[str, Any],
    *,
    source: str = "<memory>",
    shared_sets: Mapping[str, tuple[str, ...]] | None = None,
) -> Lexicon:
    """Validate parsed TOML data and build a ``Lexicon``.

    ``shared_sets`` are the language-independent lexicon's ``[sets]``, which every
    file may name (its own ``[sets]`` win).
    """
    lang = data.get("lang")
    if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2}", lang):
        raise LexiconError(f"{source}: 'lang' must be a two-letter code")
    name = str(data.get("name", lang))
    own_sets = _word_lists(
        data.get("sets", {}),
        "sets",
        source,
        key_ok=lambda key: bool(re.fullmatch(r"[a-z_]+", key)),
        key_rule="must be lower-case letters",
        item_ok=lambda item: bool(item.strip()) and "{" not in item,
        items_rule="must list non-empty patterns",
    )
    spellings = _word_lists(
        data.get("spellings", {}),
        "spellings",
        source,
        key_ok=lambda key: key.isalpha() and key == key.lower(),
        key_rule="must be one lower-case word",
        item_ok=lambda item: item.isalpha() and item == item.lower(),
        items_rule="must list lower-case words (letters only)",
    )
    expand = _PatternExpander({**(shared_sets or {}), **own_sets}, spellings)
    rules: list[Rule] = []
    seen: set[str] = set()
    for section, kind in _SECTIONS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list):
            raise LexiconError(f"{source}: [[{section}]] must be an array of tables")
        for entry in entries:
            rule = _parse_rule(entry, lang=lang, kind=kind, source=source, expand=expand)
            if rule.id in seen:
                raise LexiconError(f"{source}: duplicate rule id {rule.id}")
            seen.add(rule.id)
            rules.append(rule)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise LexiconError(f"{source}: [settings] must be a table")
    return Lexicon(
        lang=lang, name=name, rules=tuple(rules), source=source, settings=settings, sets=own_sets
    )


def _word_lists(
    table: Any,
    section: str,
    source: str,
    *,
    key_ok: Callable[[str], bool],
    key_rule: str,
    item_ok: Callable[[str], bool],
    items_rule: str,
) -> dict[str, tuple[str, ...]]:
    """Validate a ``[sets]`` or ``[spellings]`` table: a key -> a non-empty list of strings."""
    if not isinstance(table, dict):
        raise LexiconError(f"{source}: [{section}] must be a table")
    lists: dict[str, tuple[str, ...]] = {}
    for key, items in table.items():
        if not (isinstance(key, str) and key_ok(key)):
            raise LexiconError(f"{source}: [{section}] key {key!r} {key_rule}")
        if not (
            isinstance(items, list)
            and items
            and all(isinstance(i, str) and item_ok(i) for i in items)
        ):
            raise LexiconError(f"{source}: [{section}] {key} {items_rule}")
        lists[key] = tuple(dict.fromkeys(items))
    return lists


class _PatternExpander:
    """Write a file's ``{set}`` names and ``[spellings]`` into its patterns.

    ``{name}`` becomes ``(?:item|item|...)``; then each listed word, where it stands
    as a literal word, becomes ``(?:word|misspelling|...)``. A word inside a character
    class, after a backslash, inside a longer word or before a quantifier (``?``,
    ``*``, ``+``, ``{``: it would then apply to the group) is left as written.
    """

    def __init__(
        self, sets: Mapping[str, tuple[str, ...]], spellings: Mapping[str, tuple[str, ...]]
    ) -> None:
        self._sets = sets
        self._spellings = spellings
        words = "|".join(sorted(map(re.escape, spellings), key=len, reverse=True))
        self._words = re.compile(rf"(?<![\w\\])(?:{words})(?![\w?*+{{])") if words else None

    def __call__(self, pattern: str, where: str) -> str:
        if "{" in pattern:
            pattern = _SET_NAME.sub(lambda m: self._set(m, pattern, where), pattern)
        return self._with_spellings(pattern) if self._words is not None else pattern

    def _set(self, m: re.Match[str], pattern: str, where: str) -> str:
        items = self._sets.get(m.group(1))
        if items is None:
            raise LexiconError(f"{where}: unknown set {m.group()} in {pattern!r}")
        return "(?:" + "|".join(items) + ")"

    def _with_spellings(self, pattern: str) -> str:
        assert self._words is not None
        classes = [(m.start(), m.end()) for m in _CLASS.finditer(pattern)]
        pieces: list[str] = []
        done = 0
        for m in self._words.finditer(pattern):
            if any(start <= m.start() < end for start, end in classes):
                continue
            word = m.group()
            spelled = dict.fromkeys((word, *self._spellings[word]))  # the word first, once
            pieces += [pattern[done : m.start()], "(?:" + "|".join(spelled) + ")"]
            done = m.end()
        return "".join(pieces) + pattern[done:]


_SET_NAME: Final = re.compile(r"\{([a-z_]+)\}")
_CLASS: Final = re.compile(r"\[(?:\\.|[^\]\\])*\]")


def _parse_rule(
    entry: Any, *, lang: str, kind: RuleKind, source: str, expand: _PatternExpander
) -> Rule:
    if not isinstance(entry, dict):
        raise LexiconError(f"{source}: each [[{kind}]] entry must be a table")
    local_id = entry.get("id")
    where = f"{source}: rule {local_id!r}"
    if not isinstance(local_id, str) or not _ID_RE.fullmatch(local_id):
        raise LexiconError(f"{where}: 'id' must be dotted lower-case words")
    known = {
        "id",
        "category",
        "kind",
        "norm",
        "tier",
        "patterns",
        "person",
        "boundary",
        "method_detail",
        "negatable",
        "needs_digit",
        "examples",
        "counter_examples",
        "note",
    }
    unknown = set(entry) - known
    if unknown:
        raise LexiconError(f"{where}: unknown keys {sorted(unknown)}")
    patterns = tuple(expand(p, where) for p in _str_tuple(entry.get("patterns"), where, "patterns"))
    if not patterns:
        raise LexiconError(f"{where}: 'patterns' must list at least one regex")

    tier = Tier.NONE
    if kind == "signal":
        category = entry.get("category")
        if category not in CRISIS_CATEGORIES:
            raise LexiconError(f"{where}: category must be one of {sorted(CRISIS_CATEGORIES)}")
        try:
            tier = Tier(str(entry.get("tier")))
        except ValueError:
            raise LexiconError(f"{where}: tier must be concern, high or imminent") from None
        if tier is Tier.NONE:
            raise LexiconError(f"{where}: a signal's tier cannot be none")
    elif kind == "norm":
        category = entry.get("norm")
        if category not in LEXICON_NORMS:
            raise LexiconError(f"{where}: norm must be one of {sorted(LEXICON_NORMS)}")
    else:
        allowed = {"cue": CUE_KINDS, "suppressor": SUPPRESSOR_KINDS, "context": CONTEXT_KINDS}
        category = entry.get("kind")
        if category not in allowed[kind]:
            raise LexiconError(f"{where}: kind must be one of {sorted(allowed[kind])}")
    assert isinstance(category, str)

    person = entry.get("person", "any")
    if person not in PERSONS:
        raise LexiconError(f"{where}: person must be one of {sorted(PERSONS)}")
    flags = {}
    for key, default in (
        ("boundary", True),
        ("method_detail", False),
        ("negatable", True),
        ("needs_digit", False),
    ):
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise LexiconError(f"{where}: '{key}' must be true or false")
        flags[key] = value
    return Rule(
        id=f"{lang}.{local_id}",
        lang=lang,
        kind=kind,
        category=category,
        patterns=patterns,
        tier=tier,
        person=person,
        boundary=flags["boundary"],
        method_detail=flags["method_detail"],
        negatable=flags["negatable"],
        needs_digit=flags["needs_digit"],
        examples=_str_tuple(entry.get("examples"), where, "examples"),
        counter_examples=_str_tuple(entry.get("counter_examples"), where, "counter_examples"),
    )


def _str_tuple(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: '{key}' must be a list of strings")
    return tuple(cast(list[str], value))


def load_lexicons(
    directory: Path, languages: Iterable[str] | None = None, cache: CompileCache | None = None
) -> tuple[Lexicon, ...]:
    """Load every ``*.toml`` lexicon in ``directory`` (or only ``languages``).

    The language-independent lexicon (``xx``) is always loaded.
    """
    wanted = None if languages is None else {*languages, COMMON_LANG}
    lexicons = []
    # The language-independent file first: its [sets] are shared with the others.
    paths = sorted(directory.glob("*.toml"), key=lambda p: (p.stem != COMMON_LANG, p.name))
    shared: Mapping[str, tuple[str, ...]] = {}
    for path in paths:
        if not re.fullmatch(r"[a-z]{2}", path.stem):
            # Not a language lexicon (norms.toml holds helplines and link data).
            continue
        if wanted is not None and path.stem not in wanted:
            continue
        lexicon = load_lexicon(path, cache, shared_sets=shared)
        if lexicon.lang != path.stem:
            raise LexiconError(f"{path}: 'lang' is {lexicon.lang!r}, file name says {path.stem!r}")
        if lexicon.lang == COMMON_LANG:
            shared = lexicon.sets
        lexicons.append(lexicon)
    if not lexicons:
        raise LexiconError(f"{directory}: no lexicon files found")
    return tuple(sorted(lexicons, key=lambda lexicon: lexicon.lang))  # the files' order


# --- compiling --------------------------------------------------------------


class Hit(NamedTuple):
    """A rule that matched ``[start, end)`` of the match form.

    A named tuple: matchers make one per match, and it is built in C.
    """

    rule: Rule
    start: int
    end: int


_KIND_PRIORITY: Final[dict[str, int]] = {
    "signal": 4,
    "suppressor": 3,
    "context": 3,
    "cue": 2,
    "norm": 1,
}

# Among cues, the ones that can make a plan outrank a bare time or means word.
_CUE_RANK: Final[dict[str, int]] = {
    "possession": 3,
    "plan": 3,
    "farewell": 3,
    "dose": 2,
    "time": 1,
    "means": 0,
}

_QUANTIFIERS: Final = "?*+{"
_ESCAPE_ASSERTIONS: Final = frozenset("bBAZ")
_SPECIAL: Final = frozenset(".^$*+?{}[]\\|()")


def _next_atom(src: str, i: int) -> tuple[str, int] | None:
    """Return the next single-character atom of ``src`` at ``i`` and where it ends.

    An atom is a literal character, an escape for one character, a character
    class, or the optional word gap `` ?``; a quantified item is not an atom.
    """
    if i >= len(src):
        return None
    c = src[i]
    if c == " ":
        if src.startswith(" ?", i) and src[i + 2 : i + 3] not in ("?", "+"):
            return " ?", i + 2
        end = i + 1
    elif c == "\\":
        if i + 1 >= len(src) or src[i + 1] in _ESCAPE_ASSERTIONS or src[i + 1].isdigit():
            return None
        end = i + 2
    elif c == "[":
        end = _class_end(src, i) + 1
    elif c in _SPECIAL:
        return None
    else:
        end = i + 1
    if end < len(src) and src[end] in _QUANTIFIERS:
        return None
    return src[i:end], end


_MIN_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")


def _unroll_first(src: str) -> str:
    """Rewrite a leading ``X+`` as ``XX*`` and ``X{m,n}`` as ``XX{m-1,n-1}`` (m >= 1).

    The first character then becomes an atom the trie can dispatch on, instead
    of leaving the whole alternative to be tried at every position.
    """
    if not src or src[0] in " (":
        return src
    if src[0] == "[":
        end = _class_end(src, 0) + 1
    elif src[0] == "\\":
        end = 2
    elif src[0] in _SPECIAL:
        return src
    else:
        end = 1
    atom, rest = src[:end], src[end:]
    if rest.startswith("+") and not rest.startswith("++"):
        return atom + atom + "*" + rest[1:]
    m = _MIN_REPEAT.match(rest)
    if m and int(m.group(1)) >= 1 and rest[m.end() : m.end() + 1] not in ("?", "+"):
        low = int(m.group(1)) - 1
        if m.group(2) is None:
            quant = f"{{{low}}}"
        elif m.group(3):
            quant = f"{{{low},{int(m.group(3)) - 1}}}"
        else:
            quant = f"{{{low},}}"
        return atom + atom + quant + rest[m.end() :]
    return src


@dataclass(slots=True)
class _Leaf:
    tail: str
    index: int
    priority: tuple[int, int, int]


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    leaves: list[_Leaf] = field(default_factory=list)
    priority: tuple[int, int, int] = (0, 0, 0)


def _distributable(quant: str, after: str) -> bool:
    """Return True when a group followed by ``after`` may be distributed.

    A group with no quantifier, or an optional one (``?`` but not ``??``/``?+``),
    can be replaced by its alternatives.
    """
    if not quant or quant not in _QUANTIFIERS:
        return True
    return quant == "?" and after[1:2] not in ("?", "+")


def _factor_first(alternatives: Sequence[str], rest: str) -> list[str]:
    """Distribute ``(?:a1|a2|...)rest`` by leading word prefix, sharing ``rest`` per prefix.

    ``(?:you|ya|u) X`` becomes ``(?:you|ya) X`` under "you"/"ya" and ``u X``:
    alternatives are grouped by their first up to ``_MAX_KEY`` literal letters (the
    bucket key), so the tail is copied once per key, not once per alternative.
    """
    by_key: dict[str, list[str]] = {}
    variants: list[str] = []
    for alt in alternatives:
        key = _bucket_key(alt)
        if not key:
            variants.append(alt + rest)
            continue
        by_key.setdefault(key, []).append(alt[len(key) :])
    for key, tails in by_key.items():
        if len(tails) == 1:
            variants.append(key + tails[0] + rest)
        else:
            optional = "" in tails
            body = "|".join(t for t in tails if t)
            group = f"(?:{body})?" if optional else f"(?:{body})"
            variants.append(key + group + rest)
    return variants


def _leading_variants(source: str, depth: int = 0) -> list[str]:
    """Split ``source`` into alternatives that each start with an atom where possible."""
    out: list[str] = []
    for alt in split_top_level(source):
        while alt.startswith(" ?"):
            # A leading optional gap means nothing after a word boundary.
            alt = alt[2:]
        if depth < 4 and alt.startswith("(?:"):
            end = _group_end(alt, 0)
            after = alt[end + 1 :]
            quant = after[:1]
            if _distributable(quant, after):
                rest = after[1:] if quant == "?" else after
                variants = _factor_first(split_top_level(alt[3:end]), rest)
                if quant == "?" and rest:
                    variants.append(rest)
                for variant in variants:
                    out.extend(_leading_variants(variant, depth + 1))
                continue
        out.append(alt)
    return out


_DISTRIBUTE_LIMIT = 0
"""Most characters a deeper group may add by copying its tail when distributed."""


def _cheap_to_distribute(src: str, i: int) -> bool:
    """Return True when distributing the group at ``i`` copies little of the tail.

    Distributing deeper groups puts alternatives that share literal prefixes on
    one trie path, so the higher-priority one is tried first; the copies of the
    tail are the price, kept under ``_DISTRIBUTE_LIMIT`` characters.
    """
    end = _group_end(src, i)
    firsts = {alt[:1] for alt in split_top_level(src[i + 3 : end])}
    return (len(firsts) - 1) * (len(src) - end) <= _DISTRIBUTE_LIMIT


def _insert(
    node: _Node, src: str, leaf_index: int, prio: tuple[int, int, int], budget: list[int]
) -> None:
    """Insert ``src`` into the trie, distributing leading groups while the budget lasts."""
    node.priority = max(node.priority, prio)
    i = 0
    while True:
        # A leading group is distributed (that is what the dispatch on first
        # letters needs); a later one only when that copies no tail, so that
        # the compiled pattern stays small.
        if src.startswith("(?:", i) and budget[0] > 0 and (i == 0 or _cheap_to_distribute(src, i)):
            end = _group_end(src, i)
            after = src[end + 1 :]
            quant = after[:1]
            if _distributable(quant, after):
                rest = after[1:] if quant == "?" else after
                variants = _factor_first(split_top_level(src[i + 3 : end]), rest)
                if quant == "?":
                    # The group may be skipped: "rest" (even empty, a leaf here) too.
                    variants.append(rest)
                budget[0] -= len(variants)
                for variant in variants:
                    _insert(node, variant, leaf_index, prio, budget)
                return
        atom = _next_atom(src, i)
        if atom is None:
            node.leaves.append(_Leaf(src[i:], leaf_index, prio))
            return
        text, i = atom
        child = node.children.get(text)
        if child is None:
            child = node.children[text] = _Node()
        child.priority = max(child.priority, prio)
        node = child


_DIGIT = re.compile(r"\d")
_LEAF_MARK = re.compile("\ue000(\\d+)\ue001")


def _emit(node: _Node, suffixes: Sequence[str]) -> str:
    """Return the regex source of a trie node: children and leaves, best first.

    Leaves carry a placeholder naming their leaf index; ``Matcher`` turns the
    placeholders into empty capturing groups in textual order.
    """
    options = _emit_options(node, suffixes)
    if len(options) == 1 and not node.leaves:
        return options[0]
    return "(?:" + "|".join(options) + ")"


def _emit_options(node: _Node, suffixes: Sequence[str]) -> list[str]:
    """Return the alternatives of a trie node as regex sources, best first."""
    return [atom + body for atom, body in _atom_options(node, suffixes)]


def _atom_options(node: _Node, suffixes: Sequence[str]) -> list[tuple[str, str]]:
    """Return the alternatives of a trie node, best first, as (leading atom, rest).

    A leaf has no leading atom (``""``).
    """
    options: list[tuple[tuple[int, int, int], str, str]] = []
    for atom, child in node.children.items():
        options.append((child.priority, atom, _emit(child, suffixes)))
    for leaf in node.leaves:
        mark = f"\ue000{leaf.index}\ue001"
        options.append((leaf.priority, "", f"{leaf.tail}{suffixes[leaf.index]}{mark}"))
    options.sort(key=lambda o: o[0], reverse=True)
    return [(atom, body) for _, atom, body in options]


def _merge_roots(options: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join alternatives (best first) that start with the same literal character.

    The tiers' tries are emitted one after the other, so one first letter starts
    an alternative in every tier; ``re`` tries the alternatives of a branch one by
    one. Grouped under their first letter, the alternatives are checked once per
    letter instead of once per tier. When every first atom is a single literal
    character, two alternatives with different first characters never match at
    the same place, so keeping the order within each letter keeps every match;
    otherwise (a class, an optional gap, a leaf) the alternatives stay as they are.
    """
    if not all(len(atom) == 1 and atom not in _SPECIAL and atom != " " for atom, _ in options):
        return list(options)
    by_atom: dict[str, list[str]] = {}
    for atom, body in options:
        by_atom.setdefault(atom, []).append(body)
    return [
        (atom, bodies[0] if len(bodies) == 1 else "(?:" + "|".join(bodies) + ")")
        for atom, bodies in by_atom.items()
    ]


def _first_chars(atom: str) -> str | None:
    """Return the characters an alternative starting with ``atom`` can start with.

    None when the atom is not one literal character (a class, ``\\w``, a gap, a leaf).
    """
    if len(atom) == 1 and atom not in _SPECIAL:
        return atom
    if len(atom) == 2 and atom[0] == "\\" and not atom[1].isalnum():
        return atom[1]
    return None


def _is_word_first(alternative: str) -> bool:
    first = _next_atom(alternative, 0)
    if first is None or first[0] == " ?":
        return False
    atom = first[0]
    if atom.startswith("["):
        return any(c.isascii() and c.isalnum() for c in atom)
    if atom.startswith("\\"):
        return atom[1] in "wd"
    return atom[0].isalnum()


_MAX_KEY = 1
"""Most letters of a leading word used to group alternatives."""


def _bucket_key(alternative: str) -> str:
    """Return the literal word characters an alternative starts with, at most ``_MAX_KEY``."""
    key: list[str] = []
    for i, c in enumerate(alternative):
        if len(key) == _MAX_KEY or not c.isalnum() or c in _SPECIAL:
            break
        if alternative[i + 1 : i + 2] in ("?", "*", "+", "{"):
            break
        key.append(c)
    return "".join(key)


class _Part(NamedTuple):
    """One top-level alternative of a matcher's regex (see ``Matcher``)."""

    source: str
    """Regex source; each leaf ends in a mark naming its leaf index."""
    first: str | None
    """The one character a match can start with; None: any."""
    bounded: bool
    """Inside the leading ``\\b(?:...)``: the alternatives that start at a word start."""


class _Unset:
    """Not worked out yet (where None is a value)."""


_UNSET: Final = _Unset()


class _Layout(NamedTuple):
    """A matcher's alternatives, the rule id of each leaf, and its prefilter anchors."""

    parts: list[_Part]
    leaves: list[str]
    anchors: Anchors | None


class _Regex(NamedTuple):
    """A compiled alternation and the rule each capture group (by number) stands for."""

    pattern: re.Pattern[str]
    group_rules: list[Rule | None]


class _Program(NamedTuple):
    """What a matcher runs: the whole regex, or a gate and one regex per first character."""

    full: _Regex | None
    gate: Gate | None
    by_first: dict[str, _Regex]
    other: _Regex | None


class Matcher:
    """All patterns of a set of rules compiled into one alternation.

    Alternatives are arranged as tries on their leading characters, one trie
    per tier, tried highest tier first: at each word start the regex engine
    rejects most rules by one literal comparison, and a concern pattern never
    hides a high or imminent one starting at the same place. Within a tier
    longer wording is tried before shorter. Each alternative ends in an empty
    capturing group; ``lastindex`` tells which one matched.

    The regex is built and compiled on first use (or by ``prepare``): with the
    anchor prefilter most processes need some matchers late or never. With
    ``gated``, a Hyperscan gate (see ``gate``) tells where matches can start, and
    at each such place only the alternatives that can start with its character
    are tried: the alternation is compiled as one regex per first character
    (``re`` sets up every capture group at each attempt, so a fraction of the
    groups is a fraction of the cost). The hits are the same.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        cache: CompileCache | None = None,
        *,
        gate_digits: bool = True,
        gated: bool = False,
    ) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.gated = gated and gates_available()
        # Rules marked needs_digit (street addresses: "Hauptstraße 5") start with a
        # character class and would be tried at every word; they run only on
        # texts that contain a digit.
        digit_rules = [r for r in self.rules if r.needs_digit] if gate_digits else []
        self._digit_matcher = (
            Matcher(digit_rules, cache, gate_digits=False, gated=gated) if digit_rules else None
        )
        if digit_rules:
            self.rules = tuple(r for r in self.rules if not r.needs_digit)
        self._cache = cache
        self._key = digest(
            str(FORMAT_VERSION),
            *(
                f"{r.id}|{r.kind}|{r.category}|{r.tier}|{r.boundary}|" + "\x1f".join(r.patterns)
                for r in self.rules
            ),
        )
        self._layout = self._cached_layout()
        self._own_anchors: Anchors | _Unset | None = (
            _UNSET if self._layout is None else self._layout.anchors
        )
        self._compile_lock = threading.Lock()
        self._program: _Program | None = None

    @property
    def anchors(self) -> Anchors | None:
        """Return literals one of which occurs in every text this matches (None: any text).

        Worked out on first use (folding every pattern takes a tenth of a second for
        all lexicons): only the prefilter needs them, and it covers only the matchers
        without a gate (see ``Engine``).
        """
        own = self._anchors_of_own_rules()
        if self._digit_matcher is None:
            return own
        digit_anchors = self._digit_matcher.anchors
        return None if own is None or digit_anchors is None else own | digit_anchors

    def _anchors_of_own_rules(self) -> Anchors | None:
        own = self._own_anchors
        if isinstance(own, _Unset):
            own = self._own_anchors = _matcher_anchors(self.rules)
        return own

    def _cached_layout(self) -> _Layout | None:
        """Return the layout stored in the compile cache, if it fits these rules."""
        stored = self._cache.load_layout(self._key) if self._cache is not None else None
        if stored is None:
            return None
        by_id = {rule.id for rule in self.rules}
        parts, leaves, anchors = stored.get("parts"), stored.get("leaves"), stored.get("anchors")
        if not (isinstance(leaves, list) and all(i in by_id for i in leaves)):
            return None
        if not (isinstance(parts, list) and all(_is_stored_part(part) for part in parts)):
            return None
        if not (anchors is None or isinstance(anchors, list)):
            return None
        return _Layout(
            [_Part(*part) for part in parts],
            list(leaves),
            None if anchors is None else frozenset(anchors),
        )

    def prepare(self) -> None:
        """Compile the regular expression now rather than on first use."""
        self._compiled()
        if self._digit_matcher is not None:
            self._digit_matcher.prepare()

    def has_gate(self) -> bool:
        """Return True when every part of the compiled matcher has a gate (compiling it)."""
        digits = self._digit_matcher
        return self._compiled().gate is not None and (digits is None or digits.has_gate())

    def _compiled(self) -> _Program:
        """Return the compiled matcher, building it on first use (thread-safe)."""
        program = self._program
        if program is not None:
            return program
        with self._compile_lock:
            if self._program is None:
                self._program = self._compile()
            return self._program

    def _compile(self) -> _Program:
        layout = self._layout
        if layout is None:
            parts, leaves = self._build()
            layout = _Layout(parts, leaves, self._anchors_of_own_rules())
            if self._cache is not None:
                anchors = None if layout.anchors is None else sorted(layout.anchors)
                self._cache.store_layout(
                    self._key, {"parts": parts, "leaves": leaves, "anchors": anchors}
                )
        by_id = {rule.id: rule for rule in self.rules}
        leaf_rules = [by_id[i] for i in layout.leaves]
        gate = None
        if self.gated:
            # The gate's patterns are the rules' folded patterns: the regex's
            # alternatives are those patterns rearranged (and at most narrowed).
            gate = gate_for(
                lambda: [
                    _gate_pattern(fold_pattern_literal(p), rule.boundary)
                    for rule in self.rules
                    for p in rule.patterns
                ],
                sum(len(rule.patterns) for rule in self.rules),
                self._cache,
                key=self._key,
            )
        if gate is None:
            full = self._regex(layout.parts, leaf_rules) or _Regex(re.compile(r"(?!x)x"), [None])
            return _Program(full, None, {}, None)
        # With a gate, matches are tried at given places only, so each place needs only
        # the alternatives that can start with its character: a regex per first
        # character. ``re`` sets up every capture group of a regex at each try, so
        # trying the whole alternation (thousands of groups) at one place costs
        # microseconds; a first character's share of it costs a fraction.
        selections: dict[str, tuple[int, ...]] = {}
        for first in {part.first for part in layout.parts if part.first is not None}:
            selections[first] = tuple(
                i for i, part in enumerate(layout.parts) if part.first in (None, first)
            )
        compiled: dict[tuple[int, ...], _Regex | None] = {}
        for selection in {*selections.values(), ()}:
            chosen = [layout.parts[i] for i in selection]
            if not selection:
                chosen = [part for part in layout.parts if part.first is None]
            compiled[selection] = self._regex(chosen, leaf_rules)
        by_first = {
            first: regex
            for first, selection in selections.items()
            if (regex := compiled[selection]) is not None
        }
        return _Program(None, gate, by_first, compiled[()])

    def _regex(self, parts: Sequence[_Part], leaf_rules: Sequence[Rule]) -> _Regex | None:
        """Compile ``parts`` in order into one alternation; None when there are none."""
        source, leaves = _assemble(parts)
        if source is None:
            return None
        try:
            if self._cache is not None:
                pattern = self._cache.compile(source)
            else:
                pattern = re.compile(source)
        except re.error:
            raise LexiconError(_find_bad_pattern(self.rules)) from None
        # Group n (1-based) is the n-th leaf mark in the source.
        return _Regex(pattern, [None, *(leaf_rules[i] for i in leaves)])

    def _build(self) -> tuple[list[_Part], list[str]]:
        """Fold the patterns, arrange them as tries and return the parts and leaf rule ids."""
        leaf_rules: list[Rule] = []
        suffixes: list[str] = []
        bounded_by_tier: dict[int, _Node] = {}
        unbounded_by_tier: dict[int, _Node] = {}
        for rule in self.rules:
            bounded = bounded_by_tier.setdefault(rule.tier.rank, _Node())
            unbounded = unbounded_by_tier.setdefault(rule.tier.rank, _Node())
            prio_base = (
                _KIND_PRIORITY[rule.kind],
                rule.tier.rank + _CUE_RANK.get(rule.category, 0),
            )
            for pattern in rule.patterns:
                try:
                    folded = fold_pattern_literal(pattern)
                    variants = _leading_variants(folded)
                except PatternError as exc:
                    raise LexiconError(f"rule {rule.id}: bad pattern {pattern!r}: {exc}") from None
                leaf_index = len(leaf_rules)
                leaf_rules.append(rule)
                suffixes.append(r"(?!\w)" if rule.boundary else "")
                for alternative in variants:
                    alternative = _unroll_first(alternative)
                    if not alternative:
                        continue
                    # Longer alternatives first: at one position the more specific
                    # wording ("tabletten gesammelt") beats the shorter ("tabletten").
                    prio = (*prio_base, len(alternative))
                    if _is_word_first(alternative):
                        # A word start is required even without a boundary rule:
                        # only the end of emoji rules must stay open.
                        _insert(bounded, alternative, leaf_index, prio, [64])
                    elif rule.boundary and _next_atom(alternative, 0) is None:
                        # Rare: no literal to dispatch on, so this alternative is
                        # tried at every position; keep such patterns few.
                        _insert(unbounded, r"(?<!\w)" + alternative, leaf_index, prio, [64])
                    else:
                        _insert(unbounded, alternative, leaf_index, prio, [64])
        # The tries' root alternatives are flattened into one alternation, highest
        # tier first and grouped by first letter: each group starts with a literal,
        # so re skips it in one comparison.
        tiers = sorted(bounded_by_tier, reverse=True)
        roots = _merge_roots(
            [o for t in tiers for o in _atom_options(bounded_by_tier[t], suffixes)]
        )
        free = [o for t in tiers for o in _atom_options(unbounded_by_tier[t], suffixes)]
        parts = [_Part(atom + body, _first_chars(atom), True) for atom, body in roots]
        parts += [_Part(atom + body, _first_chars(atom), False) for atom, body in free]
        return parts, [rule.id for rule in leaf_rules]

    def finditer(self, text: str) -> list[Hit]:
        """Return the non-overlapping hits in ``text``, ordered by start."""
        hits = []
        program = self._compiled()
        if program.full is not None:
            group_rules = program.full.group_rules
            for m in program.full.pattern.finditer(text):
                rule = group_rules[m.lastindex or 0]
                if rule is not None:
                    hits.append(Hit(rule, m.start(), m.end()))
        elif program.gate is not None:
            # What the whole alternation's finditer finds: it tries every place from
            # the end of its last match, and every place where it can succeed is in
            # ``starts`` (all places when the gate cannot tell, e.g. lone surrogates).
            starts = program.gate.starts(text)
            by_first, other = program.by_first, program.other
            end = 0
            for start in range(len(text)) if starts is None else starts:
                if start < end:
                    continue
                regex = by_first.get(text[start], other)
                if regex is None:
                    continue
                found = regex.pattern.match(text, start)
                if found is None:
                    continue
                end = found.end()
                rule = regex.group_rules[found.lastindex or 0]
                if rule is not None:
                    hits.append(Hit(rule, start, end))
        if self._digit_matcher is not None and _DIGIT.search(text):
            hits.extend(self._digit_matcher.finditer(text))
            hits.sort(key=lambda h: h.start)
        return hits


def _assemble(parts: Sequence[_Part]) -> tuple[str | None, list[int]]:
    """Return the regex source of ``parts`` in order, and the leaf index of each group.

    The bounded parts go inside one leading ``\\b(?:...)``; each leaf mark becomes an
    empty capture group, so ``lastindex`` names the leaf that matched.
    """
    bounded = [part.source for part in parts if part.bounded]
    pieces = [r"\b(?:" + "|".join(bounded) + ")"] if bounded else []
    pieces += [part.source for part in parts if not part.bounded]
    if not pieces:
        return None, []
    leaves: list[int] = []

    def number(m: re.Match[str]) -> str:
        leaves.append(int(m.group(1)))
        return "()"

    return _LEAF_MARK.sub(number, "|".join(pieces)), leaves


def _is_stored_part(part: Any) -> bool:
    return (
        isinstance(part, list)
        and len(part) == 3
        and isinstance(part[0], str)
        and (part[1] is None or (isinstance(part[1], str) and len(part[1]) == 1))
        and isinstance(part[2], bool)
    )


def _gate_pattern(folded: str, boundary: bool) -> GatePattern:
    """Describe a folded pattern as ``Matcher._build`` runs it, for its gate."""
    alternatives = [a for a in map(_unroll_first, _leading_variants(folded)) if a]
    # _build puts \b before the word-first alternatives, (?!\w) after a boundary rule's.
    word_start = bool(alternatives) and all(map(_is_word_first, alternatives))
    return GatePattern(folded, word_start=word_start, word_end=boundary)


def _matcher_anchors(rules: Sequence[Rule]) -> Anchors | None:
    """Return strings one of which occurs in every text that the rules match (see ``prefilter``).

    Rules that only run on texts with a digit are anchored on a digit where they need one.
    """
    stored = _stored_anchors()
    anchors: set[str] = set()
    for rule in rules:
        found = _rule_anchors(rule, stored)
        if found is None:
            return None
        anchors |= found
    return frozenset(anchors)


def _rule_anchors(rule: Rule, stored: Mapping[str, Any]) -> Anchors | None:
    """Return the anchors of ``rule``: from ``anchors.json`` when stored for its patterns."""
    try:
        folded = [fold_pattern_literal(p) for p in rule.patterns]
    except PatternError:
        raise LexiconError(_find_bad_pattern([rule])) from None
    options = {"word_end": rule.boundary, "prefer_digits": rule.needs_digit}
    entry = stored.get(rule.id)
    if isinstance(entry, dict) and entry.get("key") == anchors_key(folded, **options):
        found = entry.get("anchors")
        if found is None or isinstance(found, list):
            return None if found is None else frozenset(map(str, found))
    try:
        return rule_anchors(folded, **options)
    except (re.error, PatternError):
        raise LexiconError(_find_bad_pattern([rule])) from None


ANCHORS_FILE: Final = DEFAULT_LEXICON_DIR / "anchors.json"
"""The prefilter anchors of the bundled rules, generated by ``python -m moderation.engine.anchors``.

Extracting them parses every pattern (about 0.4 s); an entry is used only when its
key matches the rule's current patterns, so an edited rule is never anchored wrongly,
only extracted again. A test fails when the file is out of date.
"""


@functools.cache
def _stored_anchors() -> Mapping[str, Any]:
    try:
        data = json.loads(ANCHORS_FILE.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    rules = data.get("rules") if isinstance(data, dict) else None
    return rules if isinstance(rules, dict) else {}


def anchors_document(rules: Iterable[Rule]) -> dict[str, Any]:
    """Return the contents of ``anchors.json`` for ``rules``, extracted afresh."""
    entries: dict[str, Any] = {}
    for rule in sorted(rules, key=lambda r: r.id):
        folded = [fold_pattern_literal(p) for p in rule.patterns]
        options = {"word_end": rule.boundary, "prefer_digits": rule.needs_digit}
        found = rule_anchors(folded, **options)
        entries[rule.id] = {
            "key": anchors_key(folded, **options),
            "anchors": None if found is None else sorted(found),
        }
    return {
        "generated_by": "python -m moderation.engine.anchors",
        "rules": entries,
    }


def _find_bad_pattern(rules: Sequence[Rule]) -> str:
    """Name the first pattern that does not compile (only called when compiling failed)."""
    for rule in rules:
        for pattern in rule.patterns:
            try:
                re.compile(fold_pattern_literal(pattern))
            except (re.error, PatternError) as exc:
                return f"rule {rule.id}: bad pattern {pattern!r}: {exc}"
    return "the combined lexicon pattern does not compile"
