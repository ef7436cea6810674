"""Structural norm checks: phone numbers, e-mails, handles, links, shouting, length.

Word-list norms (abuse, "my snap is ...", street addresses) are lexicon rules;
this module covers what needs structure rather than words. It works on the
light form of the text (see ``normalize.normalise_light``) so digits stay digits.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import phonenumbers

from .cache import CompileCache, digest
from .gate import Gate, gate_for, presence_set
from .normalize import Normalised, normalise_light


class NormsDataError(ValueError):
    """The norms data file (helplines, link domains) is malformed."""


@dataclass(frozen=True, slots=True)
class NormsData:
    """Data the structural checks need, loaded from ``lexicons/norms.toml``."""

    helplines: frozenset[str]
    phone_regions: tuple[str, ...]
    tlds: frozenset[str]
    word_tlds: frozenset[str]
    allowed_domains: frozenset[str]


def load_norms_data(path: Path) -> NormsData:
    """Read helplines, phone regions and link data from a TOML file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NormsDataError(f"{path}: {exc}") from exc

    def strings(section: str, key: str) -> list[str]:
        table = data.get(section, {})
        value = table.get(key, []) if isinstance(table, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise NormsDataError(f"{path}: [{section}] {key} must be a list of strings")
        return list(value)

    helplines = strings("helplines", "numbers")
    return NormsData(
        helplines=frozenset(digits_only(n) for n in helplines),
        phone_regions=tuple(r.upper() for r in strings("phones", "regions")),
        tlds=frozenset(t.lower() for t in strings("links", "tlds")),
        word_tlds=frozenset(t.lower() for t in strings("links", "word_tlds")),
        allowed_domains=frozenset(d.lower() for d in strings("links", "allowed_domains")),
    )


def digits_only(text: str) -> str:
    """Return the ASCII digits of ``text`` (full-width digits folded)."""
    return "".join(str(int(c)) for c in text if c.isdigit() and c.isdecimal())


@dataclass(frozen=True, slots=True)
class NormHit:
    """A norm breach at ``[start, end)`` of the original text."""

    norm: str
    start: int
    end: int


# A run of digits with the separators people put in phone numbers. Leading "+"
# or "00" marks an international number.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\b00)?\(?\d(?:[ \-./()]{0,2}\d){5,16}(?!\w)")
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|(?:19|20)\d\d\s*[-/]\s*(?:19|20)\d\d")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# "name at domain dot com", "name (at) domain [dot] de", "jan małpa wp kropka pl".
_AT_WORDS = (
    r"at|arroba|chiocciola|malpa|małpa|zavinac|zavináč|klammeraffe|arobase|apenstaartje|"
    r"apestaartje|aapje|a commerciale|coada de maimuta"
)
_DOT_WORDS = r"dot|punkt|point|punto|kropka|tecka|tečka|punct|ponto|punt|stip"
_OBF_SEP = rf"\s*[(\[{{<]?\s*(?:{_DOT_WORDS}|\.)\s*[)\]}}>]?\s*"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.])[\w+-]{{2,}}(?:{_OBF_SEP}[\w+-]+)*?"
    rf"\s*[(\[{{<]?\s*(?:{_AT_WORDS})\s*[)\]}}>]?\s*[\w-]+"
    rf"(?:{_OBF_SEP}[\w-]+)*?{_OBF_SEP}(?P<tld>[a-z]{{2,6}})(?![\w/])",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.])@[a-z0-9_](?:[a-z0-9_.]{1,29})(?<!\.)", re.IGNORECASE)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@./-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,12}))(?![\w-])(/[^\s]*)?",
    re.IGNORECASE,
)
# Cheap pre-checks; each starts with a character class or literal, which ``re``
# scans for in C, so plain chat pays almost nothing.
_PHONE_HINT = re.compile(r"\d(?:[ \-./()]{0,2}\d){5}")
_DOT_HINT = re.compile(r"[.][^\W\d_]|https?:|www")
# Literal strings: a spelled-out address needs an "at" word and a dot or dot word.
# One Hyperscan pass finds which occur; without it, ``in`` looks for each (a C
# substring search each; a regex alternation of them starts at every space).
_AT_HINTS = (
    " at ",
    "(at)",
    "[at]",
    "{at}",
    "<at>",
    *(f" {w} " for w in _AT_WORDS.split("|")[1:]),
)
_DOT_TOKENS = (".", *(_DOT_WORDS.split("|")))
_AT_OR_DOT = presence_set([*_AT_HINTS, *_DOT_TOKENS])
_AT_OR_DOT_MIN_LENGTH = 100
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LOWER = bytes(range(ord("a"), ord("z") + 1))
_NOT_ASCII_UPPER = bytes(b for b in range(256) if b not in _ASCII_UPPER)
_NOT_ASCII_LOWER = bytes(b for b in range(256) if b not in _ASCII_LOWER)
_SCHEME = re.compile(r"^(?:https?://)?", re.IGNORECASE)


