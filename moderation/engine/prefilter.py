"""Skip the regex scans that cannot match: a literal-anchor prefilter.

Every lexicon pattern, once folded, contains literal text that any match must
include: "(?:want|wanna) to die" cannot match a text without "die". For each
pattern the most selective such requirement is extracted from the parsed regex
(an *anchor set*: one of its strings must occur), and one Aho-Corasick automaton
over all anchors tells, in a single pass in C, which matchers have at least one
rule that may match. A matcher none of whose rules may match would find nothing,
so skipping it changes no result; most chat contains no anchor of the crisis or
norm rules at all.

The extraction is conservative: it only ever weakens a requirement (a substring
of a required literal is required too), and a pattern with no literal it must
contain has no anchor, which keeps its matcher always on.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

# The regex parser is what ``re.compile`` itself uses, so the anchors follow
# exactly the syntax the patterns are compiled with.
_PARSER: Any = importlib.import_module("re._parser")
_CONST: Any = importlib.import_module("re._constants")
# pyahocorasick ships no type information.
_AHOCORASICK: Any = importlib.import_module("ahocorasick")

_REPEATS: Final = frozenset(
    {_CONST.MAX_REPEAT, _CONST.MIN_REPEAT, getattr(_CONST, "POSSESSIVE_REPEAT", None)} - {None}
)
_ATOMIC: Final = frozenset({getattr(_CONST, "ATOMIC_GROUP", None)} - {None})

Anchors = frozenset[str]
"""Strings of which a match must contain at least one."""


DIGITS: Final = frozenset("0123456789")
_DIGIT_SCORE: Final = 5


def pattern_anchors(
    source: str, *, word_end: bool = True, prefer_digits: bool = False
) -> Anchors | None:
    """Return the most selective anchor set of a (folded) regex, or None if it has none.

    The matcher requires a word start before a pattern that starts with a letter,
    and a word end after it when ``word_end``: a leading or trailing string of
    such a pattern then carries ``WORD_EDGE`` there. ``prefer_digits`` takes a
    required digit when there is one (for rules that only run on texts with digits).
    """
    needs = _needs(_shape(_PARSER.parse(source).data, word_start=True, word_end=word_end))
    if prefer_digits and DIGITS in needs:
        return DIGITS
    best = _best(needs)
    return None if best is None else _minimal(best)


def rule_anchors(
    patterns: Iterable[str], *, word_end: bool = True, prefer_digits: bool = False
) -> Anchors | None:
    """Return the anchors of a rule: the union of its patterns' anchors (None if one has none)."""
    anchors: set[str] = set()
    for source in patterns:
        found = pattern_anchors(source, word_end=word_end, prefer_digits=prefer_digits)
        if found is None:
            return None
        anchors |= found
    return frozenset(anchors)


ANCHORS_VERSION: Final = 1
"""Bump when the extraction changes, so that stored anchors (``anchors.json``) are recomputed."""


def anchors_key(patterns: Sequence[str], *, word_end: bool, prefer_digits: bool) -> str:
    """Return the key under which the anchors of a rule's (folded) patterns are stored.

    It covers everything ``rule_anchors`` reads, so an entry stored for other
    patterns or by another extraction is never used.
    """
    h = hashlib.sha256(f"{ANCHORS_VERSION}|{word_end:d}|{prefer_digits:d}".encode())
    for source in patterns:
        h.update(b"\x00" + source.encode("utf-8"))
    return h.hexdigest()[:32]


WORD_EDGE: Final = " "
"""Marks a word start or end in an anchor; ``AnchorFilter`` puts it at each word gap."""

_WORD_GAPS: Final = {ord("."): " ", ord(","): " "}
"""The match form's other word gaps (see ``normalize``), folded to ``WORD_EDGE``."""
_SYMBOLS: Final = re.compile(r"[^\w .,]")

_OTHER_NON_WORD: Final = re.compile(r"[^\w .,]")
"""A character that ends a word but is not a word gap (":", emoji, symbols)."""

