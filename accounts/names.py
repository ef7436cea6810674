"""Rules for pseudonyms (display names): length, forbidden characters, look-alikes."""

import json
import unicodedata
from functools import cache
from importlib import resources

MIN_LENGTH = 2
MAX_LENGTH = 32

# Zero-width and bidi control characters (and other format characters, category Cf)
# let one name pose as another or reorder the text around it.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# ASCII characters that read as another ASCII letter in most fonts.
_ASCII_LOOKALIKES = str.maketrans({"1": "l", "I": "l", "|": "l", "0": "O", "5": "S"})


class DisplayNameError(ValueError):
    """A display name that breaks a rule; ``code`` is stable, ``str()`` is for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def name_key(name: str) -> str:
    """Return the form two names are compared in for uniqueness (NFKC, case folded)."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


@cache
def _confusables() -> dict[str, str]:
    """Map each non-ASCII character to an ASCII look-alike, from the Unicode data."""
    raw = json.loads(
        (resources.files("confusable_homoglyphs") / "confusables.json").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for char, entries in raw.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            glyph = entry["c"].strip("\u200e\u200f")
            if glyph.isascii() and glyph.isprintable() and glyph:
                table[char] = glyph
                break
    return table


def skeleton(name: str) -> str:
    """Return a form in which names that look alike are equal (after UTS #39's idea)."""
    table = _confusables()
    text = unicodedata.normalize("NFKC", name)
    text = "".join(table.get(char, char) for char in text)
    text = text.translate(_ASCII_LOOKALIKES).casefold().replace("rn", "m")
    return "".join(char for char in text if not unicodedata.combining(char))


def check_display_name(name: str) -> str:
    """Return the name stripped of outer spaces, or raise DisplayNameError."""
    name = name.strip()
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise DisplayNameError(
                "name_characters",
                "A name may not contain control, zero-width or text-direction characters.",
            )
    length = len(unicodedata.normalize("NFC", name))
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise DisplayNameError(
            "name_length", f"A name has {MIN_LENGTH} to {MAX_LENGTH} characters."
        )
    return name
