"""Delete what peerchat no longer needs to keep (docs/operations.md#retention).

Each step works in batches of ids, so no statement locks much for long, and selects only
what is still due, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from chat.models import Message, Room
from moderation.models import Flag, ModerationAction, Sanction, SupervisionNote

BATCH = 1000
UNRESOLVED = (Flag.Status.OPEN, Flag.Status.ACKNOWLEDGED)
CLOSED = (Flag.Status.RESOLVED, Flag.Status.DISMISSED)


def retention_days(key: str) -> int:
    return int(cast(int, settings.PEERCHAT[key]))


@dataclass
class PurgeCounts:
    messages: int = 0
    flags_stripped: int = 0
    flags: int = 0
    actions: int = 0
    notes: int = 0
    sanctions: int = 0


def keeps_transcript(flagged_cutoff: datetime) -> Q:
    """Match flags that keep their session's messages: still open, or closed after the cutoff.

    A closed flag without a closing time counts from when it was raised.
    """
    return (
        Q(status__in=UNRESOLVED)
        | Q(resolved_at__gte=flagged_cutoff)
        | Q(status__in=CLOSED, resolved_at__isnull=True, created__gte=flagged_cutoff)
    )


def expired_messages(room: Room, now: datetime) -> QuerySet[Message]:
    """Return the room's messages past its retention that no flag keeps.

    A flag keeps every message of its session (and its own message), so a reviewer sees
    the whole conversation around it.
    """
    keeping = Flag.objects.filter(
        keeps_transcript(now - timedelta(days=retention_days("FLAGGED_RETENTION_DAYS")))
    )
    return (
        Message.objects.filter(room=room, created__lt=now - timedelta(days=room.retention_days))
        .exclude(Exists(keeping.filter(session_id=OuterRef("session_id"))))
        .exclude(Exists(keeping.filter(message_id=OuterRef("pk"))))
    )


def stale_flags(now: datetime) -> QuerySet[Flag]:
    """Return closed flags past the flagged retention that still carry personal details
    (and are not old enough to be deleted outright)."""
    cutoff = now - timedelta(days=retention_days("FLAGGED_RETENTION_DAYS"))
    audit_cutoff = now - timedelta(days=retention_days("AUDIT_RETENTION_DAYS"))
    closed_before = Q(resolved_at__lt=cutoff) | Q(resolved_at__isnull=True, created__lt=cutoff)
    personal = (
        Q(author__isnull=False)
        | Q(reporter__isnull=False)
        | ~Q(report_reason="")
        | ~Q(note="")
        | ~Q(spans=[])
    )
    return Flag.objects.filter(
        closed_before, personal, status__in=CLOSED, created__gte=audit_cutoff
    )


def old_flags(now: datetime) -> QuerySet[Flag]:
    """Return closed flags raised before the audit retention."""
    cutoff = now - timedelta(days=retention_days("AUDIT_RETENTION_DAYS"))
    return Flag.objects.filter(status__in=CLOSED, created__lt=cutoff)


def old_actions(now: datetime) -> QuerySet[ModerationAction]:
    cutoff = now - timedelta(days=retention_days("AUDIT_RETENTION_DAYS"))
    return ModerationAction.objects.filter(created__lt=cutoff)


def old_notes(now: datetime) -> QuerySet[SupervisionNote]:
    cutoff = now - timedelta(days=retention_days("AUDIT_RETENTION_DAYS"))
    return SupervisionNote.objects.filter(created__lt=cutoff)


def ended_sanctions(now: datetime) -> QuerySet[Sanction]:
    """Return mutes and bans that ended (lifted, or run out) before the audit retention.

    Their reasons are a moderator's words about a person; the audit log keeps the
    decision for as long, and a sanction still in force is never purged.
    """
    cutoff = now - timedelta(days=retention_days("AUDIT_RETENTION_DAYS"))
    return Sanction.objects.filter(
        Q(lifted_at__lt=cutoff) | Q(lifted_at__isnull=True, until__lt=cutoff)
    )


def in_batches(rows: QuerySet[models.Model], apply: Callable[[QuerySet[models.Model]], int]) -> int:
    """Apply a change to the rows BATCH ids at a time, each in its own transaction, until
    none are left; return how many rows it touched. ``rows`` is evaluated afresh each
    time, so ``apply`` must take rows out of it."""
    total = 0
    model = rows.model
    while True:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        with transaction.atomic():
            total += apply(model._default_manager.filter(pk__in=ids))


def _delete(rows: QuerySet[models.Model]) -> int:
    return rows.delete()[1].get(rows.model._meta.label, 0)


def _strip(rows: QuerySet[models.Model]) -> int:
    return rows.update(author=None, reporter=None, report_reason="", note="", spans=[])


def purge_expired(*, dry_run: bool = False, now: datetime | None = None) -> PurgeCounts:
    """Delete expired messages, flags, audit rows, notes and ended sanctions; strip closed
    flags of personal details after the flagged retention. With ``dry_run``, only count."""
    now = now or timezone.now()
    counts = PurgeCounts()

    def run(rows: QuerySet[models.Model], apply: Callable[[QuerySet[models.Model]], int]) -> int:
        return rows.count() if dry_run else in_batches(rows, apply)

    for room in Room.objects.only("pk", "retention_days").order_by("pk"):
        counts.messages += run(expired_messages(room, now), _delete)
    counts.flags = run(old_flags(now), _delete)
    counts.flags_stripped = run(stale_flags(now), _strip)
    counts.actions = run(old_actions(now), _delete)
    counts.notes = run(old_notes(now), _delete)
    counts.sanctions = run(ended_sanctions(now), _delete)
    return counts
