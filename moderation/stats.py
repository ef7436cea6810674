"""Figures for the statistics page; docs/review.md defines each one."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from chat.models import Message
from moderation.models import TIER_RANK, Flag, ModerationAction
from moderation.review import in_date_range

TIERS = sorted(TIER_RANK, key=TIER_RANK.__getitem__)
CLOSED = (Flag.Status.RESOLVED, Flag.Status.DISMISSED)
NO_CATEGORY = "uncategorised"
PEER_REPORT = "peer report"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-quantile (0..1) by linear interpolation between closest ranks.

    The same definition as numpy's default and ``statistics.quantiles(method="inclusive")``;
    ``percentile(v, 0.5)`` is the median. None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def week_start(day: date) -> date:
    """Return the Monday of the day's ISO week."""
    return day - timedelta(days=day.weekday())


def weeks_between(date_from: date, date_to: date) -> list[date]:
    """Return the Mondays of every week that overlaps date_from..date_to."""
    weeks = []
    week = week_start(date_from)
    while week <= date_to:
        weeks.append(week)
        week += timedelta(days=7)
    return weeks


@dataclass
class WeeklyFlags:
    weeks: list[date]
    by_tier: dict[date, Counter[str]]
    by_category: dict[date, Counter[str]]
    categories: list[str]

    def tier_rows(self) -> list[tuple[date, list[int]]]:
        return [(week, [self.by_tier[week][tier] for tier in TIERS]) for week in self.weeks]

    def category_rows(self) -> list[tuple[date, list[int]]]:
        return [(week, [self.by_category[week][c] for c in self.categories]) for week in self.weeks]

    def category_totals(self) -> list[tuple[str, int]]:
        totals: Counter[str] = Counter()
        for counts in self.by_category.values():
            totals.update(counts)
        return [(category, totals[category]) for category in self.categories]


def flag_categories(kind: str, categories: list[str], norms: list[str]) -> list[str]:
    """Return what a flag is counted under: its crisis categories and norms."""
    found = list(dict.fromkeys([*categories, *norms]))
    if found:
        return found
    return [PEER_REPORT if kind == Flag.Kind.REPORT else NO_CATEGORY]


def weekly_flags(date_from: date, date_to: date) -> WeeklyFlags:
    """Count flags created in the range per week (Monday first), by tier and by category.

    A flag with several categories counts once under each.
    """
    weeks = weeks_between(date_from, date_to)
    by_tier: dict[date, Counter[str]] = defaultdict(Counter)
    by_category: dict[date, Counter[str]] = defaultdict(Counter)
    rows = Flag.objects.filter(in_date_range("created", date_from, date_to)).values_list(
        "created", "tier", "kind", "categories", "norms"
    )
    for created, tier, kind, categories, norms in rows.iterator():
        week = week_start(timezone.localtime(created).date())
        by_tier[week][tier] += 1
        by_category[week].update(flag_categories(kind, categories or [], norms or []))
    seen = {c for counts in by_category.values() for c in counts}
    ordered = sorted(seen - {NO_CATEGORY, PEER_REPORT})
    ordered += [c for c in (PEER_REPORT, NO_CATEGORY) if c in seen]
    return WeeklyFlags(weeks, by_tier, by_category, ordered)


@dataclass(frozen=True)
class AckTimes:
    """Seconds from an alert's first flag to its acknowledgement."""

    label: str
    count: int
    median: float | None
    p90: float | None


def ack_times(date_from: date, date_to: date) -> list[AckTimes]:
    """Return the median and 90th percentile time to acknowledge, overall and per tier.

    Counts alerts (head flags, not the flags grouped under them) created in the range
    and acknowledged since; still unacknowledged ones are left out (the queue shows them).
    """
    rows = Flag.objects.filter(
        in_date_range("created", date_from, date_to),
        alert__isnull=True,
        acknowledged_at__isnull=False,
    ).values_list("tier", "created", "acknowledged_at")
    waits: dict[str, list[float]] = defaultdict(list)
    for tier, created, acknowledged in rows.iterator():
        if acknowledged is None:  # excluded by the filter; keeps the type checker informed
            continue
        seconds = max(0.0, (acknowledged - created).total_seconds())
        waits["all"].append(seconds)
        waits[tier].append(seconds)
    return [
        AckTimes(
            label=label,
            count=len(waits[label]),
            median=percentile(waits[label], 0.5),
            p90=percentile(waits[label], 0.9),
        )
        for label in ["all", *reversed(TIERS)]
        if label == "all" or waits[label]
    ]


@dataclass(frozen=True)
class RuleRate:
    """How often flags that a lexicon rule took part in were dismissed as false alarms."""

    rule: str
    closed: int
    dismissed: int

    @property
    def rate(self) -> float:
        return self.dismissed / self.closed if self.closed else 0.0

    @property
    def percent(self) -> float:
        return round(100 * self.rate, 1)


def false_alarm_rates(date_from: date, date_to: date) -> list[RuleRate]:
    """Return per rule: closed flags created in the range, and how many were dismissed.

    Highest rate first, then most flags. Open flags have no verdict yet and are left out.
    """
    closed: Counter[str] = Counter()
    dismissed: Counter[str] = Counter()
    rows = Flag.objects.filter(
        in_date_range("created", date_from, date_to), status__in=CLOSED
    ).values_list("status", "rules")
    for status, rules in rows.iterator():
        for rule in set(rules or []):
            closed[rule] += 1
            if status == Flag.Status.DISMISSED:
                dismissed[rule] += 1
    rates = [RuleRate(rule, closed[rule], dismissed[rule]) for rule in closed]
    return sorted(rates, key=lambda r: (-r.rate, -r.closed, r.rule))


@dataclass(frozen=True)
class HeldOutcomes:
    """What happened to messages held for a moderator, and the status of all messages."""

    held: int
    released: int
    hidden: int
    statuses: dict[str, int]

    @property
    def labelled_statuses(self) -> list[tuple[str, int]]:
        """The statuses as people read them ("held for a moderator", translated)."""
        return [(str(Message.Status(status).label), n) for status, n in self.statuses.items()]


def held_outcomes(date_from: date, date_to: date) -> HeldOutcomes:
    """Count holds, releases and hides of held messages in the range (from the audit log),
    and the messages written in the range by their status now."""
    actions = ModerationAction.objects.filter(in_date_range("created", date_from, date_to))
    counts = Counter(
        dict(
            actions.filter(action__in=["auto.hold", "message.release"])
            .values_list("action")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    # moderation.actions records the status a hidden message had before in details["was"].
    hidden = actions.filter(action="message.hide", details__was=Message.Status.HELD).count()
    statuses = dict.fromkeys(Message.Status.values, 0)
    for status, n in (
        Message.objects.filter(in_date_range("created", date_from, date_to))
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        statuses[status] = n
    return HeldOutcomes(
        held=counts["auto.hold"],
        released=counts["message.release"],
        hidden=hidden,
        statuses=statuses,
    )