_MAX_STRINGS: Final = 64
"""Most alternative strings an anchor set may grow to while literals are combined."""


def _score(anchors: Anchors) -> tuple[int, int]:
    # A set is as selective as its shortest string; a letter counts twice a space
    # or word edge. Fewer strings break ties. Digits are rare in chat: a required
    # digit counts like a short word.
    if anchors <= DIGITS:
        return _DIGIT_SCORE, 0
    # Only the shortest strings can be the least selective ones.
    shortest = min(map(len, anchors))
    return min(_string_score(a) for a in anchors if len(a) <= shortest + 1), -len(anchors)


def _string_score(anchor: str) -> int:
    # Word gaps are everywhere (1), letters less so (2), symbols (":", "=", emoji) rarely (4).
    gaps = anchor.count(" ") + anchor.count(".") + anchor.count(",")
    return 2 * len(anchor) - gaps + 2 * len(_SYMBOLS.findall(anchor))


def _best(candidates: Sequence[Anchors]) -> Anchors | None:
    useful = [c for c in candidates if c and _score(c)[0] > 0]
    return max(useful, key=_score) if useful else None


def _minimal(anchors: Anchors) -> Anchors:
    """Drop strings that contain another string of the set: that one occurs whenever they do."""
    return frozenset(a for a in anchors if not any(b != a and b in a for b in anchors))


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the parsed regex sequence needs: anchor sets, and its literal strings.

    ``requirements``: anchor sets each of which every match satisfies.
    ``strings``: when the whole sequence matches one of a few literal strings,
    those strings (so that an enclosing sequence can extend them), else None.
    """

    requirements: list[Anchors]
    strings: frozenset[str] | None


def _shape(
    items: Sequence[tuple[Any, Any]], *, word_start: bool = False, word_end: bool = False
) -> _Shape:
    """Return the shape of the regex sequence ``items`` (``re._parser`` data).

    ``word_start``/``word_end``: the sequence begins/ends at a word boundary, so
    literal strings found there are marked with ``WORD_EDGE``.
    """
    found: list[Anchors] = []
    # Literal strings one of which the text must contain here, grown item by item.
    run: frozenset[str] = frozenset({""})
    at_start = word_start
    whole = True
    for op, av in items:
        inner = _item_shape(op, av)
        if inner.strings is not None and len(run) * len(inner.strings) <= _MAX_STRINGS:
            run = frozenset(r + s for r in run for s in inner.strings)
            continue
        whole = False
        if "" not in run:
            found.append(_mark_edges(run, start=at_start, end=False))
        at_start = False
        found.extend(inner.requirements)
        # Too many strings to combine: they start the next run instead.
        run = inner.strings if inner.strings is not None else frozenset({""})
    if "" not in run:
        found.append(_mark_edges(run, start=at_start, end=word_end))
    return _Shape(found, run if whole else None)


def _mark_edges(strings: Anchors, *, start: bool, end: bool) -> Anchors:
    """Put ``WORD_EDGE`` before (after) the strings that start (end) with a word character."""
    if not (start or end):
        return strings
    marked = set()
    for s in strings:
        if start and _is_word(s[:1]):
            s = WORD_EDGE + s
        if end and _is_word(s[-1:]):
            s = s + WORD_EDGE
        marked.add(s)
    return frozenset(marked)


def _is_word(c: str) -> bool:
    # What ``\w`` matches in a str pattern.
    return c.isalnum() or c == "_"


def _class_chars(members: Sequence[tuple[Any, Any]]) -> frozenset[str] | None:
    """Return the characters of a small character class ("[yi]", "[0-9]"), else None."""
    chars: set[str] = set()
    for kind, value in members:
        if kind is _CONST.LITERAL:
            chars.add(chr(value))
        elif kind is _CONST.RANGE and value[1] - value[0] < 10:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None  # negated, a category (\w) or a wide range
    return frozenset(chars) if len(chars) <= 10 else None


def _needs(shape: _Shape) -> list[Anchors]:
    """Return every anchor set of ``shape``, its literal strings included."""
    if shape.strings is None or "" in shape.strings:
        return shape.requirements
    return [*shape.requirements, shape.strings]


def _item_shape(op: Any, av: Any) -> _Shape:
    """Return the shape of one parsed item."""
    if op is _CONST.LITERAL:
        return _Shape([], frozenset({chr(av)}))
    if op is _CONST.IN:
        return _Shape([], _class_chars(av))
    if op is _CONST.SUBPATTERN:
        if av[1] or av[2]:
            return _Shape([], None)  # inline flags change what a literal means
        return _shape(av[3].data)
    if op in _ATOMIC:
        return _shape(av.data)
    if op in _REPEATS:
        low, high, item = av
        inner = _shape(item.data)
        if low == 0 and high == 1 and inner.strings is not None:
            return _Shape([], inner.strings | {""})  # "x?": the text has x or nothing
        if low == high == 1:
            return inner
        return _Shape(_needs(inner) if low >= 1 else [], None)
    if op is _CONST.BRANCH:
        shapes = [_shape(branch.data) for branch in av[1]]
        if all(s.strings is not None for s in shapes):
            strings = frozenset(x for s in shapes for x in s.strings or ())
            if len(strings) <= _MAX_STRINGS:
                return _Shape([], strings)
        union: set[str] = set()
        for s in shapes:
            best = _best(_needs(s))
            if best is None:
                return _Shape([], None)  # this alternative needs no literal
            union |= best
        return _Shape([frozenset(union)], None)
    # Classes, wildcards, assertions: no literal is required.
    return _Shape([], None)


class Anchored(Protocol):
    """Something with anchors: None means it may match any text."""

    @property
    def anchors(self) -> Anchors | None: ...


class Unfiltered:
    """Stands for a matcher that the filter should always report (it has no anchors)."""

    anchors: Anchors | None = None


class AnchorFilter:
    """Tell which of several matchers may match a text (in match form), from their anchors.

    ``candidates(text)`` returns a bit mask: bit ``i`` is set when matcher ``i``
    has a rule whose anchors occur in ``text`` (or a rule without anchors).
    Word edges in anchors are checked when every non-word character of the text
    is a word gap (space, ``.``, ``,``, ``:``); otherwise (emoji, symbols) the
    anchors are looked up without them.
    """

    def __init__(self, matchers: Sequence[Anchored]) -> None:
        self._always = 0
        self._all = (1 << len(matchers)) - 1
        edged: dict[str, int] = {}
        bare: dict[str, int] = {}
        for index, matcher in enumerate(matchers):
            bit = 1 << index
            anchors = matcher.anchors
            if anchors is None:
                self._always |= bit
                continue
            for anchor in anchors:
                key = anchor.translate(_WORD_GAPS)
                edged[key] = edged.get(key, 0) | bit
                key = anchor.strip(WORD_EDGE)
                bare[key] = bare.get(key, 0) | bit
        self._edged = _automaton(edged)
        self._bare = _automaton(bare)

    def candidates(self, text: str) -> int:
        """Return the mask of matchers that may match ``text``."""
        mask = self._always
        if mask == self._all:
            return mask
        if _OTHER_NON_WORD.search(text):
            automaton, text = self._bare, text
        else:
            automaton, text = self._edged, f" {text.translate(_WORD_GAPS)} "
        if automaton is None:
            return mask
        full = self._all
        for _end, bits in automaton.iter(text):
            mask |= bits
            if mask == full:
                break
        return mask


def _automaton(masks: dict[str, int]) -> Any:
    """Return an Aho-Corasick automaton mapping each string to its mask, or None if empty."""
    if not masks:
        return None
    automaton = _AHOCORASICK.Automaton()
    for key, mask in masks.items():
        automaton.add_word(key, mask)
    automaton.make_automaton()
    return automaton
