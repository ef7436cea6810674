"""Normalise text for matching, keeping a map back to the original offsets.

Two forms are produced:

* the *match form* (``normalise``): accent-stripped, case-folded, homoglyphs and
  leetspeak folded, letters split by spaces or dots joined, repeated letters
  squeezed, punctuation reduced to word gaps (space), clause breaks (``,``) and
  sentence breaks (``.``). Lexicon patterns are folded the same way
  (``fold_pattern_literal``), so a rule written as ``zabiję się`` matches
  "zabije sie", "ZABIJĘ SIĘ" and "zabiiiję sie".
* the *light form* (``normalise_light``): only invisible characters removed and
  compatibility forms folded (full-width digits, ligatures). Phone numbers,
  e-mails and handles are detected on it, because leetspeak folding would turn
  digits into letters.

Every length-changing step records its edits; offsets are mapped back only when
a rule matched, so plain chat pays for string operations in C only.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import json
import operator
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final, NamedTuple

from .gate import presence_set

# Letters that do not decompose under NFKD but that people replace with the
# plain letter when typing without a keyboard layout (Polish ł, Danish ø...).
_EXTRA_FOLD: dict[str, str] = {
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "\u0131": "i",  # dotless i
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ð": "d",
    "ŀ": "l",
    "ĸ": "k",
}

# Typographic punctuation folded to the ASCII character that plays the same role.
_PUNCT_FOLD: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "\u00b4": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": '"',
    "\u203a": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u00b7": ".",
    "\u2022": ".",
    "\u3002": ".",
    "\u00bf": "?",
    "\u00a1": "!",
    "\u2028": "\n",
    "\u2029": "\n",
    "\u0085": "\n",
}

# Scripts whose letters are folded to a Latin look-alike (Cyrillic U+0430 for "a").
# Real Cyrillic or Greek text becomes gibberish in the match form, which is
# acceptable: no lexicon is written in those scripts.
_CONFUSABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic and supplement
    (0x0530, 0x058F),  # Armenian
    (0x13A0, 0x13FF),  # Cherokee
    (0x1D00, 0x1DBF),  # phonetic extensions (small capitals)
    (0xA640, 0xA69F),  # Cyrillic extended-B
)

_IN_CONFUSABLE_SCRIPT = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _CONFUSABLE_RANGES) + "]"
).match

_LATIN_LOOKALIKES: dict[str, str] | None = None
_LOOKALIKE_LOCK = threading.Lock()


def _latin_lookalikes() -> dict[str, str]:
    """Return the table of non-Latin letters that look like an ASCII letter or digit."""
    global _LATIN_LOOKALIKES
    if _LATIN_LOOKALIKES is not None:
        return _LATIN_LOOKALIKES
    with _LOOKALIKE_LOCK:
        if _LATIN_LOOKALIKES is None:
            _LATIN_LOOKALIKES = _build_latin_lookalikes()
    return _LATIN_LOOKALIKES


def _build_latin_lookalikes() -> dict[str, str]:
    # The Unicode confusables data maintained by confusable-homoglyphs is the
    # source; it is consulted once per code point here, never per message.
    # Imported by name: the package ships no type information.
    confusables: Any = importlib.import_module("confusable_homoglyphs.confusables")

    table: dict[str, str] = {}
    for low, high in _CONFUSABLE_RANGES:
        for cp in range(low, high + 1):
            ch = chr(cp)
            if not ch.isalpha():
                continue
            # Prefer the look-alike of the lower-case form; fall back to the
            # upper-case one (Greek small kappa only resembles U+0138, its capital is "K").
            for candidate in (ch.lower(), ch.upper(), ch):
                found = confusables.is_confusable(
                    candidate, greedy=True, preferred_aliases=["latin"]
                )
                target = _first_ascii_homoglyph(found)
                if target:
                    table[ch] = target.lower()
                    break
    return table


def _first_ascii_homoglyph(found: object) -> str | None:
    if not isinstance(found, list):
        return None
    for entry in found:
        for glyph in entry.get("homoglyphs", ()):
            c = glyph.get("c", "")
            if isinstance(c, str) and len(c) == 1 and c.isascii() and c.isalnum():
                return c
    return None


def fold_char(ch: str) -> str:
    """Return the match-form folding of one character (possibly empty or longer).

    Compatibility forms (full-width, ligatures, mathematical letters) and accents
    go through NFKD; invisible format characters, variation selectors and emoji
    skin-tone modifiers are dropped; letters are case-folded and look-alikes from
    other scripts mapped to Latin. A lone surrogate (a broken client's JSON can carry
    one) becomes U+FFFD, which no rule matches either: the match form is then always
    valid UTF-8, which the Hyperscan gates need.
    """
    if ch.isascii():
        return ch.lower()
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    punct = _PUNCT_FOLD.get(ch)
    if punct is not None:
        return punct
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", ch):
        cp = ord(part)
        cat = unicodedata.category(part)
        if cat in ("Mn", "Me", "Cf") or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF:
            continue
        if cat.startswith("Z"):
            out.append(" ")
            continue
        if part.isascii():
            out.append(part.lower())
            continue
        punct = _PUNCT_FOLD.get(part)
        if punct is not None:
            out.append(punct)
            continue
        for low in part.casefold():
            low = _EXTRA_FOLD.get(low, low)
            if len(low) == 1 and _IN_CONFUSABLE_SCRIPT(low):
                low = _latin_lookalikes().get(low, low)
            out.append(low)
    return "".join(out)


def fold_char_light(ch: str) -> str:
    """Return the light-form folding of one character: NFKC, invisible characters removed."""
    if ch.isascii():
        return ch
    cat = unicodedata.category(ch)
    cp = ord(ch)
    if cat == "Cf" or 0xFE00 <= cp <= 0xFE0F:
        return ""
    punct = _PUNCT_FOLD.get(ch)
    if punct is not None:
        return punct
    return unicodedata.normalize("NFKC", ch)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table filled on first sight of each code point.

    It also keeps the characters seen so far that fold to exactly one character
    (``single``) and to themselves (``same``): a set comparison (in C) then tells
    that a text's offsets do not move.
    """

    def __init__(self, fold: Callable[[str], str]) -> None:
        super().__init__()
        self._fold = fold
        self.single: set[str] = set()
        self.same: set[str] = set()
        for cp in range(128):
            self[cp] = self._folded(cp)

    def __missing__(self, cp: int) -> str:
        # Assignment of one key (and adding to a set) is atomic under the GIL, so
        # concurrent first sightings at worst compute the same value twice.
        value = self[cp] = self._folded(cp)
        return value

    def _folded(self, cp: int) -> str:
        char = chr(cp)
        value = self._fold(char)
        if len(value) == 1:
            self.single.add(char)
            if value == char:
                self.same.add(char)
        return value


