"""On call: what a supervisor on duty sees and does without being in any room.

Crisis alerts that nobody acknowledged in time, and every imminent one at once, are
escalated to the ``oncall`` group (see ``escalation`` and ``alerts``). The on-call
socket (``consumers.OnCallConsumer``, behind the page at ``/review/oncall/``) joins that
group, so a supervisor receives them whether or not a room is open. On connect it gets
every escalated alert still unresolved, so a reconnect or a late start misses nothing.
"""

from __future__ import annotations

import time

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import REVIEW_PERMISSION
from chat.actions import RoomAccessError, access_room
from chat.protocol import ErrorCode, FlagAck, FlagResolve, OnCallFrame, ProtocolError
from chat.state import PRESENCE_TTL, PresenceEntry, room_state
from moderation.actions import check_moderator_action
from moderation.alerts import UNRESOLVED, flag_info
from moderation.models import TIER_RANK, Flag

SNAPSHOT_LIMIT = 100
"""Most alerts sent when the socket opens; the review queue lists all of them."""

ONCALL_PRESENCE = 0
"""The presence list (``chat.state``) of on-call sockets: no room has the id 0."""


def is_on_call(user: User | None) -> bool:
    """Return True for an active supervisor (the review permission)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(REVIEW_PERMISSION)
    )


def oncall_frame() -> OnCallFrame:
    """Return the escalated crisis alerts still open or acknowledged: highest tier first
    (of all the alert's flags), then oldest; the most urgent ``SNAPSHOT_LIMIT`` of them,
    with ``more`` saying how many others the review queue lists."""
    heads = dict(
        Flag.objects.filter(
            kind=Flag.Kind.CRISIS,
            alert__isnull=True,
            escalated_at__isnull=False,
            status__in=UNRESOLVED,
        ).values_list("pk", "created")
    )
    rank = dict.fromkeys(heads, 0)
    grouped = Flag.objects.filter(Q(pk__in=heads) | Q(alert_id__in=heads))
    for head_id, alert_id, tier in grouped.values_list("pk", "alert_id", "tier"):
        key = alert_id or head_id
        rank[key] = max(rank[key], TIER_RANK.get(tier, 0))
    chosen = sorted(heads, key=lambda pk: (-rank[pk], heads[pk], pk))[:SNAPSHOT_LIMIT]
    by_id = Flag.objects.select_related("author").in_bulk(chosen)
    return OnCallFrame(
        flags=[flag_info(by_id[pk]) for pk in chosen], more=max(0, len(heads) - len(chosen))
    )


def act_on_call(user: User, frame: FlagAck | FlagResolve) -> None:
    """Acknowledge or close an alert in any room, as the room's console would."""
    room_slug = Flag.objects.filter(pk=frame.flag_id).values_list("room__slug", flat=True).first()
    if room_slug is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No such flag."))
    try:
        access = access_room(user, room_slug)
    except RoomAccessError:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, _("Only the room's moderators and supervisors can do this.")
        ) from None
    check_moderator_action(access, frame)


async def mark_on_call(user_id: int, name: str, channel: str) -> None:
    """Record (or refresh) an on-call socket; it lapses after ``PRESENCE_TTL`` unrefreshed."""
    entry = PresenceEntry(
        user_id=user_id, name=name, role="supervisor", expires=time.time() + PRESENCE_TTL
    )
    await room_state().join(ONCALL_PRESENCE, channel, entry)


async def unmark_on_call(channel: str) -> None:
    await room_state().leave(ONCALL_PRESENCE, channel)


async def supervisors_on_call() -> int:
    """Return how many supervisors have the on-call page open, in any process."""
    entries = await room_state().entries(ONCALL_PRESENCE)
    return len({entry.user_id for entry in entries.values()})


def unattended_alerts() -> int:
    """Return how many escalated crisis alerts are still open (nobody took them on)."""
    return Flag.objects.filter(
        kind=Flag.Kind.CRISIS,
        alert__isnull=True,
        escalated_at__isnull=False,
        status=Flag.Status.OPEN,
    ).count()
