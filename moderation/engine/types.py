"""Value types returned by the moderation engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CRISIS_CATEGORIES: frozenset[str] = frozenset(
    {"suicide", "self_harm", "harm_others", "abuse_disclosure", "distress"}
)
NORMS: frozenset[str] = frozenset({"contact_info", "link", "abuse", "shouting", "too_long"})


class Tier(StrEnum):
    """How urgently a human should look at a message, lowest first."""

    NONE = "none"
    CONCERN = "concern"
    HIGH = "high"
    IMMINENT = "imminent"

    @property
    def rank(self) -> int:
        """Return the position of the tier: none 0, concern 1, high 2, imminent 3."""
        return _RANK[self]

    # str comparisons would order tiers alphabetically; compare by rank instead.
    # (The engine compares tiers a dozen times per flagged message: a dict lookup,
    # not ``Tier(other)``, which costs about 0.3 µs.)
    def __lt__(self, other: str) -> bool:
        return _RANK[self] < _rank(other)

    def __le__(self, other: str) -> bool:
        return _RANK[self] <= _rank(other)

    def __gt__(self, other: str) -> bool:
        return _RANK[self] > _rank(other)

    def __ge__(self, other: str) -> bool:
        return _RANK[self] >= _rank(other)

    __hash__ = StrEnum.__hash__


_RANK: dict[str, int] = {"none": 0, "concern": 1, "high": 2, "imminent": 3}


def _rank(value: str) -> int:
    """Return the rank of a tier or tier name; ValueError for anything else."""
    rank = _RANK.get(value)
    return _RANK[Tier(value)] if rank is None else rank


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A stretch ``[start, end)`` of the original text and what it signals.

    ``category`` is a crisis category (``suicide``...) or a norm name (``link``...).
    """

    start: int
    end: int
    category: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The engine's judgement of one message."""

    tier: Tier = Tier.NONE
    categories: frozenset[str] = field(default_factory=frozenset)
    norms: frozenset[str] = field(default_factory=frozenset)
    spans: tuple[Span, ...] = ()
    rules: tuple[str, ...] = ()
    method_detail: bool = False

    @property
    def is_crisis(self) -> bool:
        """Return True when the message needs a moderator's attention (concern or above)."""
        return self.tier is not Tier.NONE

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data with sorted lists, so output is stable."""
        return {
            "tier": str(self.tier),
            "categories": sorted(self.categories),
            "norms": sorted(self.norms),
            "spans": [[s.start, s.end, s.category] for s in self.spans],
            "rules": list(self.rules),
            "method_detail": self.method_detail,
        }
