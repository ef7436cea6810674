"""Tell a regex where a match can start: a Hyperscan gate.

Python's ``re`` tries a matcher's whole alternation at every word of a message;
on long messages that are about something (and so contain the anchors that
switch the matcher on) those attempts are most of the engine's time. Hyperscan
(the ``hyperscan`` binding of Vectorscan) runs all of a matcher's patterns in
one pass in C. The gate compiles each pattern *reversed* and scans the reversed
text: every match end it reports there is the start of a match in the text. So
one pass yields every place where a match of some pattern can start, and ``re``
tries only those places.

The gate never decides a match. Every pattern is translated from the tree that
``re`` parses into a Hyperscan expression that matches *at least* what the
Python pattern matches: assertions are dropped (word edges are kept where that is
safe, see ``translate``), ``\\w``, ``\\d`` and ``\\s`` also take every non-ASCII
character, and a case-insensitive pattern takes both cases and every character
that Python's case folding may equate with a letter. So every place where the
Python regex can match is reported, and ``finditer`` below returns exactly the
matches, in the same order, that ``pattern.finditer(text)`` returns: it only
leaves out attempts that could find nothing. A pattern that cannot be translated
(a back-reference, an inline flag, a pattern that can match the empty string), a
compile error, a text that is not valid UTF-8 (lone surrogates) or a missing
``hyperscan`` module all mean the plain scan.

Hyperscan scratch space may not be shared between threads, so each thread
clones its own.
"""

from __future__ import annotations

import importlib
import marshal
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, NamedTuple

from .cache import CompileCache, digest

try:  # the binding ships no type information
    _HS: Any = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover - the wheel exists for the platforms we ship on
    _HS = None

_PARSER: Any = importlib.import_module("re._parser")
_CONST: Any = importlib.import_module("re._constants")

GATE_FORMAT: Final = 5
"""Bump when the translation changes, so that stored gates are rebuilt."""

_NON_ASCII: Final = r"\x{80}-\x{10FFFF}"
"""Every non-ASCII code point: added wherever Python's Unicode class may match more."""
_ANY_CHARACTER: Final = r"[\x{0}-\x{10FFFF}]"
"""Stands for a class with no exact translation (such as ``[^\\W\\d]``): a superset."""
_CASE_EXTRAS: Final = r"\x{130}\x{131}\x{17f}\x{212a}"
_FOLDED_LETTERS: Final = "IKSiks"
"""The ASCII letters that those characters match case-insensitively."""
"""The non-ASCII characters that ``re.IGNORECASE`` equates with ASCII letters.

Capital I with dot, dotless i, long s and the Kelvin sign.
"""

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
_IGNORECASE: Final = _CONST.SRE_FLAG_IGNORECASE
_BAD_FLAGS: Final = _CONST.SRE_FLAG_DOTALL | _CONST.SRE_FLAG_LOCALE
_INLINE_FLAGS: Final = _IGNORECASE | _BAD_FLAGS | _CONST.SRE_FLAG_MULTILINE


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
    """One pattern as Hyperscan sees it: reversed, matching a superset."""

    expression: str
    caseless: bool = False


def gates_available() -> bool:
    """Return True when gates can be built (the ``hyperscan`` module imports)."""
    return _HS is not None


def translate(pattern: GatePattern | str, flags: int = 0, *, keep: int | None = None) -> Leaf:
    """Translate a Python regex into a reversed Hyperscan expression matching a superset of it.

    Word edges are kept where Hyperscan's ASCII ``\\b`` holds wherever Python's does:
    next to a character that is an ASCII letter, digit or underscore in every match.
    With ``keep``, only the first ``keep`` items of the pattern are translated: a
    match of the whole pattern starts where a match of its beginning does, so that
    is a superset too (for patterns Hyperscan refuses whole, see ``build_gate``).
    """
    if isinstance(pattern, str):
        pattern = GatePattern(pattern)
    source = pattern.source
    parsed = _PARSER.parse(source, flags)
    if parsed.state.flags & _BAD_FLAGS:
        raise Untranslatable(f"flags not supported: {source!r}")
    caseless = bool(parsed.state.flags & _IGNORECASE)
    items = list(parsed.data)
    word_end = pattern.word_end
    if keep is not None and keep < len(items):
        items, word_end = items[:keep], False  # the end is cut off: no edge there
    if _width(parsed.state, items)[0] == 0:
        raise Untranslatable(f"may match the empty string: {source!r}")
    expression = _Emitter(caseless).sequence(items)
    if not caseless:  # a caseless letter may be K (the Kelvin sign): not an ASCII word edge
        if pattern.word_start and _edge_is_ascii_word(items, last=False) == (True, False):
            expression += r"\b"  # reversed: the start is at the end
        if word_end and _edge_is_ascii_word(items, last=True) == (True, False):
            expression = r"\b" + expression
    return Leaf(expression, caseless)


