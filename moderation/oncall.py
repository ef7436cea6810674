"""On call: what a supervisor on duty sees and does without being in any room.

Crisis alerts that nobody acknowledged in time, and every imminent one at once, are
escalated to the ``oncall`` group (see ``escalation`` and ``alerts``). The on-call
socket (``consumers.OnCallConsumer``, behind the page at ``/review/oncall/``) joins that
group, so a supervisor receives them whether or not a room is open. On connect it gets
every escalated alert still unresolved, so a reconnect or a late start misses nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import REVIEW_PERMISSION
from chat.actions import RoomAccessError, access_room
from chat.protocol import ErrorCode, FlagAck, FlagResolve, OnCallFrame, ProtocolError
from moderation.actions import check_moderator_action
from moderation.alerts import UNRESOLVED, flag_info
from moderation.models import TIER_RANK, Flag

SNAPSHOT_LIMIT = 100
"""Most alerts sent when the socket opens; the review queue lists all of them."""


def is_on_call(user: User | None) -> bool:
    """Return True for an active supervisor (the review permission)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(REVIEW_PERMISSION)
    )


def oncall_frame() -> OnCallFrame:
    """Return every escalated crisis alert still open or acknowledged: highest tier
    first (of the alert's flags), then oldest."""
    heads = Flag.objects.filter(
        kind=Flag.Kind.CRISIS,
        alert__isnull=True,
        escalated_at__isnull=False,
        status__in=UNRESOLVED,
    ).order_by("created", "pk")[:SNAPSHOT_LIMIT]
    alerts = [flag_info(head) for head in heads.select_related("author")]
    alerts.sort(key=lambda info: (-TIER_RANK.get(info.tier, 0), info.created, info.id))
    return OnCallFrame(flags=alerts)


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
