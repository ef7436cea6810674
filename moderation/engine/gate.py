"""Tell a matcher's regex where a match can start: a Hyperscan gate.

Python's ``re`` tries a matcher's whole alternation at every word of a message;
on long messages that are about something (and so contain the anchors that
switch the matcher on) those attempts are most of the engine's time. Hyperscan
(the ``hyperscan`` binding of Vectorscan) runs all of a matcher's patterns in
one pass in C and reports where matches of each pattern *end*. From a report
and the pattern's shortest and longest match, the gate knows the only places
where a match of that pattern can start; ``re`` then searches from those places
and skips the rest of the text.

The gate never decides a match. Every pattern is translated from the tree that
``re`` parses into a Hyperscan expression that matches *at least* what the
Python pattern matches: assertions (word boundaries, lookarounds) are dropped,
and ``\\w``, ``\\d`` and ``\\s`` also take every non-ASCII character. So every
place where the Python regex can match lies in a reported interval, and
``finditer`` below returns exactly the matches, in the same order, that
``pattern.finditer(text)`` returns: it only leaves out searches that could find
nothing. A pattern that cannot be translated (a back-reference, a case-insensitive
flag, an empty match), a compile error, a text that is not valid UTF-8 (lone
surrogates) or a missing ``hyperscan`` module all mean the plain scan.

Hyperscan scratch space may not be shared between threads, so each thread
clones its own.
"""

from __future__ import annotations

import importlib
import marshal
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Final, NamedTuple

from .cache import CompileCache, digest

try:  # the binding ships no type information
    _HS: Any = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover - the wheel exists for the platforms we ship on
    _HS = None

_PARSER: Any = importlib.import_module("re._parser")
_CONST: Any = importlib.import_module("re._constants")

GATE_FORMAT: Final = 2
"""Bump when the translation changes, so that stored gates are rebuilt."""

_UNICODE_REST: Final = r"\x{80}-\x{10FFFF}"
"""Every non-ASCII code point: added wherever Python's Unicode class may match more."""
_ANY_CHARACTER: Final = r"[\x{0}-\x{10FFFF}]"
"""Stands for a class with no exact translation (such as ``[^\\W\\d]``): a superset."""

# Python's classes in a positive class: their ASCII part, exactly, and every
# non-ASCII character. Inside a negated class the ASCII part alone: its complement
# contains the complement of Python's class.
_ASCII: Final = {
    _CONST.CATEGORY_WORD: "0-9A-Z_a-z",
    _CONST.CATEGORY_DIGIT: "0-9",
    _CONST.CATEGORY_SPACE: r"\x{9}-\x{d}\x{1c}-\x{20}",  # str.isspace() includes \x1c-\x1f
}
_NOT_ASCII: Final = {
    _CONST.CATEGORY_NOT_WORD: r"\W",
    _CONST.CATEGORY_NOT_DIGIT: r"\D",
    _CONST.CATEGORY_NOT_SPACE: r"\S",
}
_REPEATS: Final = frozenset(
    {_CONST.MAX_REPEAT, _CONST.MIN_REPEAT, getattr(_CONST, "POSSESSIVE_REPEAT", None)} - {None}
)
_BAD_FLAGS: Final = _CONST.SRE_FLAG_IGNORECASE | _CONST.SRE_FLAG_DOTALL | _CONST.SRE_FLAG_LOCALE
_UNBOUNDED: Final = int(_CONST.MAXREPEAT)


class Untranslatable(ValueError):
    """A pattern that the gate cannot translate; its matcher scans without a gate."""


class GatePattern(NamedTuple):
    """A pattern as its matcher runs it: maybe after a word start, maybe before a word end.

    ``word_start``: the matcher's regex requires ``\\b`` before every match;
    ``word_end``: it requires ``(?!\\w)`` after it.
    """

    source: str
    word_start: bool = False
    word_end: bool = False


class Leaf(NamedTuple):
    """One pattern as Hyperscan sees it, and how long a Python match of it can be."""

    expression: str
    min_width: int
    max_width: int | None  # None: unbounded


