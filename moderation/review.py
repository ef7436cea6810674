"""What supervisors read on the review pages: the queue, a session's transcript with its
flags, the audit log. Queries only; writes live in moderation/supervision.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from django.db.models import Case, Count, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chat.models import Membership, Message, Session
from moderation.models import TIER_RANK, Flag, ModerationAction, SupervisionNote

UNRESOLVED = (Flag.Status.OPEN, Flag.Status.ACKNOWLEDGED)

TIER_ORDER = Case(
    *(When(tier=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)


# --- filters shared by the pages -----------------------------------------------------


def day_start(day: date) -> datetime:
    """Return midnight at the start of the day in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def in_date_range(field_name: str, date_from: date | None, date_to: date | None) -> Q:
    """Match rows whose datetime field falls on the days from..to (both included)."""
    q = Q()
    if date_from is not None:
        q &= Q(**{f"{field_name}__gte": day_start(date_from)})
    if date_to is not None:
        q &= Q(**{f"{field_name}__lt": day_start(date_to + timedelta(days=1))})
    return q


def has_category(category: str) -> Q:
    """Match flags whose crisis categories or norms include the category.

    Compares the JSON text (``"suicide"`` with its quotes) so one query works on
    PostgreSQL and SQLite; the category comes from a fixed list of identifiers.
    """
    needle = f'"{category}"'
    return Q(categories__icontains=needle) | Q(norms__icontains=needle)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters; None or empty means "any"."""

    room: str = ""
    tier: str = ""
    category: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def flags(self) -> QuerySet[Flag]:
        """Return the flags that match every filter but status."""
        flags = Flag.objects.all()
        if self.room:
            flags = flags.filter(room__slug=self.room)
        if self.tier:
            flags = flags.filter(tier=self.tier)
        if self.category:
            flags = flags.filter(has_category(self.category))
        return flags.filter(in_date_range("created", self.date_from, self.date_to))

    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else UNRESOLVED


# --- the queue -----------------------------------------------------------------------


@dataclass
class QueueEntry:
    """One session in the queue, summarised over the flags that put it there."""

    session: Session
    flag_count: int
    top_tier: str
    oldest: datetime
    reports: int
    escalated: int
    open: int


def status_counts(filters: QueueFilters) -> dict[str, int]:
    """Count the flags in each status under every filter but status itself."""
    counts = dict.fromkeys(Flag.Status.values, 0)
    for row in filters.flags().values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def queue_rows(filters: QueueFilters) -> QuerySet[Flag, Any]:
    """Group the matching flags by session: highest tier first, then the oldest flag first."""
    return (
        filters.flags()
        .filter(status__in=filters.statuses(), session__isnull=False)
        .values("session_id")
        .annotate(
            flag_count=Count("id"),
            top_rank=Max(TIER_ORDER),
            oldest=Min("created"),
            reports=Count("id", filter=Q(kind=Flag.Kind.REPORT)),
            escalated=Count("id", filter=Q(escalated_at__isnull=False)),
            open=Count("id", filter=Q(status=Flag.Status.OPEN)),
        )
        .order_by("-top_rank", "oldest", "session_id")
    )


def queue_entries(rows: list[dict[str, Any]]) -> list[QueueEntry]:
    """Attach the sessions (with their rooms) to one page of queue rows."""
    ids = [row["session_id"] for row in rows]
    sessions = Session.objects.select_related("room").in_bulk(ids)
    tiers = {rank: tier for tier, rank in TIER_RANK.items()}
    return [
        QueueEntry(
            session=sessions[row["session_id"]],
            flag_count=row["flag_count"],
            top_tier=tiers[row["top_rank"]],
            oldest=row["oldest"],
            reports=row["reports"],
            escalated=row["escalated"],
            open=row["open"],
        )
        for row in rows
    ]


# --- one session ---------------------------------------------------------------------


def highlight(body: str, spans: list[list[object]]) -> SafeString:
    """Return the body as HTML with each matched span in a ``<mark>``.

    Spans are ``[start, end, category]`` offsets into the body; they may overlap. Every
    segment of text is escaped by format_html; invalid spans are ignored.
    """
    cuts = {0, len(body)}
    valid: list[tuple[int, int, str]] = []
    for span in spans:
        try:
            start, end, category = int(span[0]), int(span[1]), str(span[2])  # type: ignore[call-overload]
        except (IndexError, TypeError, ValueError):
            continue
        start, end = max(0, start), min(len(body), end)
        if start < end:
            valid.append((start, end, category))
            cuts.update((start, end))
    points = sorted(cuts)
    parts: list[tuple[str, str]] = []
    for start, end in pairwise(points):
        covering = sorted({c for s, e, c in valid if s <= start and end <= e})
        parts.append((body[start:end], " ".join(covering)))
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    '<mark data-category="{0}">{1}</mark>'
                    '<span class="visually-hidden"> ({0})</span>',
                    categories,
                    text,
                )
                if categories
                else format_html("{}", text),
            )
            for text, categories in parts
        ),
    )


def format_duration(delta: timedelta) -> str:
    """Say how long a span of time was, to the second: "2 h 5 min", "45 s"."""
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


@dataclass
class ReviewedFlag:
    """A flag as the session page shows it."""

    flag: Flag
    waited: timedelta
    acknowledged: bool
    alert_size: int

    @property
    def waited_text(self) -> str:
        return format_duration(self.waited)

    @property
    def is_open(self) -> bool:
        return self.flag.status in UNRESOLVED


@dataclass
class TranscriptLine:
    """A message of the session, with its body highlighted and its flags."""

    message: Message
    body_html: SafeString
    flags: list[ReviewedFlag] = field(default_factory=list)


@dataclass
class SessionReview:
    session: Session
    lines: list[TranscriptLine]
    orphan_flags: list[ReviewedFlag]
    actions: list[ModerationAction]
    notes: list[SupervisionNote]


def reviewed_flag(flag: Flag, alert_sizes: dict[int, int], now: datetime) -> ReviewedFlag:
    acknowledged = flag.acknowledged_at is not None
    waited = (flag.acknowledged_at if acknowledged else now) - flag.created  # type: ignore[operator]
    return ReviewedFlag(
        flag=flag,
        waited=waited,
        acknowledged=acknowledged,
        alert_size=alert_sizes.get(flag.alert_id or flag.pk, 1),
    )


def session_review(session: Session) -> SessionReview:
    """Gather a session's transcript (every status), flags, actions and notes."""
    now = timezone.now()
    flags = list(
        Flag.objects.filter(session=session)
        .select_related("acknowledged_by", "resolved_by")
        .order_by("created", "pk")
    )
    heads = {f.alert_id or f.pk for f in flags}
    alert_sizes: dict[int, int] = {}
    for row in (
        Flag.objects.filter(Q(pk__in=heads) | Q(alert_id__in=heads))
        .annotate(head=Coalesce("alert_id", "pk"))
        .values("head")
        .annotate(n=Count("id"))
        .order_by()
    ):
        alert_sizes[row["head"]] = row["n"]
    by_message: dict[int | None, list[ReviewedFlag]] = defaultdict(list)
    for flag in flags:
        by_message[flag.message_id].append(reviewed_flag(flag, alert_sizes, now))
    messages = (
        Message.objects.filter(session=session).select_related("author").order_by("created", "pk")
    )
    lines = []
    for message in messages:
        its_flags = by_message.pop(message.pk, [])
        spans = [span for rf in its_flags for span in rf.flag.spans]
        lines.append(TranscriptLine(message, highlight(message.body, spans), its_flags))
    # Flags whose message was deleted (retention, account deletion) or moved session.
    orphans = [rf for group in by_message.values() for rf in group]
    actions = list(
        ModerationAction.objects.filter(session=session)
        .select_related("actor", "target")
        .order_by("created", "pk")
    )
    notes = list(SupervisionNote.objects.filter(session=session).select_related("author"))
    return SessionReview(session, lines, orphans, actions, notes)