_FOLD_TABLE = _FoldTable(fold_char)
_LIGHT_TABLE = _FoldTable(fold_char_light)


def warm_up(cache_dir: Path | None = None) -> None:
    """Load the look-alike table now rather than on the first Greek or Cyrillic letter.

    With ``cache_dir`` the table is read from (or written to) a JSON file there,
    which spares reading the whole confusables data set at start-up.
    """
    global _LATIN_LOOKALIKES
    if _LATIN_LOOKALIKES is not None:
        return
    if cache_dir is None:
        _latin_lookalikes()
        return
    version = importlib.metadata.version("confusable-homoglyphs")
    path = cache_dir / f"lookalikes-{version}.json"
    try:
        table = json.loads(path.read_text("utf-8"))
        if isinstance(table, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            with _LOOKALIKE_LOCK:
                _LATIN_LOOKALIKES = table
            return
    except (OSError, ValueError):
        pass
    table = _latin_lookalikes()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(json.dumps(table, ensure_ascii=False), "utf-8")
    except OSError:
        pass


# --- offset mapping ---------------------------------------------------------


class _Edit(NamedTuple):
    """One replaced stretch: input ``[in_start, in_end)`` became output ``[out_start, out_end)``.

    ``inner`` gives, for each output character, its input ``(start, end)`` when
    known exactly; otherwise the whole stretch maps to the whole input stretch.
    """

    out_start: int
    out_end: int
    in_start: int
    in_end: int
    inner: tuple[tuple[int, int], ...] | None = None


class _Stage:
    """A length-changing step whose edits are computed only when a span is mapped."""

    __slots__ = ("_compute", "_edits", "_out_starts")

    def __init__(self, compute: Callable[[], list[_Edit]]) -> None:
        self._compute = compute
        self._edits: list[_Edit] | None = None
        self._out_starts: list[int] = []

    def _load(self) -> list[_Edit]:
        if self._edits is None:
            self._edits = self._compute()
            self._out_starts = [e.out_start for e in self._edits]
        return self._edits

    def back_start(self, pos: int) -> int:
        """Map an output start offset to the input."""
        edits = self._load()
        i = bisect_right(self._out_starts, pos) - 1
        if i < 0:
            return pos
        e = edits[i]
        if pos < e.out_end:
            return e.inner[pos - e.out_start][0] if e.inner else e.in_start
        # Past the edit (a deletion just before pos lands here too).
        return pos - e.out_end + e.in_end

    def back_end(self, pos: int) -> int:
        """Map an output end offset (exclusive) to the input."""
        if pos <= 0:
            return 0
        edits = self._load()
        last = pos - 1
        i = bisect_right(self._out_starts, last) - 1
        if i < 0:
            return pos
        e = edits[i]
        if last < e.out_end:
            return e.inner[last - e.out_start][1] if e.inner else e.in_end
        return last - e.out_end + e.in_end + 1


def _regex_edits(
    pattern: re.Pattern[str],
    source: str,
    replace: Callable[[re.Match[str]], tuple[str, tuple[tuple[int, int], ...] | None]],
) -> list[_Edit]:
    edits: list[_Edit] = []
    shift = 0
    for m in pattern.finditer(source):
        out, inner = replace(m)
        if out == m.group():
            continue
        start = m.start() + shift
        edits.append(_Edit(start, start + len(out), m.start(), m.end(), inner))
        shift += len(out) - (m.end() - m.start())
    return edits


class _Collapse:
    """Runs of one character collapsed to that character, mapped back from the run lengths.

    Built from ``pattern.split`` of the text (pieces and runs, see ``_collapse``):
    lengths only, so a text with many runs costs little Python per run until a span
    is mapped, and then one pass over the runs.
    """

    __slots__ = ("_in_ends", "_in_starts", "_lengths", "_out_starts")

    def __init__(self, lengths: list[int] | Callable[[], list[int]]) -> None:
        self._lengths = lengths
        self._out_starts: list[int] | None = None
        self._in_starts: list[int] = []
        self._in_ends: list[int] = []

    def _load(self) -> list[int]:
        if self._out_starts is None:
            lengths = self._lengths() if callable(self._lengths) else self._lengths
            ends = list(accumulate(lengths))
            self._in_starts = ends[0:-1:2]
            self._in_ends = ends[1::2]
            out_starts = []
            removed = 0
            for start, end in zip(self._in_starts, self._in_ends, strict=True):
                out_starts.append(start - removed)
                removed += end - start - 1
            self._out_starts = out_starts
        return self._out_starts

    def back_start(self, pos: int) -> int:
        """Map an output start offset to the input (a run's character: the run's start)."""
        out_starts = self._load()
        i = bisect_right(out_starts, pos) - 1
        if i < 0:
            return pos
        if pos == out_starts[i]:
            return self._in_starts[i]
        return pos - out_starts[i] - 1 + self._in_ends[i]

    def back_end(self, pos: int) -> int:
        """Map an output end offset (exclusive) to the input (ending on a run: its end)."""
        if pos <= 0:
            return 0
        out_starts = self._load()
        last = pos - 1
        i = bisect_right(out_starts, last) - 1
        if i < 0:
            return pos
        return last - out_starts[i] + self._in_ends[i]


def _collapse(pattern: re.Pattern[str], source: str) -> tuple[str, _Collapse | None]:
    """Replace each run that ``pattern`` (``(aa+|bb+|...)``) matches by its character.

    ``re.split`` returns the pieces between runs and the runs as strings, in C.
    """
    parts = pattern.split(source)
    if len(parts) == 1:
        return source, None
    lengths = list(map(len, parts))
    parts[1::2] = [run[0] for run in parts[1::2]]
    return "".join(parts), _Collapse(lengths)


def _fold_edits(source: str, table: _FoldTable) -> list[_Edit]:
    # Every character of ``source`` is in the table: it was translated with it.
    if set(_NON_ASCII.findall(source)) <= table.single:
        return []  # accents fold one to one: no offset moves (the common case)
    edits: list[_Edit] = []
    shift = 0
    for m in _NON_ASCII.finditer(source):
        i = m.start()
        out = table[ord(source[i])]
        if len(out) == 1:
            continue
        start = i + shift
        inner = tuple((i, i + 1) for _ in out) if out else None
        edits.append(_Edit(start, start + len(out), i, i + 1, inner))
        shift += len(out) - 1
    return edits


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@dataclass(slots=True)
class Normalised:
    """A normalised text and the means to map its offsets to the original."""

    text: str
    original: str
    _stages: list[_Stage | _Collapse] = field(default_factory=list)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised stretch ``[start, end)`` to the original text."""
        if start >= end:
            return self._map_start(start), self._map_start(start)
        return self._map_start(start), self._map_end(end)

    def _map_start(self, pos: int) -> int:
        for stage in reversed(self._stages):
            pos = stage.back_start(pos)
        return min(pos, len(self.original))

    def _map_end(self, pos: int) -> int:
        for stage in reversed(self._stages):
            pos = stage.back_end(pos)
        return min(pos, len(self.original))


# --- the match form ---------------------------------------------------------

# Three or more single characters separated by a space, dot, dash, underscore or
# asterisk: "k i l l", "s.u.i.c.i.d.e". Up to three separators allow the double
# space people put between the spelled-out words.
_SPLIT_LETTERS = re.compile(r"(?<![\w@$])[\w@$](?:[ .\-_*]{1,3}[\w@$](?![\w@$])){2,}")
_SPLIT_SEPARATORS = re.compile(r"[ .\-_*]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")
# Cheap pre-checks (they start with a character class, which re scans for in C).
_SPLIT_HINT = re.compile(r"[ .\-_*][\w@$][ .\-_*]{1,3}[\w@$](?![\w@$])")
# A leet digit or symbol next to a letter ("k1ll", "3am", "h!"): it starts with a
# character class, so re skips to the leet characters in C.
_LEET_HINT = re.compile(r"[0134579@$!](?:(?<=[^\W\d_].)|(?=[^\W\d_]))")

# A token is a run of word characters and leet symbols; one is folded when a
# letter in it touches a leet digit or symbol (it contains a ``_LEET_HINT`` match).
_TOKEN_CHAR = re.compile(r"[\w@$!]")
_TOKEN_REST = re.compile(r"[\w@$!]*")
_LEET_MAP = str.maketrans(
    {"1": "i", "3": "e", "0": "o", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t", "9": "g"}
)
# A number followed by a unit or an ordinal is not leetspeak: "3am", "10mg", "2nd".
# Two or more leading digits mark a number too ("100pills").
_NUMBER_TOKEN = re.compile(
    r"\d{2,}\w*|\d(?:am|pm|h|hrs?|min|mins|mg|g|kg|ml|l|x|st|nd|rd|th|k|m|km|cm|mm|s|y|yo|"
    r"er|e|eme|re|te|ter|ste|o|a|ª|º|°)"
)

# Sentence breaks become ".", clause breaks ",", every other symbol a word gap.
_PUNCT_TABLE = str.maketrans(
    {
        **{c: " " for c in "'\"`-_/\\|()[]{}<>#%&*+=~^@$\t\r\x0b\x0c"},
        **{c: "." for c in ".!?;\n"},
        ",": ",",
        # A colon stays: "insta: name" is how handles are shared.
        ":": ":",
    }
)
_SPACES = re.compile(r"(  +)")


def _join_split(m: re.Match[str]) -> tuple[str, tuple[tuple[int, int], ...] | None]:
    run = m.group()
    if len(_HAS_LETTER.findall(run)) < 2:
        return run, None
    base = m.start()
    inner = tuple((base + i, base + i + 1) for i, c in enumerate(run) if c not in " .-_*")
    return _SPLIT_SEPARATORS.sub("", run), inner


def _join_split_text(m: re.Match[str]) -> str:
    return _join_split(m)[0]


def _unleet_token(token: str) -> str:
    if _NUMBER_TOKEN.fullmatch(token):
        return token
    out = token.translate(_LEET_MAP)
    if "!" in out:
        # "!" is a letter only inside a word ("k!ll"), not at its end ("help!").
        chars = list(out)
        for i, c in enumerate(chars):
            if c == "!" and i + 1 < len(chars) and chars[i + 1].isalpha():
                chars[i] = "i"
        out = "".join(chars)
    return out


def _unleet_text(s: str) -> str:
    """Fold leetspeak in every token of ``s`` in which a letter touches a leet character.

    The tokens are found from the hints (few) and grown to their ends: a regex with
    a lookahead at every token start cost about 50 µs on a 400-character message.
    """
    parts: list[str] = []
    done = 0
    for m in _LEET_HINT.finditer(s):
        hint = m.start()
        if hint < done:
            continue  # in the token just folded
        start = hint
        while start > done and _TOKEN_CHAR.match(s, start - 1):
            start -= 1
        tail = _TOKEN_REST.match(s, hint)
        end = tail.end() if tail else hint  # always a match: the pattern may be empty
        parts.append(s[done:start])
        parts.append(_unleet_token(s[start:end]))
        done = end
    parts.append(s[done:])
    return "".join(parts)


# A run of one letter is replaced by its letter with ``re.split`` (see ``_collapse``),
# which runs no Python code per run. The regex names only the letters the text doubles:
# ``([a-z])\1+`` is tried at every letter (about 15 µs on 500 characters even
# with no doubled letter).
#
# One Hyperscan pass over the folded text answers the normaliser's questions at
# once, in about 1.5 µs: which of "aa" to "zz" occur, and whether the split-letters
# and the leetspeak hints may match (``re`` took about 5 and 2.5 µs to look for
# those two on 500 characters). The hints' expressions match at least what the
# regexes match (lookarounds dropped; ``\w`` and letters take every non-ASCII
# character), so "no" is final and "maybe" is asked of ``re``. Without Hyperscan
# (or on lone surrogates) ``re`` looks for all three.
_ASCII_DOUBLES: Final = tuple(c + c for c in "abcdefghijklmnopqrstuvwxyz")
_HS_WORD: Final = r"0-9A-Za-z_\x{80}-\x{10FFFF}"
_HS_LETTER: Final = r"A-Za-z\x{80}-\x{10FFFF}"
_HINTS = presence_set(
    [
        *_ASCII_DOUBLES,
        rf"[ .\-_*][{_HS_WORD}@$][ .\-_*]{{1,3}}[{_HS_WORD}@$]",  # _SPLIT_HINT
        rf"[{_HS_LETTER}][0134579@$!]|[0134579@$!][{_HS_LETTER}]",  # _LEET_HINT
    ],
    literal=False,
)
_SPLIT_FOUND: Final = len(_ASCII_DOUBLES)
_LEET_FOUND: Final = _SPLIT_FOUND + 1


_HINTS_MIN_LENGTH: Final = 120
"""Below this length ``re`` answers the three questions faster than a Hyperscan call."""


def _found_hints(s: str) -> frozenset[int] | None:
    """Return which of ``_HINTS`` occur in ``s``; None when ``re`` is to tell."""
    if _HINTS is None or len(s) < _HINTS_MIN_LENGTH:
        return None
    found = _HINTS.found(s)
    return None if found is None else frozenset(found)


def _doubled_letters(s: str, found: frozenset[int]) -> set[str]:
    """Return the letters that occur twice in a row in ``s`` (``found``: its hints)."""
    return {_ASCII_DOUBLES[i][0] for i in found if i < _SPLIT_FOUND} | _other_doubled(s)


def _other_doubled(s: str) -> set[str]:
    """Return the letters other than a to z that occur twice in a row in ``s``."""
    if s.isascii():
        return set()
    return {c for c in set(_NON_ASCII.findall(s)) if c.isalpha() and c + c in s}


def _squeeze(s: str, found: frozenset[int] | None) -> tuple[str, _Collapse | None]:
    """Collapse runs of a repeated letter.

    With the hints of a long text, only its doubled letters are looked for. A short
    text (or one without hints) takes one substitution over every letter, as cheap
    there as finding the doubled ones first; its offsets are split out only when a
    span is mapped.
    """
    if found is not None:
        doubled = _doubled_letters(s, found)
        return _collapse(_runs_of(frozenset(doubled)), s) if doubled else (s, None)
    others = frozenset() if s.isascii() else frozenset(_other_doubled(s))
    squeezed = _every_run_of(others).sub(_FIRST_GROUP, s)
    if squeezed == s:
        return s, None
    runs = _runs_of(_ASCII_LETTERS | others)
    return squeezed, _Collapse(lambda: list(map(len, runs.split(s))))


_ASCII_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_FIRST_GROUP = operator.itemgetter(1)


@functools.lru_cache(maxsize=4096)
def _every_run_of(others: frozenset[str]) -> re.Pattern[str]:
    """Return a regex matching a run of one ASCII letter or one of ``others``."""
    return re.compile("([a-z" + "".join(re.escape(c) for c in sorted(others)) + r"])\1+")


@functools.lru_cache(maxsize=4096)
def _runs_of(letters: frozenset[str]) -> re.Pattern[str]:
    """Return a regex matching a run of one of ``letters`` (see ``_collapse``).

    An alternation of literals (``(ee+|ll+)``): ``re`` skips to their first
    characters in C, where ``(([el])\\2+)`` set up a group at each of them (twice as slow).
    """
    return re.compile("(" + "|".join(re.escape(c) * 2 + "+" for c in sorted(letters)) + ")")


_NON_ASCII_RUN = re.compile(r"([^\x00-\x7f]+)")


_FOLD_STRETCHES_FROM: Final = 150


def _fold(text: str) -> str:
    """Return ``text.translate(_FOLD_TABLE)`` of a text that is not all ASCII.

    ``str.translate`` looks up every character of such a text in the table, about
    40 ns each. A long text with few non-ASCII characters (most Latin-script
    chat) goes faster in stretches: its ASCII stretches lowered (their fold, see
    ``fold_char``) and only the non-ASCII ones looked up (19 -> 14 µs on 450
    characters); a dense one (Polish, Czech) would be slower so (23 -> 36 µs).
    """
    if len(text) < _FOLD_STRETCHES_FROM:
        return text.translate(_FOLD_TABLE)
    sample = text[:160]  # how dense the non-ASCII characters are, roughly
    if len(sample.encode("utf-8", "surrogatepass")) - len(sample) > 10:
        return text.translate(_FOLD_TABLE)
    parts = _NON_ASCII_RUN.split(text)
    parts[0::2] = [part.lower() for part in parts[0::2]]
    parts[1::2] = [part.translate(_FOLD_TABLE) for part in parts[1::2]]
    return "".join(parts)


def normalise(text: str) -> Normalised:
    """Return the match form of ``text`` (see the module docstring)."""
    result = Normalised(text="", original=text)
    stages = result._stages
    if text.isascii():
        s = text.lower()
    else:
        s = _fold(text)
        source = text
        stages.append(_Stage(lambda: _fold_edits(source, _FOLD_TABLE)))

    found = _found_hints(s)
    if (found is None or _SPLIT_FOUND in found) and _SPLIT_HINT.search(s):
        before_join = s
        s = _SPLIT_LETTERS.sub(_join_split_text, s)
        if s != before_join:
            stages.append(_Stage(lambda: _regex_edits(_SPLIT_LETTERS, before_join, _join_split)))
            found = _found_hints(s)  # joined letters may touch a leet character now

    # Leetspeak folding maps one character to one, so it needs no offset stage.
    if (found is None or _LEET_FOUND in found) and _LEET_HINT.search(s):
        s = _unleet_text(s)
        found = None  # the text changed: look again

    s = s.translate(_PUNCT_TABLE)

    if "  " in s:
        s, spaces = _collapse(_SPACES, s)
        if spaces is not None:
            stages.append(spaces)

    # Punctuation maps one character to one and leaves letters alone: the doubled
    # letters are those of the text before it.
    s, runs = _squeeze(s, found)
    if runs is not None:
        stages.append(runs)

    result.text = s
    return result


def normalise_light(text: str) -> Normalised:
    """Return the light form of ``text``: NFKC, zero-width and bidi controls removed."""
    result = Normalised(text=text, original=text)
    if text.isascii():
        return result
    chars = set(_NON_ASCII.findall(text))
    if chars <= _LIGHT_TABLE.same or all(_LIGHT_TABLE[ord(c)] == c for c in chars):
        return result  # accented letters only: the light form is the text itself
    result.text = text.translate(_LIGHT_TABLE)
    source = text
    result._stages.append(_Stage(lambda: _fold_edits(source, _LIGHT_TABLE)))
    return result


# --- lexicon patterns -------------------------------------------------------

_GROUP_OPENERS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


class PatternError(ValueError):
    """A lexicon pattern uses regex syntax the compiler does not accept."""


@functools.lru_cache(maxsize=8192)
def fold_pattern_literal(source: str) -> str:
    """Fold a lexicon regex the way ``normalise`` folds text.

    Literal letters are accent-stripped, case-folded and squeezed; a space or an
    apostrophe or hyphen becomes an optional word gap (`` ?``), so "self harm"
    also matches "selfharm" and "self-harm", and "i'm" matches "im". Escapes,
    character classes and quantifiers are kept. Capturing groups become
    non-capturing (the compiler names its own groups). Memoised: the prefilter's
    anchors and the matchers fold the same patterns.
    """
    out: list[str] = []
    i = 0
    n = len(source)
    last_letter = ""
    while i < n:
        c = source[i]
        if c == "\\":
            out.append(source[i : i + 2])
            i += 2
            last_letter = ""
            continue
        if c == "[":
            end = _class_end(source, i)
            out.append("".join(fold_char(ch) if ch.isalpha() else ch for ch in source[i : end + 1]))
            i = end + 1
            last_letter = ""
            continue
        if c == "{":
            end = source.index("}", i)
            out.append(source[i : end + 1])
            i = end + 1
            last_letter = ""
            continue
        if c == "(":
            if source.startswith("(?P", i) or (
                source.startswith("(?<", i)
                and not (source.startswith("(?<=", i) or source.startswith("(?<!", i))
            ):
                raise PatternError(f"named groups are not allowed: {source!r}")
            opener = next((o for o in _GROUP_OPENERS if source.startswith(o, i)), None)
            if opener is None:
                if source.startswith("(?", i):
                    raise PatternError(f"unsupported group syntax: {source!r}")
                out.append("(?:")
                i += 1
            else:
                out.append(opener)
                i += len(opener)
            last_letter = ""
            continue
        if c in " '-":
            i += 1
            # The gap is optional already; an author's own "?" after it says so.
            author_optional = i < n and source[i] == "?"
            if author_optional:
                i += 1
            # Next to a class or a repeat ("[a-z]+ ", " \\w+") an optional gap would
            # let the regex split one word anywhere: there a bare space is required.
            prev = out[-1] if out else ""
            nxt = source[i] if i < n else ""
            beside_class = bool(prev) and (prev[-1] in "+*}]" or prev.startswith("\\"))
            # After a one-letter word ("i want", "a rope") the space is required too:
            # an optional gap there makes every word starting with "i" or "a" explore
            # the whole "i ..." subtree, and "iwant" is not how people type.
            one_letter = (
                c == " "
                and len(out) >= 1
                and out[-1].isalpha()
                and len(out[-1]) == 1
                and (len(out) < 2 or not out[-2][-1:].isalnum())
            )
            if not author_optional and (beside_class or one_letter or nxt in ("[", "\\")):
                if not (out and out[-1] in (" ?", "[ ]")):
                    out.append("[ ]")
            elif not (out and out[-1] in (" ?", "[ ]")):
                out.append(" ?")
            last_letter = ""
            continue
        folded = fold_char(c) if not c.isascii() or c.isalpha() else c
        for f in folded:
            if f.isalpha():
                if f == last_letter:
                    continue
                last_letter = f
            else:
                last_letter = ""
            out.append(re.escape(f) if not f.isascii() and not f.isalnum() else f)
        i += 1
    return "".join(out)


def _class_end(source: str, start: int) -> int:
    i = start + 1
    if i < len(source) and source[i] == "^":
        i += 1
    if i < len(source) and source[i] == "]":
        i += 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == "]":
            return i
        i += 1
    raise PatternError(f"unterminated character class: {source!r}")


def split_top_level(source: str) -> list[str]:
    """Split a regex at its top-level ``|`` (outside groups and classes)."""
    parts: list[str] = []
    depth = 0
    i = 0
    start = 0
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(source, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def _group_end(source: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(source, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PatternError(f"unbalanced parentheses: {source!r}")
