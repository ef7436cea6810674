"""Escalate crisis alerts nobody acknowledged to the on-call supervisors.

Every daphne process runs one loop; a flag is claimed with a conditional UPDATE, so
exactly one process sends each escalation however many run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from chat import events
from chat.protocol import FlagFrame
from moderation import oncall
from moderation.alerts import ONCALL_GROUP, flag_info
from moderation.flags import do_escalate_flag
from moderation.models import Flag

logger = logging.getLogger(__name__)

_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


def escalate_after() -> timedelta:
    return timedelta(seconds=float(settings.PEERCHAT.get("ESCALATE_AFTER_SECONDS", 120)))


def claim_due_escalations() -> list[tuple[int, FlagFrame]]:
    """Mark unacknowledged crisis alerts past their time as escalated; return their rooms
    and frames."""
    due = Flag.objects.filter(
        kind=Flag.Kind.CRISIS,
        alert__isnull=True,
        status=Flag.Status.OPEN,
        escalated_at__isnull=True,
        created__lte=timezone.now() - escalate_after(),
    ).values_list("pk", flat=True)[:100]
    frames = []
    for flag_id in due:
        flag = Flag.objects.select_related("author").get(pk=flag_id)
        # Claimed by a conditional update: False when another process took it.
        if do_escalate_flag(flag, None, reason="not acknowledged in time"):
            flag.refresh_from_db()
            frames.append((flag.room_id, FlagFrame(flag=flag_info(flag))))
    return frames


async def escalate_due() -> int:
    """Send every due escalation to the oncall group, and tell the room's moderators that
    it went there (their card shows it escalated); return how many."""
    frames = await database_sync_to_async(claim_due_escalations)()
    for room_id, frame in frames:
        await events.apublish(ONCALL_GROUP, frame)
        update = frame.model_copy(update={"type": "flag.update"})
        await events.apublish(events.moderators_group(room_id), update)
    return len(frames)


UNATTENDED_WARNING_SECONDS = 300.0
"""How often a process repeats its warning that escalated alerts wait for nobody."""


class _Unattended:
    """When this process last warned that nobody is on call, and for how many alerts."""

    at = float("-inf")
    count = 0


_unattended = _Unattended()


async def warn_if_unattended() -> int:
    """Log a warning when escalated alerts are open and no supervisor has the on-call
    page open; return how many alerts wait (0 when someone is on call).

    The warning is for the operators' monitoring (docs/operations.md): it names a
    number, never a person or a message. It is repeated every 5 minutes while the alerts
    wait, and at once when more arrive.
    """
    if await oncall.supervisors_on_call():
        _unattended.count = 0
        return 0
    waiting = await database_sync_to_async(oncall.unattended_alerts)()
    now = time.monotonic()
    if waiting and (
        waiting > _unattended.count or now - _unattended.at >= UNATTENDED_WARNING_SECONDS
    ):
        logger.warning(
            "%d escalated crisis alert(s) wait and no supervisor is on call (/review/oncall/)",
            waiting,
        )
        _unattended.at = now
    _unattended.count = waiting
    return waiting


async def _escalation_loop() -> None:
    interval = float(settings.PEERCHAT.get("ESCALATION_CHECK_SECONDS", 5))
    while True:
        try:
            await escalate_due()
            await warn_if_unattended()
        except Exception:
            logger.exception("escalation check failed; retrying")
        await asyncio.sleep(interval)


def ensure_escalation_task() -> None:
    """Start this process's escalation loop once per event loop."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_escalation_loop(), name="peerchat-escalation")