def moderates_room(user_id: int, room_id: int) -> bool:
    """Return whether the user is a moderator of the room."""
    return Membership.objects.filter(
        room_id=room_id, user_id=user_id, role=Membership.Role.MODERATOR
    ).exists()


# --- the audit log -------------------------------------------------------------------

PLATFORM = "platform"


@dataclass(frozen=True)
class AuditFilters:
    room: str = ""
    action: str = ""
    actor: str = ""  # a user id, PLATFORM for actions the platform took, or empty
    date_from: date | None = None
    date_to: date | None = None

    def actions(self) -> QuerySet[ModerationAction]:
        rows = ModerationAction.objects.all()
        if self.room:
            rows = rows.filter(room__slug=self.room)
        if self.action:
            rows = rows.filter(action=self.action)
        if self.actor == PLATFORM:
            rows = rows.filter(actor__isnull=True)
        elif self.actor:
            rows = rows.filter(actor_id=int(self.actor))
        rows = rows.filter(in_date_range("created", self.date_from, self.date_to))
        return rows.select_related("actor", "target", "room").order_by("-created", "-pk")


def action_names() -> list[str]:
    """Return every action name in the audit log, sorted."""
    return list(
        ModerationAction.objects.order_by("action").values_list("action", flat=True).distinct()
    )


def actors() -> list[tuple[int, str]]:
    """Return (id, pseudonym) of everyone who has an action in the audit log."""
    rows = (
        ModerationAction.objects.filter(actor__isnull=False)
        .values_list("actor_id", "actor__display_name")
        .distinct()
        .order_by("actor__display_name", "actor_id")
    )
    return [(actor_id, name) for actor_id, name in rows]
