"""The audit log: one row per moderation action, written in the action's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moderation.models import Flag, ModerationAction


def record_action(
    action: str,
    *,
    actor_id: int | None,
    room_id: int | None = None,
    session_id: int | None = None,
    target_id: int | None = None,
    message_id: int | None = None,
    flag: Flag | None = None,
    reason: str = "",
    until: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    """Write one audit row. ``actor_id`` None means the platform acted by itself."""
    return ModerationAction.objects.create(
        actor_id=actor_id,
        action=action,
        room_id=room_id,
        session_id=session_id,
        target_id=target_id,
        message_id=message_id,
        flag=flag,
        reason=reason[:500],
        until=until,
        details=details or {},
    )
