"""Builders for the review tests: sessions, messages, flags and audit rows at set times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from chat.models import Message, Room, Session
from moderation.models import Flag, ModerationAction

PASSWORD = "pw-for-tests-1"


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def make_session(room: Room, *, opened_at: datetime | None = None, closed: bool = True) -> Session:
    opened_at = opened_at or ago(hours=2)
    return Session.objects.create(
        room=room, opened_at=opened_at, closed_at=opened_at + timedelta(hours=1) if closed else None
    )


def make_message(
    session: Session,
    author: User | None,
    body: str,
    *,
    status: str = Message.Status.VISIBLE,
    created: datetime | None = None,
) -> Message:
    room = session.room
    seq = None
    if status == Message.Status.VISIBLE:
        room.last_seq += 1
        Room.objects.filter(pk=room.pk).update(last_seq=room.last_seq)
        seq = room.last_seq
    return Message.objects.create(
        room=room,
        session=session,
        author=author,
        body=body,
        status=status,
        seq=seq,
        created=created or session.opened_at + timedelta(minutes=5),
    )


def make_flag(
    message: Message | None = None,
    *,
    session: Session | None = None,
    kind: str = Flag.Kind.CRISIS,
    tier: str = Flag.Tier.HIGH,
    status: str = Flag.Status.OPEN,
    created: datetime | None = None,
    **fields: Any,
) -> Flag:
    session = session or (message.session if message else None)
    assert session is not None
    if created is None:
        created = message.created if message else session.opened_at
    return Flag.objects.create(
        room=session.room,
        session=session,
        message=message,
        author=message.author if message else None,
        kind=kind,
        tier=tier,
        status=status,
        created=created,
        **fields,
    )


def make_action(action: str, *, created: datetime | None = None, **fields: Any) -> ModerationAction:
    return ModerationAction.objects.create(
        action=action, created=created or timezone.now(), **fields
    )