# The contact scans that cost most on long texts: ``re`` tries them at every word
# (the spelled-out e-mail backtracks through each word for a glued "at"). A gate
# (see ``gate``) tells where a match can start; the matches are the same.
_GATED: Final = (_OBFUSCATED_EMAIL, _BARE_DOMAIN, _EMAIL, _PHONE_CANDIDATE)


class NormChecker:
    """Run the structural norm checks with one configuration."""

    def __init__(
        self,
        data: NormsData,
        *,
        max_length: int,
        shouting_min_letters: int,
        shouting_ratio: float,
        gated: bool = False,
        cache: CompileCache | None = None,
    ) -> None:
        self.data = data
        self.max_length = max_length
        self.shouting_min_letters = shouting_min_letters
        self.shouting_ratio = shouting_ratio
        self._helpline_national = frozenset(h.lstrip("0") for h in data.helplines)
        self._helpline_endings = tuple(sorted(self._helpline_national))
        self._allowed_endings = tuple(sorted("." + d for d in data.allowed_domains))
        # Parsing keeps a number's national digits as its last digits when no region
        # rewrites its national prefix; only then may a number be judged without
        # parsing (see _is_private_phone).
        self._national_is_suffix = all(
            not getattr(
                phonenumbers.PhoneMetadata.metadata_for_region(r),
                "national_prefix_transform_rule",
                None,
            )
            for r in data.phone_regions
        )
        self._gated = gated
        self._cache = cache
        self._gates: dict[re.Pattern[str], Gate] | None = None
        self._gates_lock = threading.Lock()

    def prepare(self) -> None:
        """Compile the gates now rather than on first use (see ``Engine.prepare``)."""
        self._compiled_gates()

    def _compiled_gates(self) -> dict[re.Pattern[str], Gate]:
        gates = self._gates
        if gates is not None:
            return gates
        with self._gates_lock:
            if self._gates is None:
                built: dict[re.Pattern[str], Gate] = {}
                for pattern in _GATED if self._gated else ():
                    key = digest("norms", pattern.pattern, str(int(pattern.flags)))
                    gate = gate_for([pattern.pattern], 1, self._cache, key=key, flags=pattern.flags)
                    if gate is not None:
                        built[pattern] = gate
                self._gates = built
            return self._gates

    def _finditer(self, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        gate = self._compiled_gates().get(pattern)
        return pattern.finditer(text) if gate is None else gate.finditer(pattern, text)

    def check(self, text: str, *, region_hint: str | None = None) -> list[NormHit]:
        """Return the structural norm breaches of ``text``."""
        hits: list[NormHit] = []
        if len(text) > self.max_length:
            hits.append(NormHit("too_long", self.max_length, len(text)))
        lower = text.lower()
        if self._is_shouting(text, lower):
            hits.append(NormHit("shouting", 0, len(text)))
        has_at = _has_at_and_dot(f" {lower} ")
        has_dot = bool(_DOT_HINT.search(text))
        has_phone = bool(_PHONE_HINT.search(text))
        if not (has_at or has_dot or has_phone or "@" in text):
            return hits
        light = normalise_light(text)
        hits.extend(self._contact_and_links(light, region_hint, has_at, has_dot, has_phone))
        return hits

    def _allowed_domain(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        return host in self.data.allowed_domains or host.endswith(self._allowed_endings)

    def is_shouting(self, text: str) -> bool:
        """Return True when most letters are capitals over enough letters."""
        return self._is_shouting(text, text.lower())

    def _is_shouting(self, text: str, lower: str) -> bool:
        if lower == text:
            return False
        if text.isascii():
            # In ASCII the cased characters are exactly the letters: count them by
            # deleting everything else (bytes.translate, in C).
            raw = text.encode("ascii")
            upper = len(raw.translate(None, _NOT_ASCII_UPPER))
            if upper < self.shouting_ratio * self.shouting_min_letters:
                return False
            cased = upper + len(raw.translate(None, _NOT_ASCII_LOWER))
            return cased >= self.shouting_min_letters and upper >= self.shouting_ratio * cased
        # Counting cases calls a method per character: first rule it out from the
        # ASCII letters (bytes.translate, in C). Each non-ASCII character takes at
        # least two bytes, so at most len(raw) - len(text) of them can be capitals.
        raw = text.encode("utf-8", "surrogatepass")
        ascii_upper = len(raw.translate(None, _NOT_ASCII_UPPER))
        most_upper = ascii_upper + len(raw) - len(text)
        least_cased = ascii_upper + len(raw.translate(None, _NOT_ASCII_LOWER))
        if most_upper < self.shouting_ratio * least_cased:
            return False
        upper = sum(map(str.isupper, text))
        cased = upper + sum(map(str.islower, text))
        if cased < self.shouting_min_letters:
            return False
        return upper >= self.shouting_ratio * cased

    def _contact_and_links(
        self,
        light: Normalised,
        region_hint: str | None,
        has_at: bool,
        has_dot: bool,
        has_phone: bool,
    ) -> list[NormHit]:
        text = light.text
        hits: list[NormHit] = []
        taken: list[tuple[int, int]] = []

        def add(norm: str, start: int, end: int) -> None:
            taken.append((start, end))
            s, e = light.to_original(start, end)
            hits.append(NormHit(norm, s, e))

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e in taken)

        if "@" in text:
            for m in self._finditer(_EMAIL, text):
                add("contact_info", m.start(), m.end())
        # Links before spelled-out e-mails: "an article at example.org/x" is a link.
        for m in self._finditer(_URL, text) if has_dot else ():
            if free(m.start(), m.end()) and not self._allowed_url(m.group()):
                add("link", m.start(), m.end())
        for m in self._finditer(_BARE_DOMAIN, text) if has_dot else ():
            if not free(m.start(), m.end()):
                continue
            tld = m.group(2).lower()
            has_path = m.group(3) is not None
            if tld in self.data.tlds or (tld in self.data.word_tlds and has_path):
                if not self._allowed_domain(m.group(1)):
                    add("link", m.start(), m.end())
        for m in self._finditer(_OBFUSCATED_EMAIL, text) if has_at else ():
            if m.group("tld").lower() in self.data.tlds and free(m.start(), m.end()):
                add("contact_info", m.start(), m.end())
        for m in self._finditer(_HANDLE, text) if "@" in text else ():
            if free(m.start(), m.end()):
                add("contact_info", m.start(), m.end())
        for m in self._finditer(_PHONE_CANDIDATE, text) if has_phone else ():
            if free(m.start(), m.end()) and self._is_private_phone(m.group(), region_hint):
                add("contact_info", m.start(), m.end())
        return hits

    def _allowed_url(self, url: str) -> bool:
        host = _SCHEME.sub("", url).split("/", 1)[0]
        return self._allowed_domain(host)

    def _is_private_phone(self, candidate: str, region_hint: str | None) -> bool:
        """Return True for a plausible personal phone number that is not a helpline."""
        digits = digits_only(candidate)
        if not 7 <= len(digits) <= 15 or _DATE_LIKE.fullmatch(candidate.strip()):
            return False
        if self._is_helpline(digits):
            return False
        text = candidate.strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        elif self._flagged_in_any_region(text, digits):
            return True
        if text.startswith("+"):
            try:
                number = phonenumbers.parse(text, None)
            except phonenumbers.NumberParseException:
                return False
            if self._is_helpline(str(number.national_number)):
                return False
            return bool(phonenumbers.is_possible_number(number))
        return self._private_by_regions(text, digits, region_hint)

    def _private_by_regions(self, text: str, digits: str, region_hint: str | None) -> bool:
        """Judge a number without a country code by the first region where it is valid."""
        for region in self._regions(region_hint):
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return not self._is_helpline(str(number.national_number))
        return self._private_when_invalid(text, digits)

    @staticmethod
    def _private_when_invalid(text: str, digits: str) -> bool:
        # Not valid anywhere we know, but grouped like a phone number and long
        # enough: privacy errs on the side of flagging.
        return 9 <= len(digits) <= 13 and "." not in text and "/" not in text

    def _flagged_in_any_region(self, text: str, digits: str) -> bool:
        """Return True when ``_private_by_regions`` must say True, without parsing.

        Such a number is flagged when no region finds it valid, and when one does,
        unless its national number is a helpline. The national number is the
        number's last digits (see ``_national_is_suffix``): a number that ends in
        no helpline's digits is flagged in every region, valid or not. Parsing and
        validating costs tens of microseconds a region; this is a suffix test.
        """
        return (
            self._national_is_suffix
            and self._private_when_invalid(text, digits)
            and not digits.endswith(self._helpline_endings)
        )

    def _is_helpline(self, digits: str) -> bool:
        return digits in self.data.helplines or digits.lstrip("0") in self._helpline_national

    def _regions(self, region_hint: str | None) -> Iterable[str]:
        if region_hint:
            yield region_hint
        for region in self.data.phone_regions:
            if region != region_hint:
                yield region


def _has_at_and_dot(low: str) -> bool:
    """Return True when ``low`` (lower case, padded with spaces) has an "at" word and a dot."""
    short = len(low) < _AT_OR_DOT_MIN_LENGTH  # substring tests are faster there
    found = None if _AT_OR_DOT is None or short else _AT_OR_DOT.found(low)
    if found is None:
        return any(t in low for t in _DOT_TOKENS) and any(h in low for h in _AT_HINTS)
    return any(i >= len(_AT_HINTS) for i in found) and any(i < len(_AT_HINTS) for i in found)


_LANG_REGION = {
    "en": "GB",
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "pl": "PL",
    "cs": "CZ",
    "ro": "RO",
    "nl": "NL",
    "pt": "PT",
}


def region_for_language(lang: str | None) -> str | None:
    """Return the phone region tried first for a language hint."""
    return _LANG_REGION.get(lang or "")
