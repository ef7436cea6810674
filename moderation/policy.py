"""Room policy: what automation does with a message, given the engine's verdict.

The engine only informs; the room decides. Each room's ``Room.policy`` JSON overrides
the defaults below key by key (docs/moderation.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from moderation.engine import Tier, Verdict


class Outcome(StrEnum):
    ALLOW = "allow"  # deliver, nothing else
    WARN = "warn"  # deliver, with a private notice to the writer
    FLAG = "flag"  # deliver, and alert the moderators
    HOLD = "hold"  # keep back for a moderator to release or hide
    BLOCK = "block"  # refuse: nothing stored, the writer is told why


# Stronger outcomes win when several rules apply to one message.
_STRENGTH = [Outcome.ALLOW, Outcome.WARN, Outcome.FLAG, Outcome.HOLD, Outcome.BLOCK]

DEFAULT_POLICY: dict[str, Any] = {
    # Peers must be able to talk about suicide: crisis messages are delivered and flagged.
    "crisis": {"concern": "flag", "high": "flag", "imminent": "flag"},
    # Graphic method details (means with doses or heights, "how to") are held.
    "method_detail": "hold",
    "norms": {
        "contact_info": "hold",
        "abuse": "hold",
        "link": "hold",
        "shouting": "warn",
        "too_long": "block",
    },
    "allow_links": False,
    # The norms ladder: this many norm breaks within the window mute the writer.
    "ladder": {"breaks": 3, "window_minutes": 10, "mute_minutes": 5},
}

NORM_EXPLANATIONS = {
    "contact_info": _(
        "Personal contact details (phone numbers, e-mail addresses, handles, addresses) "
        "are not shared here, to keep everyone safe."
    ),
    "abuse": _("Words aimed at hurting someone are not allowed here."),
    "link": _("Links are not shared in this room."),
    "shouting": _("Writing mostly in capitals reads as shouting; please write in lower case."),
    "too_long": _("This message is longer than the room allows."),
    "method_detail": _(
        "Details of methods can put others at risk; a moderator will look at it with care."
    ),
}


def room_policy(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Merge a room's overrides over the defaults (one level deep)."""
    merged = {
        key: (dict(value) if isinstance(value, dict) else value)
        for key, value in DEFAULT_POLICY.items()
    }
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Decision:
    """What to do with one message, and why."""

    outcome: Outcome
    crisis: bool  # the moderators get a crisis alert and the writer a support frame
    norms: tuple[str, ...] = ()  # the norms that shaped the outcome (hold, warn, block)
    reasons: tuple[str, ...] = field(default=())

    @property
    def stored(self) -> bool:
        return self.outcome is not Outcome.BLOCK

    @property
    def visible(self) -> bool:
        return self.outcome in (Outcome.ALLOW, Outcome.WARN, Outcome.FLAG)


def decide(verdict: Verdict, policy: dict[str, Any], *, moderator: bool) -> Decision:
    """Decide what happens to a message. A moderator's own message is never held or
    blocked by automation, but crisis language from them still alerts."""
    crisis = verdict.tier is not Tier.NONE
    outcome = Outcome.ALLOW
    if crisis:
        outcome = Outcome(policy["crisis"].get(verdict.tier.value, "flag"))
    norms: list[str] = []
    if verdict.method_detail:
        outcome = _stronger(outcome, Outcome(policy["method_detail"]))
        norms.append("method_detail")
    for norm in sorted(verdict.norms):
        if norm == "link" and policy.get("allow_links"):
            continue
        rule = Outcome(policy["norms"].get(norm, "allow"))
        if rule is not Outcome.ALLOW:
            outcome = _stronger(outcome, rule)
            norms.append(norm)
    if moderator and outcome in (Outcome.HOLD, Outcome.BLOCK, Outcome.WARN):
        outcome = Outcome.FLAG if crisis else Outcome.ALLOW
        norms = []
    return Decision(
        outcome=outcome,
        crisis=crisis,
        norms=tuple(norms),
        reasons=tuple(str(NORM_EXPLANATIONS.get(n, n)) for n in norms),
    )


def _stronger(a: Outcome, b: Outcome) -> Outcome:
    return a if _STRENGTH.index(a) >= _STRENGTH.index(b) else b
