"""Flag life cycle: acknowledge, resolve or dismiss, escalate. Used by the websocket
actions (moderators, live) and by the review pages (supervisors, later)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moderation.audit import record_action
from moderation.models import Flag

CLOSED = (Flag.Status.RESOLVED, Flag.Status.DISMISSED)


def alert_flags(flag: Flag) -> Q:
    """Match the flag's whole alert: its head and every flag grouped under it."""
    head_id = flag.alert_id or flag.pk
    return Q(pk=head_id) | Q(alert_id=head_id)


def do_acknowledge_flag(flag: Flag, actor_id: int) -> bool:
    """Mark the alert acknowledged (stops escalation); False if it already was."""
    with transaction.atomic():
        changed = Flag.objects.filter(alert_flags(flag), status=Flag.Status.OPEN).update(
            status=Flag.Status.ACKNOWLEDGED,
            acknowledged_by_id=actor_id,
            acknowledged_at=timezone.now(),
        )
        if changed:
            record_action(
                "flag.ack",
                actor_id=actor_id,
                room_id=flag.room_id,
                session_id=flag.session_id,
                flag=flag,
                target_id=flag.author_id,
            )
    return bool(changed)


def do_resolve_flag(flag: Flag, actor_id: int, outcome: str, note: str = "") -> int:
    """Close the alert as resolved or dismissed (a false alarm), with a note.

    Flags still open count as acknowledged now, so time-to-acknowledge stays honest.
    Return how many flags changed.
    """
    if outcome not in (Flag.Status.RESOLVED, Flag.Status.DISMISSED):
        raise ValueError(f"unknown outcome {outcome!r}")
    now = timezone.now()
    with transaction.atomic():
        scope = Flag.objects.filter(alert_flags(flag)).exclude(status__in=CLOSED)
        scope.filter(acknowledged_at__isnull=True).update(
            acknowledged_by_id=actor_id, acknowledged_at=now
        )
        changed = scope.update(
            status=outcome, resolved_by_id=actor_id, resolved_at=now, note=note[:5000]
        )
        if changed:
            record_action(
                f"flag.{outcome}",
                actor_id=actor_id,
                room_id=flag.room_id,
                session_id=flag.session_id,
                flag=flag,
                target_id=flag.author_id,
                reason=note,
            )
    return changed


def do_escalate_flag(flag: Flag, actor_id: int | None, reason: str = "") -> bool:
    """Mark the alert escalated to on-call supervisors; False if it already was."""
    with transaction.atomic():
        changed = Flag.objects.filter(alert_flags(flag), escalated_at__isnull=True).update(
            escalated_at=timezone.now()
        )
        if changed:
            record_action(
                "flag.escalate",
                actor_id=actor_id,
                room_id=flag.room_id,
                session_id=flag.session_id,
                flag=flag,
                target_id=flag.author_id,
                reason=reason,
            )
    return bool(changed)
