"""Flags and the alerts they raise. A flag is a database row first, an alert second."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat import events
from chat.models import Message, Room
from chat.protocol import Author, FlagFrame, FlagInfo, FlagStatusFrame, MessageFrame
from moderation.models import TIER_RANK, Flag

ONCALL_GROUP = "oncall"
# Flags from one writer this close together grow one alert instead of raising new ones.
GROUP_WINDOW = timedelta(minutes=10)
CONTEXT_MESSAGES = 5
UNRESOLVED = (Flag.Status.OPEN, Flag.Status.ACKNOWLEDGED)


def _message_frame(message: Message | None) -> MessageFrame | None:
    from chat.actions import message_frame

    return message_frame(message, with_status=True) if message is not None else None


def writer_context(message: Message) -> list[MessageFrame]:
    """Return the writer's previous few messages in the room, oldest first."""
    rows = list(
        Message.objects.filter(room_id=message.room_id, author_id=message.author_id)
        .exclude(pk=message.pk)
        .filter(created__lte=message.created)
        .select_related("author")
        .order_by("-created")[:CONTEXT_MESSAGES]
    )
    rows.reverse()
    return [frame for frame in map(_message_frame, rows) if frame is not None]


def flag_info(head: Flag, *, latest: Flag | None = None, with_context: bool = True) -> FlagInfo:
    """Describe an alert (its head and grouped flags) as moderators see it."""
    group = list(Flag.objects.filter(Q(pk=head.pk) | Q(alert_id=head.pk)).order_by("created"))
    latest = latest or group[-1]
    tier = max((f.tier for f in group), key=TIER_RANK.__getitem__)
    categories = sorted({c for f in group for c in f.categories})
    norms = sorted({n for f in group for n in f.norms})
    message = Message.objects.select_related("author").filter(pk=latest.message_id).first()
    author = head.author
    return FlagInfo(
        id=head.pk,
        kind=head.kind,
        tier=tier,
        categories=categories,
        norms=norms,
        spans=[list(span) for span in latest.spans],
        status=head.status,
        created=head.created,
        count=len(group),
        escalated=head.escalated_at is not None,
        room=Room.objects.values_list("slug", flat=True).get(pk=head.room_id),
        author=Author(id=author.pk, name=author.display_name) if author else None,
        message=_message_frame(message),
        context=writer_context(message) if (with_context and message) else [],
        reason=head.report_reason or None if head.kind == Flag.Kind.REPORT else None,
    )


def _open_alert(room_id: int, author_id: int | None, kind: str) -> Flag | None:
    if author_id is None:
        return None
    return (
        Flag.objects.select_for_update()
        .filter(
            room_id=room_id,
            author_id=author_id,
            kind=kind,
            alert__isnull=True,
            status__in=UNRESOLVED,
            created__gte=timezone.now() - GROUP_WINDOW,
        )
        .order_by("-created")
        .first()
    )


def do_flag_message(message: Message, *, kind: str, verdict: Any, norms: tuple[str, ...]) -> Flag:
    """Store a flag for a message and, after commit, alert the room's moderators
    (and on-call supervisors at once when the tier is imminent). Call inside the
    message's transaction."""
    head = _open_alert(message.room_id, message.author_id, kind)
    flag = Flag.objects.create(
        room_id=message.room_id,
        session_id=message.session_id,
        message=message,
        author_id=message.author_id,
        alert=head,
        kind=kind,
        tier=verdict.tier.value,
        categories=sorted(verdict.categories),
        norms=sorted(set(verdict.norms) | set(norms)),
        spans=[[s.start, s.end, s.category] for s in verdict.spans],
        rules=list(verdict.rules),
    )
    alert = head or flag
    escalate_now = verdict.tier.value == Flag.Tier.IMMINENT and kind == Flag.Kind.CRISIS
    if escalate_now:
        from moderation.flags import do_escalate_flag

        do_escalate_flag(alert, None, reason="imminent")
        alert.refresh_from_db()
    frame_type = "flag.update" if head else "flag"

    def send() -> None:
        info = flag_info(alert, latest=flag)
        frame = FlagFrame(type=frame_type, flag=info)
        events.publish(events.moderators_group(message.room_id), frame)
        if info.escalated:
            events.publish(ONCALL_GROUP, frame)

    transaction.on_commit(send)
    return flag


def do_report_message(message: Message, reporter_id: int, reason: str) -> Flag:
    """Store a peer's report of a message and alert the moderators after commit."""
    flag = Flag.objects.create(
        room_id=message.room_id,
        session_id=message.session_id,
        message=message,
        author_id=message.author_id,
        kind=Flag.Kind.REPORT,
        reporter_id=reporter_id,
        report_reason=reason[:500],
    )

    def send() -> None:
        frame = FlagFrame(flag=flag_info(flag))
        events.publish(events.moderators_group(message.room_id), frame)

    transaction.on_commit(send)
    return flag


def publish_flag_status(flag: Flag, by: Author | None) -> None:
    """Tell the room's moderators (and on-call supervisors) that an alert changed state."""
    head_id = flag.alert_id or flag.pk
    head = Flag.objects.get(pk=head_id)
    frame = FlagStatusFrame(flag_id=head_id, status=head.status, by=by)
    events.publish(events.moderators_group(flag.room_id), frame)
    if head.escalated_at is not None:
        events.publish(ONCALL_GROUP, frame)