def _width(state: Any, items: list[Any]) -> tuple[int, int]:
    """Return (shortest, longest) match length of a sequence of parsed items."""
    low, high = _PARSER.SubPattern(state, items).getwidth()
    return int(low), int(high)


def item_count(pattern: GatePattern | str, flags: int = 0) -> int:
    """Return how many top-level items ``translate`` sees in ``pattern``."""
    source = pattern.source if isinstance(pattern, GatePattern) else pattern
    return len(_PARSER.parse(source, flags).data)


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


class _Emitter:
    """Write a parsed Python regex as a reversed Hyperscan expression (see ``translate``)."""

    def __init__(self, caseless: bool) -> None:
        self.caseless = caseless

    def sequence(self, items: Any) -> str:
        return "".join(self.item(op, av) for op, av in reversed(list(items)))

    def item(self, op: Any, av: Any) -> str:
        if op is _CONST.LITERAL:
            return self.literal(av)
        if op is _CONST.NOT_LITERAL:
            # Case-insensitively Python excludes more characters: this is a superset.
            return f"[^\\x{{{av:x}}}]"
        if op is _CONST.ANY:
            return "."  # without DOTALL, both engines: any character but a newline
        if op is _CONST.IN:
            return self.charset(av)
        if op is _CONST.BRANCH:
            return "(?:" + "|".join(self.sequence(branch) for branch in av[1]) + ")"
        if op is _CONST.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if (add_flags | del_flags) & _INLINE_FLAGS:
                raise Untranslatable("inline flags not supported")
            return "(?:" + self.sequence(body) + ")"
        if op in _REPEATS:
            low, high, body = av
            bound = f"{{{low},}}" if high >= _CONST.MAXREPEAT else f"{{{low},{high}}}"
            # Lazy and possessive repeats match a subset of the greedy one's strings.
            return "(?:" + self.sequence(body) + ")" + bound
        if op is getattr(_CONST, "ATOMIC_GROUP", None):
            return "(?:" + self.sequence(av) + ")"
        if op in (_CONST.AT, _CONST.ASSERT, _CONST.ASSERT_NOT):
            return ""  # an assertion only removes matches
        raise Untranslatable(f"not supported: {op}")

    def literal(self, code: int) -> str:
        if not self.caseless or (code < 0x80 and chr(code) not in _FOLDED_LETTERS):
            return f"\\x{{{code:x}}}"  # caseless: Hyperscan's flag folds ASCII letters
        return "[" + self._caseless(code, code) + "]"

    def _caseless(self, low: int, high: int) -> str:
        """Return class contents for ``[low-high]`` matched case-insensitively (a superset).

        Hyperscan's caseless flag folds ASCII letters; what Python's folding adds is
        added here.
        """
        parts = [f"\\x{{{low:x}}}-\\x{{{high:x}}}"]
        if any(low <= ord(c) <= high for c in _FOLDED_LETTERS):
            parts.append(_CASE_EXTRAS)
        if high >= 0x80:
            # A non-ASCII letter's other cases are non-ASCII, but for the four of
            # _CASE_EXTRAS, whose other cases are ASCII letters.
            parts.append(_NON_ASCII)
            if any(low <= c <= high for c in (0x130, 0x131, 0x17F, 0x212A)):
                parts.append("A-Za-z")
        return "".join(parts)

    def charset(self, items: Any) -> str:
        negated = bool(items) and items[0][0] is _CONST.NEGATE
        parts: list[str] = []
        for op, av in items[1:] if negated else items:
            if op is _CONST.LITERAL:
                parts.append(
                    self._caseless(av, av) if self.caseless and not negated else f"\\x{{{av:x}}}"
                )
            elif op is _CONST.RANGE:
                if self.caseless and not negated:
                    parts.append(self._caseless(av[0], av[1]))
                else:
                    parts.append(f"\\x{{{av[0]:x}}}-\\x{{{av[1]:x}}}")
            elif op is _CONST.CATEGORY and av in _ASCII:
                parts.append(_ASCII[av] if negated else _ASCII[av] + _NON_ASCII)
            elif op is _CONST.CATEGORY and av in _NOT_ASCII and not negated:
                parts.append(_NOT_ASCII[av])
            else:
                return _ANY_CHARACTER
        return ("[^" if negated else "[") + "".join(parts) + "]"