def translate(pattern: GatePattern | str) -> Leaf:
    """Translate a Python regex into a Hyperscan expression matching a superset of it.

    Word edges are kept where Hyperscan's ASCII ``\\b`` holds wherever Python's does:
    next to a character that is an ASCII letter, digit or underscore in every match.
    """
    if isinstance(pattern, str):
        pattern = GatePattern(pattern)
    source = pattern.source
    parsed = _PARSER.parse(source)
    if parsed.state.flags & _BAD_FLAGS:
        raise Untranslatable(f"flags not supported: {source!r}")
    low, high = parsed.getwidth()
    if low == 0:
        raise Untranslatable(f"may match the empty string: {source!r}")
    expression = _emit(parsed.data)
    items = list(parsed.data)
    if pattern.word_start and _edge_is_ascii_word(items, last=False) == (True, False):
        expression = r"\b" + expression
    if pattern.word_end and _edge_is_ascii_word(items, last=True) == (True, False):
        expression += r"\b"
    return Leaf(expression, int(low), None if high >= _UNBOUNDED else int(high))


_ASCII_WORD: Final = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")


def _edge_is_ascii_word(items: Sequence[Any], *, last: bool) -> tuple[bool, bool]:
    """Return (every first (last) character of a match is an ASCII word character, may be empty)."""
    for op, av in reversed(items) if last else items:
        word, empty = _item_edge(op, av, last)
        if not word:
            return False, False
        if not empty:
            return True, False
    return True, True  # all of it may be empty: the edge lies outside


def _item_edge(op: Any, av: Any, last: bool) -> tuple[bool, bool]:
    if op is _CONST.LITERAL:
        return av in _ASCII_WORD, False
    if op is _CONST.IN:
        word = all(
            (kind is _CONST.LITERAL and value in _ASCII_WORD)
            or (
                kind is _CONST.RANGE
                and all(c in _ASCII_WORD for c in range(value[0], value[1] + 1))
            )
            for kind, value in av
        )
        return word, False
    if op is _CONST.BRANCH:
        edges = [_edge_is_ascii_word(list(branch), last=last) for branch in av[1]]
        return all(word for word, _ in edges), any(empty for _, empty in edges)
    if op is _CONST.SUBPATTERN:
        return _edge_is_ascii_word(list(av[3]), last=last)
    if op in _REPEATS:
        word, empty = _edge_is_ascii_word(list(av[2]), last=last)
        return word, empty or av[0] == 0
    if op is getattr(_CONST, "ATOMIC_GROUP", None):
        return _edge_is_ascii_word(list(av), last=last)
    if op in (_CONST.AT, _CONST.ASSERT, _CONST.ASSERT_NOT):
        return True, True  # zero width: the edge is further on
    return False, False


def _emit(items: Any) -> str:
    return "".join(_emit_item(op, av) for op, av in items)


def _emit_item(op: Any, av: Any) -> str:
    if op is _CONST.LITERAL:
        return f"\\x{{{av:x}}}"
    if op is _CONST.NOT_LITERAL:
        return f"[^\\x{{{av:x}}}]"
    if op is _CONST.ANY:
        return "."  # without DOTALL, both engines: any character but a newline
    if op is _CONST.IN:
        return _emit_class(av)
    if op is _CONST.BRANCH:
        return "(?:" + "|".join(_emit(branch) for branch in av[1]) + ")"
    if op is _CONST.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        if add_flags & _BAD_FLAGS:
            raise Untranslatable("inline flags not supported")
        return "(?:" + _emit(body) + ")"
    if op in _REPEATS:
        low, high, body = av
        bound = f"{{{low},}}" if high >= _UNBOUNDED else f"{{{low},{high}}}"
        # Lazy and possessive repeats match a subset of the greedy one's strings.
        return "(?:" + _emit(body) + ")" + bound
    if op is getattr(_CONST, "ATOMIC_GROUP", None):
        return "(?:" + _emit(av) + ")"
    if op in (_CONST.AT, _CONST.ASSERT, _CONST.ASSERT_NOT):
        return ""  # an assertion only removes matches
    raise Untranslatable(f"not supported: {op}")


def _emit_class(items: Any) -> str:
    negated = bool(items) and items[0][0] is _CONST.NEGATE
    parts: list[str] = []
    for op, av in items[1:] if negated else items:
        if op is _CONST.LITERAL:
            parts.append(f"\\x{{{av:x}}}")
        elif op is _CONST.RANGE:
            parts.append(f"\\x{{{av[0]:x}}}-\\x{{{av[1]:x}}}")
        elif op is _CONST.CATEGORY and av in _ASCII:
            parts.append(_ASCII[av] if negated else _ASCII[av] + _UNICODE_REST)
        elif op is _CONST.CATEGORY and av in _NOT_ASCII and not negated:
            parts.append(_NOT_ASCII[av])
        else:
            return _ANY_CHARACTER
    return ("[^" if negated else "[") + "".join(parts) + "]"


def _on_match(leaf: int, _start: int, end: int, _flags: int, ends: list[tuple[int, int]]) -> None:
    ends.append((leaf, end))


