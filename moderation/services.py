"""What automation does to a message once the room policy decided: flags, holds, private
notices, support for the writer, and the norms ladder. Called from chat.actions inside
the message's transaction; every frame goes out after commit."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import events
from chat.models import Message, Room
from chat.protocol import Author, HeldFrame, ModerationFrame, NoticeFrame, SupportFrame
from moderation.audit import record_action
from moderation.models import Flag, ModerationAction, Sanction
from moderation.policy import Decision, Outcome, room_policy
from moderation.resources import SUPPORT_TEXT, crisis_resources

if TYPE_CHECKING:
    from chat.actions import RoomAccess

AUTOMATED_NORM_ACTIONS = ("auto.hold", "auto.warn", "auto.block")


def _after_commit_to_user(user_id: int, frame: Any) -> None:
    transaction.on_commit(lambda: events.publish(events.user_group(user_id), frame))


def do_moderate_message(
    access: RoomAccess, room: Room, message: Message, verdict: Any, decision: Decision
) -> None:
    """Apply the decision to a stored message. Call inside the message's transaction."""
    from chat.actions import message_frame
    from moderation.alerts import do_flag_message

    if decision.crisis or decision.outcome in (Outcome.FLAG, Outcome.HOLD):
        kind = Flag.Kind.CRISIS if decision.crisis else Flag.Kind.NORM
        do_flag_message(message, kind=kind, verdict=verdict, norms=decision.norms)
    if decision.crisis:
        send_support(access, room, message, verdict.tier.value)
    if not decision.norms:
        return
    held = decision.outcome is Outcome.HOLD
    record_action(
        "auto.hold" if held else "auto.warn",
        actor_id=None,
        room_id=room.pk,
        session_id=message.session_id,
        target_id=access.user_id,
        message_id=message.pk,
        details={"norms": list(decision.norms)},
    )
    if held:
        frame: Any = HeldFrame(
            message=message_frame(message, with_status=True),
            norm=decision.norms[0],
            detail=" ".join([_("Held for a moderator to look at."), *decision.reasons]),
        )
    else:
        frame = NoticeFrame(kind="norm", text=" ".join(decision.reasons), room=room.slug)
    _after_commit_to_user(access.user_id, frame)
    check_norm_ladder(access, room)


def do_block_message(access: RoomAccess, decision: Decision) -> None:
    """Record a blocked message (its text is not kept) and climb the norms ladder."""
    with transaction.atomic():
        room = Room.objects.get(pk=access.room_id)
        record_action(
            "auto.block",
            actor_id=None,
            room_id=room.pk,
            target_id=access.user_id,
            details={"norms": list(decision.norms)},
        )
        check_norm_ladder(access, room)


def check_norm_ladder(access: RoomAccess, room: Room) -> Sanction | None:
    """Mute a member for a while after repeated norm breaks (room policy 'ladder')."""
    ladder = room_policy(room.policy)["ladder"]
    since = timezone.now() - timedelta(minutes=int(ladder["window_minutes"]))
    breaks = ModerationAction.objects.filter(
        room=room,
        target_id=access.user_id,
        actor__isnull=True,
        action__in=AUTOMATED_NORM_ACTIONS,
        created__gte=since,
    ).count()
    if breaks < int(ladder["breaks"]):
        return None
    already = Sanction.objects.in_force().filter(
        room=room, user_id=access.user_id, kind=Sanction.Kind.MUTE
    )
    if already.exists():
        return None
    until = timezone.now() + timedelta(minutes=int(ladder["mute_minutes"]))
    reason = "several messages in a short time broke the room's norms"
    sanction = Sanction.objects.create(
        room=room, user_id=access.user_id, kind=Sanction.Kind.MUTE, until=until, reason=reason
    )
    record_action(
        "auto.mute",
        actor_id=None,
        room_id=room.pk,
        target_id=access.user_id,
        reason=reason,
        until=until,
    )
    text = " ".join(
        [
            _(
                "You are muted for %(minutes)s minutes because several messages in a short "
                "time broke the room's norms."
            )
            % {"minutes": ladder["mute_minutes"]},
            _("You can keep reading; take a breath, and a moderator can help."),
        ]
    )
    _after_commit_to_user(
        access.user_id, NoticeFrame(kind="mute", text=text, room=room.slug, until=until)
    )
    moderators = ModerationFrame(
        action="auto.mute",
        target=Author(id=access.user_id, name=access.name),
        until=until,
        reason=reason,
    )
    transaction.on_commit(lambda: events.publish(events.moderators_group(room.pk), moderators))
    return sanction


def send_support(access: RoomAccess, room: Room, message: Message, tier: str) -> None:
    """Send the writer crisis lines for their country and language, after commit."""
    from accounts.models import User

    user = User.objects.only("country", "language").get(pk=access.user_id)
    country = user.country or room.country
    language = user.language or room.language
    with translation.override(language):
        text = str(SUPPORT_TEXT.get(tier, SUPPORT_TEXT["concern"]))
    frame = SupportFrame(
        tier=tier,
        message_id=message.pk,
        text=text,
        resources=crisis_resources(country, language, tier),
    )
    _after_commit_to_user(access.user_id, frame)