_LAST_TEXT = threading.local()
"""Per thread, the last text scanned and its reversed UTF-8 (kept alive by the reference)."""


def _on_match(_leaf: int, _start: int, end: int, _flags: int, ends: list[int]) -> None:
    ends.append(end)


class _Scanner:
    """A compiled Hyperscan database, with scratch space for each thread that scans."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self._local = threading.local()

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._database.scratch.clone()
        return scratch


class PresenceSet(_Scanner):
    """Tell which of a few strings or expressions occur in a text, in one pass in C."""

    def found(self, text: str) -> list[int] | None:
        """Return the positions (in the list given) of those that occur in ``text``.

        None when the text cannot be scanned (lone surrogates): look some other way.
        """
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
        found: list[int] = []
        try:
            self._database.scan(
                data, match_event_handler=_on_found, context=found, scratch=self._scratch()
            )
        except _HS.error:
            return None
        return found


def _on_found(index: int, _start: int, _end: int, _flags: int, found: list[int]) -> None:
    found.append(index)


def presence_set(items: Sequence[str], *, literal: bool = True) -> PresenceSet | None:
    """Compile ``items`` for ``PresenceSet.found``; None without Hyperscan.

    ``items`` are literal strings, or with ``literal=False`` Hyperscan expressions
    (UTF-8 mode). Each is reported once at most.
    """
    if _HS is None or not items:
        return None
    flags = _HS.HS_FLAG_SINGLEMATCH | (0 if literal else _HS.HS_FLAG_UTF8)
    database = _HS.Database()
    try:
        database.compile(
            expressions=[item.encode("utf-8") for item in items],
            ids=list(range(len(items))),
            elements=len(items),
            flags=flags,
            literal=literal,
        )
    except _HS.error:
        return None
    return PresenceSet(database)


class Gate(_Scanner):
    """A compiled Hyperscan database of reversed patterns (see the module docstring)."""

    def starts(self, text: str) -> list[int] | None:
        """Return, sorted, every position where a match may start; None: try them all."""
        local = _LAST_TEXT
        if getattr(local, "text", None) is text:
            data = local.data  # the engine scans one message with several gates
        else:
            try:
                data = text[::-1].encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: not UTF-8, let re scan it
                return None
            local.text, local.data = text, data
        ends: list[int] = []
        try:
            self._database.scan(
                data, match_event_handler=_on_match, context=ends, scratch=self._scratch()
            )
        except _HS.error:  # e.g. a stored database this CPU cannot run: scan it all
            return None
        if not ends:
            return []
        size = len(text)
        if len(data) == size:
            return sorted({size - end for end in ends})
        # Hyperscan counts bytes; a reported end is always a character boundary.
        # Count the characters up to each end in one pass over the text.
        starts = []
        chars = done = 0
        for end in sorted(set(ends)):
            chars += len(data[done:end].decode("utf-8"))
            done = end
            starts.append(size - chars)
        starts.reverse()
        return starts

    def finditer(self, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        """Return what ``pattern.finditer(text)`` returns, trying only where a match may start.

        ``pattern`` must match no more than this gate's patterns do (an alternation
        of them, with assertions, as its matcher runs it), and never the empty string.
        """
        starts = self.starts(text)
        if starts is None:
            yield from pattern.finditer(text)
            return
        # finditer tries every position from the end of its last match; every position
        # where it could succeed is in ``starts``, so trying those alone finds the same.
        end = 0
        match = pattern.match
        for start in starts:
            if start >= end:
                found = match(text, start)
                if found is not None:
                    yield found
                    end = found.end()


def build_gate(
    sources: Sequence[GatePattern | str],
    cache: CompileCache | None = None,
    *,
    key: str = "",
    flags: int = 0,
) -> Gate | None:
    """Compile a gate over ``sources`` (Python regexes, with ``flags``); None if it cannot be.

    With a cache and a ``key`` naming the sources, the compiled database is stored
    for ``load_gate`` (Hyperscan's compiler is slow: seconds for the signal rules).
    """
    if _HS is None or not sources:
        return None
    try:
        leaves = [translate(source, flags) for source in sources]
    except (Untranslatable, re.error):
        return None
    # A pattern longer than Hyperscan accepts would cost the whole matcher its gate:
    # such a pattern is gated by its beginning instead.
    fitting = [
        _within_limit(source, leaf, flags) for source, leaf in zip(sources, leaves, strict=True)
    ]
    if None in fitting:
        return None
    database = _compile([leaf for leaf in fitting if leaf is not None])
    if database is None:
        return None
    if cache is not None and key:
        cache.store_blob(_blob_name(key), marshal.dumps((_HS.dumpb(database), len(leaves))))
    return Gate(database)


def gate_for(
    sources: Sequence[GatePattern | str] | Callable[[], Sequence[GatePattern | str]],
    count: int,
    cache: CompileCache | None,
    *,
    key: str,
    flags: int = 0,
) -> Gate | None:
    """Return the gate over ``count`` patterns from the cache, or built from ``sources``.

    ``sources`` may be a function, so that what is costly to work out is only worked
    out when the cache has nothing.
    """
    gate = load_gate(cache, key, count) if cache is not None else None
    if gate is not None:
        return gate
    patterns = sources() if callable(sources) else sources
    return build_gate(patterns, cache, key=key, flags=flags)


def load_gate(cache: CompileCache, key: str, count: int) -> Gate | None:
    """Return the gate that ``build_gate`` stored under ``key`` for ``count`` sources, or None."""
    if _HS is None:
        return None
    raw = cache.load_blob(_blob_name(key))
    if raw is None:
        return None
    try:
        blob, stored_count = marshal.loads(raw)
        if stored_count != count:
            return None
        database = _HS.loadb(blob, _HS.HS_MODE_BLOCK)
        database.scratch = _HS.Scratch(database)
        # A database built for another CPU may load and then refuse to scan.
        database.scan(b"peerchat", match_event_handler=_on_match, context=[])
    except Exception:  # truncated, or built for another Hyperscan or CPU: compile again
        return None
    return Gate(database)


def _blob_name(key: str) -> str:
    return digest(str(GATE_FORMAT), _HS.__version__, key) + ".hs"


_MAX_EXPRESSION: Final = 16_000
"""Hyperscan refuses longer expressions ("Pattern length exceeds limit"), in bytes."""


def _within_limit(source: GatePattern | str, leaf: Leaf, flags: int) -> Leaf | None:
    """Return ``leaf`` if Hyperscan takes its length, else the longest beginning it takes."""
    if len(leaf.expression.encode("utf-8")) <= _MAX_EXPRESSION:
        return leaf
    for keep in range(item_count(source, flags) - 1, 0, -1):
        try:
            shorter = translate(source, flags, keep=keep)
        except Untranslatable:
            continue
        if len(shorter.expression.encode("utf-8")) <= _MAX_EXPRESSION:
            return shorter
    return None


def _compile(leaves: Sequence[Leaf]) -> Any:
    """Return a Hyperscan database of ``leaves``, or None."""
    database = _HS.Database()
    try:
        database.compile(
            expressions=[leaf.expression.encode("utf-8") for leaf in leaves],
            # One id for all: Hyperscan reports an (id, end) once, so a place where
            # several patterns can start costs one Python callback, not one each.
            ids=[0] * len(leaves),
            elements=len(leaves),
            flags=[
                _HS.HS_FLAG_UTF8 | (_HS.HS_FLAG_CASELESS if leaf.caseless else 0) for leaf in leaves
            ],
        )
    except _HS.error:  # e.g. a pattern too large for Hyperscan
        return None
    return database