class Gate:
    """A compiled Hyperscan database over a matcher's patterns."""

    def __init__(self, database: Any, leaves: Sequence[Leaf]) -> None:
        self._database = database
        self._min = [leaf.min_width for leaf in leaves]
        self._max = [leaf.max_width for leaf in leaves]
        self._local = threading.local()

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._database.scratch.clone()
        return scratch

    def starts(self, text: str) -> list[tuple[int, int]] | None:
        """Return the sorted, disjoint intervals where a match may start; None: scan it all."""
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not UTF-8, let re scan it
            return None
        ends: list[tuple[int, int]] = []
        try:
            self._database.scan(
                data, match_event_handler=_on_match, context=ends, scratch=self._scratch()
            )
        except _HS.error:  # e.g. a stored database this CPU cannot run: scan it all
            return None
        if not ends:
            return []
        if len(data) != len(text):
            # Hyperscan counts bytes; a reported end is always a character boundary.
            chars = {end: len(data[:end].decode("utf-8")) for _leaf, end in ends}
            ends = [(leaf, chars[end]) for leaf, end in ends]
        spans = []
        for leaf, end in ends:
            longest = self._max[leaf]
            spans.append((0 if longest is None else max(0, end - longest), end - self._min[leaf]))
        spans.sort()
        merged = [spans[0]]
        for low, high in spans[1:]:
            last_low, last_high = merged[-1]
            if low <= last_high + 1:
                if high > last_high:
                    merged[-1] = (last_low, high)
            else:
                merged.append((low, high))
        return merged

    def finditer(self, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        """Return what ``pattern.finditer(text)`` returns, searching only where a match may start.

        ``pattern`` must be the alternation of this gate's patterns (plus assertions).
        """
        intervals = self.starts(text)
        if intervals is None:
            yield from pattern.finditer(text)
            return
        pos = 0
        index = 0
        while index < len(intervals):
            low, high = intervals[index]
            if high < pos:
                index += 1
                continue
            # No match starts between pos and low, so this finds the same next match
            # that a scan from pos would; it may lie in a later interval.
            found = pattern.search(text, max(low, pos))
            if found is None:
                return
            yield found
            pos = found.end()  # translate() refused empty matches: end > start


def build_gate(
    sources: Sequence[GatePattern | str], cache: CompileCache | None = None, *, key: str = ""
) -> Gate | None:
    """Compile a gate over ``sources`` (Python regexes); None if it cannot be built.

    With a cache and a ``key`` naming the sources, the compiled database is stored
    for ``load_gate`` (Hyperscan's compiler is slow: seconds for the signal rules).
    """
    if _HS is None or not sources:
        return None
    try:
        leaves = [translate(source) for source in sources]
    except (Untranslatable, re.error):
        return None
    database = _compile(leaves)
    if database is None:
        return None
    if cache is not None and key:
        payload = (_HS.dumpb(database), [(leaf.min_width, leaf.max_width) for leaf in leaves])
        cache.store_blob(_blob_name(key), marshal.dumps(payload))
    return Gate(database, leaves)


def load_gate(cache: CompileCache, key: str, count: int) -> Gate | None:
    """Return the gate that ``build_gate`` stored under ``key`` for ``count`` sources, or None."""
    if _HS is None:
        return None
    raw = cache.load_blob(_blob_name(key))
    if raw is None:
        return None
    try:
        blob, widths = marshal.loads(raw)
        leaves = [Leaf("", int(low), None if high is None else int(high)) for low, high in widths]
        if len(leaves) != count:
            return None
        database = _HS.loadb(blob, _HS.HS_MODE_BLOCK)
        database.scratch = _HS.Scratch(database)
        # A database built for another CPU may load and then refuse to scan.
        database.scan(b"peerchat", match_event_handler=_on_match, context=[])
    except Exception:  # truncated, or built for another Hyperscan or CPU: compile again
        return None
    return Gate(database, leaves)


def _blob_name(key: str) -> str:
    return digest(str(GATE_FORMAT), _HS.__version__, key) + ".hs"


def _compile(leaves: Sequence[Leaf]) -> Any:
    """Return a Hyperscan database of ``leaves`` (ids are their positions), or None."""
    database = _HS.Database()
    try:
        database.compile(
            expressions=[leaf.expression.encode("utf-8") for leaf in leaves],
            ids=list(range(len(leaves))),
            elements=len(leaves),
            flags=[_HS.HS_FLAG_UTF8] * len(leaves),
        )
    except _HS.error:  # e.g. a pattern too large for Hyperscan
        return None
    return database
