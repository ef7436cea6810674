"""What moderators do live in their rooms. ``check_*`` functions take frames from a
socket and check that the sender moderates the room; ``do_*`` functions write, write the
audit row, and publish after commit. Every function here runs in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from chat import events
from chat.actions import (
    SUPERVISOR,
    RoomAccess,
    message_frame,
    open_session,
    session_info,
    take_next_seq,
    with_reason,
)
from chat.models import Membership, Message, Room, Session
from chat.protocol import (
    Author,
    ErrorCode,
    FlagAck,
    FlagResolve,
    MessageHiddenFrame,
    ModBan,
    ModerationFrame,
    ModHide,
    ModKick,
    ModLock,
    ModMute,
    ModPin,
    ModRelease,
    ModSessionCount,
    ModSessionEnd,
    ModSessionStart,
    ModSlow,
    ModUnban,
    ModUnlock,
    ModUnmute,
    ModUnpin,
    ModWarn,
    NoticeFrame,
    ProtocolError,
    Report,
    RoomStateFrame,
    ServerFrame,
)
from moderation.alerts import ONCALL_GROUP, do_report_message, publish_flag_status
from moderation.audit import record_action
from moderation.flags import do_acknowledge_flag, do_resolve_flag
from moderation.models import Flag, Sanction

CLOSE_KICKED = 4001
CLOSE_BANNED = 4403


def _forbidden() -> ProtocolError:
    return ProtocolError(
        ErrorCode.FORBIDDEN, _("Only the room's moderators and supervisors can do this.")
    )


def _not_found(what: str) -> ProtocolError:
    details = {
        "member": _("No such member in this room."),
        "message": _("No such message in this room."),
        "visible message": _("No such visible message in this room."),
        "flag": _("No such flag in this room."),
    }
    return ProtocolError(ErrorCode.NOT_FOUND, details[what])


def _in_language_of(user: User, build: Callable[[], NoticeFrame]) -> NoticeFrame:
    """Build a notice in the language of the member who will read it."""
    with translation.override(user.language or None):
        return build()


def check_moderator(access: RoomAccess) -> None:
    """Raise forbidden unless the socket belongs to a moderator of the room or a supervisor."""
    if not access.moderates:
        raise _forbidden()


def _after_commit(group: str, frame: ServerFrame) -> None:
    transaction.on_commit(lambda: events.publish(group, frame))


def _by(access: RoomAccess) -> Author:
    return Author(id=access.user_id, name=access.name)


def _target_member(access: RoomAccess, user_id: int) -> User:
    """Return a member of the room that this moderator may act on."""
    membership = (
        Membership.objects.select_related("user")
        .filter(room_id=access.room_id, user_id=user_id)
        .first()
    )
    if membership is None:
        raise _not_found("member")
    if user_id == access.user_id:
        raise ProtocolError(ErrorCode.FORBIDDEN, _("You cannot do this to yourself."))
    if membership.role == Membership.Role.MODERATOR and access.role != SUPERVISOR:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, _("Moderators cannot sanction each other; ask a supervisor.")
        )
    return membership.user


def _room_message(access: RoomAccess, message_id: int) -> Message:
    message = (
        Message.objects.select_related("author")
        .filter(pk=message_id, room_id=access.room_id)
        .first()
    )
    if message is None:
        raise _not_found("message")
    return message


def _announce(
    access: RoomAccess,
    action: str,
    *,
    target: User | None = None,
    message_id: int | None = None,
    until: Any = None,
    reason: str = "",
) -> None:
    """Show every moderator console in the room what was done (after commit)."""
    frame = ModerationFrame(
        action=action,
        by=_by(access),
        target=Author(id=target.pk, name=target.display_name) if target else None,
        message_id=message_id,
        until=until,
        reason=reason or None,
    )
    _after_commit(events.moderators_group(access.room_id), frame)


def _audit(access: RoomAccess, action: str, **fields: Any) -> None:
    session = Session.objects.filter(room_id=access.room_id, closed_at__isnull=True).first()
    record_action(
        action,
        actor_id=access.user_id,
        room_id=access.room_id,
        session_id=session.pk if session else None,
        **fields,
    )


def _room_slug(access: RoomAccess) -> str:
    return Room.objects.values_list("slug", flat=True).get(pk=access.room_id)


# --- members -------------------------------------------------------------------------


@transaction.atomic
def do_warn(access: RoomAccess, frame: ModWarn) -> None:
    target = _target_member(access, frame.user)
    _audit(access, "member.warn", target_id=target.pk, reason=frame.reason)
    notice = _in_language_of(
        target,
        lambda: NoticeFrame(
            kind="warn",
            text=with_reason(_("A moderator asks you to mind the room's norms"), frame.reason),
            room=_room_slug(access),
        ),
    )
    _after_commit(events.user_group(target.pk), notice)
    _announce(access, "member.warn", target=target, reason=frame.reason)


def _impose(
    access: RoomAccess, target: User, kind: str, minutes: int | None, reason: str
) -> datetime | None:
    """Store a mute or ban (for `minutes`, or until lifted) and its audit row."""
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    Sanction.objects.create(
        room_id=access.room_id,
        user=target,
        kind=kind,
        until=until,
        reason=reason,
        created_by_id=access.user_id,
    )
    _audit(access, f"member.{kind}", target_id=target.pk, reason=reason, until=until)
    return until


@transaction.atomic
def do_mute(access: RoomAccess, frame: ModMute) -> None:
    target = _target_member(access, frame.user)
    until = _impose(access, target, Sanction.Kind.MUTE, frame.minutes, frame.reason)
    notice = _in_language_of(
        target,
        lambda: NoticeFrame(
            kind="mute",
            text=with_reason(_("A moderator muted you"), frame.reason),
            room=_room_slug(access),
            until=until,
        ),
    )
    _after_commit(events.user_group(target.pk), notice)
    _announce(access, "member.mute", target=target, until=until, reason=frame.reason)


def _lift(access: RoomAccess, user_id: int, kind: str) -> User:
    target = _target_member(access, user_id)
    Sanction.objects.in_force().filter(room_id=access.room_id, user=target, kind=kind).update(
        lifted_at=timezone.now()
    )
    return target


@transaction.atomic
def do_unmute(access: RoomAccess, frame: ModUnmute) -> None:
    target = _lift(access, frame.user, Sanction.Kind.MUTE)
    _audit(access, "member.unmute", target_id=target.pk)
    notice = _in_language_of(
        target,
        lambda: NoticeFrame(kind="unmute", text=_("You can post again."), room=_room_slug(access)),
    )
    _after_commit(events.user_group(target.pk), notice)
    _announce(access, "member.unmute", target=target)


def _close_sockets(access: RoomAccess, user_id: int, notice: NoticeFrame, code: int) -> None:
    event = {
        "type": "chat.close",
        "room_id": access.room_id,
        "code": code,
        "text": notice.to_text(),
    }
    group = events.user_group(user_id)

    transaction.on_commit(lambda: events.send_event(group, event))


@transaction.atomic
def do_kick(access: RoomAccess, frame: ModKick) -> None:
    target = _target_member(access, frame.user)
    _audit(access, "member.kick", target_id=target.pk, reason=frame.reason)
    notice = _in_language_of(
        target,
        lambda: NoticeFrame(
            kind="kick",
            text=with_reason(_("A moderator asked you to leave the room for now"), frame.reason)
            + " "
            + _("You may come back later."),
            room=_room_slug(access),
        ),
    )
    _close_sockets(access, target.pk, notice, CLOSE_KICKED)
    _announce(access, "member.kick", target=target, reason=frame.reason)


@transaction.atomic
def do_ban(access: RoomAccess, frame: ModBan) -> None:
    target = _target_member(access, frame.user)
    until = _impose(access, target, Sanction.Kind.BAN, frame.minutes, frame.reason)
    notice = _in_language_of(
        target,
        lambda: NoticeFrame(
            kind="ban",
            text=with_reason(_("A moderator removed you from this room"), frame.reason),
            room=_room_slug(access),
            until=until,
        ),
    )
    _close_sockets(access, target.pk, notice, CLOSE_BANNED)
    _announce(access, "member.ban", target=target, until=until, reason=frame.reason)


@transaction.atomic
def do_unban(access: RoomAccess, frame: ModUnban) -> None:
    target = _lift(access, frame.user, Sanction.Kind.BAN)
    _audit(access, "member.unban", target_id=target.pk)
    _announce(access, "member.unban", target=target)


# --- messages ------------------------------------------------------------------------


@transaction.atomic
def do_hide(access: RoomAccess, frame: ModHide) -> None:
    room = Room.objects.select_for_update().get(pk=access.room_id)
    message = _room_message(access, frame.message_id)
    if message.status == Message.Status.HIDDEN:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("That message is already hidden."))
    was = message.status
    message.status = Message.Status.HIDDEN
    message.save(update_fields=["status"])
    if room.pinned_message_id == message.pk:
        room.pinned_message = None
        room.save(update_fields=["pinned_message"])
        _after_commit(events.room_group(room.pk), room_state(room))
    _audit(
        access,
        "message.hide",
        message_id=message.pk,
        target_id=message.author_id,
        reason=frame.reason,
        details={"was": was},
    )
    if was == Message.Status.HELD:
        _resolve_message_flags(access, message, "hidden by a moderator")
    hidden = MessageHiddenFrame(id=message.pk, seq=message.seq)
    group = events.room_group(room.pk) if was == Message.Status.VISIBLE else None
    if group:
        _after_commit(group, hidden)
    if message.author_id:
        _after_commit(events.user_group(message.author_id), hidden)
    _announce(access, "message.hide", message_id=message.pk, reason=frame.reason)


@transaction.atomic
def do_release(access: RoomAccess, frame: ModRelease) -> None:
    # Taking the seq first locks the room: one release at a time (an error rolls it back).
    seq = take_next_seq(access.room_id)
    message = _room_message(access, frame.message_id)
    if message.status != Message.Status.HELD:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("That message is not held."))
    message.seq = seq
    message.status = Message.Status.VISIBLE
    message.save(update_fields=["seq", "status"])
    _audit(access, "message.release", message_id=message.pk, target_id=message.author_id)
    _resolve_message_flags(access, message, "released by a moderator")
    _after_commit(events.room_group(access.room_id), message_frame(message))
    _announce(access, "message.release", message_id=message.pk)


def _resolve_message_flags(access: RoomAccess, message: Message, note: str) -> None:
    """Close the norm flags of a held message once a moderator decided on it."""
    for flag in Flag.objects.filter(message=message, kind=Flag.Kind.NORM).exclude(
        status__in=(Flag.Status.RESOLVED, Flag.Status.DISMISSED)
    ):
        do_resolve_flag(flag, access.user_id, Flag.Status.RESOLVED, note)
        flag.refresh_from_db()
        transaction.on_commit(
            lambda flag=flag: publish_flag_status(flag, _by(access))  # type: ignore[misc]
        )


# --- the room ------------------------------------------------------------------------


def room_state(room: Room) -> RoomStateFrame:
    pinned = room.pinned_message
    return RoomStateFrame(
        locked=room.locked,
        slow_mode_seconds=room.slow_mode_seconds,
        pinned=message_frame(pinned)
        if pinned and pinned.status == Message.Status.VISIBLE
        else None,
        session=session_info(open_session(room)),
    )


def _update_room(access: RoomAccess, action: str, details: dict[str, Any], **fields: Any) -> None:
    room = Room.objects.select_for_update().get(pk=access.room_id)
    for name, value in fields.items():
        setattr(room, name, value)
    room.save(update_fields=list(fields))
    _audit(access, action, details=details)
    room = Room.objects.select_related("pinned_message__author").get(pk=room.pk)
    _after_commit(events.room_group(room.pk), room_state(room))
    _announce(access, action)


@transaction.atomic
def do_slow(access: RoomAccess, frame: ModSlow) -> None:
    _update_room(access, "room.slow", {"seconds": frame.seconds}, slow_mode_seconds=frame.seconds)


@transaction.atomic
def do_lock(access: RoomAccess, frame: ModLock | ModUnlock) -> None:
    locked = isinstance(frame, ModLock)
    _update_room(access, "room.lock" if locked else "room.unlock", {}, locked=locked)


@transaction.atomic
def do_pin(access: RoomAccess, frame: ModPin | ModUnpin) -> None:
    if isinstance(frame, ModPin):
        message = _room_message(access, frame.message_id)
        if message.status != Message.Status.VISIBLE:
            raise _not_found("visible message")
        _update_room(access, "room.pin", {"message_id": message.pk}, pinned_message=message)
    else:
        _update_room(access, "room.unpin", {}, pinned_message=None)


@transaction.atomic
def do_session_start(access: RoomAccess, frame: ModSessionStart) -> None:
    room = Room.objects.select_for_update().get(pk=access.room_id)
    now = timezone.now()
    Session.objects.filter(room=room, closed_at__isnull=True).update(
        closed_at=now, closed_by_id=access.user_id
    )
    session = Session.objects.create(
        room=room,
        mode=frame.mode,
        in_person_count=frame.in_person_count,
        opened_by_id=access.user_id,
        opened_at=now,
    )
    record_action(
        "session.start",
        actor_id=access.user_id,
        room_id=room.pk,
        session_id=session.pk,
        details={"mode": frame.mode, "in_person_count": frame.in_person_count},
    )
    _after_commit(events.room_group(room.pk), room_state(room))
    _announce(access, "session.start")


@transaction.atomic
def do_session_end(access: RoomAccess, frame: ModSessionEnd) -> None:
    room = Room.objects.select_for_update().get(pk=access.room_id)
    session = open_session(room)
    if session is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No session is open in this room."))
    session.closed_at = timezone.now()
    session.closed_by_id = access.user_id
    session.save(update_fields=["closed_at", "closed_by"])
    record_action("session.end", actor_id=access.user_id, room_id=room.pk, session_id=session.pk)
    _after_commit(events.room_group(room.pk), room_state(room))
    _announce(access, "session.end")


@transaction.atomic
def do_session_count(access: RoomAccess, frame: ModSessionCount) -> None:
    room = Room.objects.select_for_update().get(pk=access.room_id)
    session = open_session(room)
    if session is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No session is open in this room."))
    session.in_person_count = frame.in_person_count
    session.save(update_fields=["in_person_count"])
    _audit(access, "session.count", details={"in_person_count": frame.in_person_count})
    _after_commit(events.room_group(room.pk), room_state(room))


def record_hand_next(access: RoomAccess, user_id: int | None) -> None:
    """Write the audit row for calling on the next raised hand."""
    _audit(access, "hand.next", target_id=user_id)


# --- flags and reports ---------------------------------------------------------------


def _room_flag(access: RoomAccess, flag_id: int) -> Flag:
    flag = Flag.objects.filter(pk=flag_id).first()
    if flag is None or (flag.room_id != access.room_id and access.role != SUPERVISOR):
        raise _not_found("flag")
    return flag


def do_flag_ack(access: RoomAccess, frame: FlagAck) -> None:
    flag = _room_flag(access, frame.flag_id)
    if do_acknowledge_flag(flag, access.user_id):
        publish_flag_status(flag, _by(access))


def do_flag_resolve(access: RoomAccess, frame: FlagResolve) -> None:
    flag = _room_flag(access, frame.flag_id)
    if not do_resolve_flag(flag, access.user_id, frame.outcome, frame.note):
        raise ProtocolError(ErrorCode.NOT_FOUND, _("That flag is already closed."))
    flag.refresh_from_db()
    publish_flag_status(flag, _by(access))
    if flag.kind == Flag.Kind.REPORT and flag.reporter is not None:
        resolved = frame.outcome == Flag.Status.RESOLVED

        def outcome() -> NoticeFrame:
            text = (
                _("A moderator looked at the message you reported and took care of it.")
                if resolved
                else _(
                    "A moderator looked at the message you reported and found it within "
                    "the room's norms."
                )
            )
            return NoticeFrame(
                kind="report.outcome",
                text=" ".join([text, _("Thank you.")]),
                room=flag.room.slug,
                flag_id=flag.pk,
            )

        notice = _in_language_of(flag.reporter, outcome)
        events.publish(events.user_group(flag.reporter_id), notice)


@transaction.atomic
def check_report(access: RoomAccess, frame: Report) -> None:
    """Let any member report a visible message to the room's moderators."""
    message = _room_message(access, frame.message_id)
    if message.status != Message.Status.VISIBLE:
        raise _not_found("message")
    flag = do_report_message(message, access.user_id, frame.reason)
    record_action(
        "report",
        actor_id=access.user_id,
        room_id=access.room_id,
        session_id=message.session_id,
        message_id=message.pk,
        flag=flag,
    )
    notice = NoticeFrame(
        kind="report.received",
        text=_("Thank you. The moderators will look at it; the writer is not told who reported."),
        room=_room_slug(access),
        flag_id=flag.pk,
    )
    _after_commit(events.user_group(access.user_id), notice)


MODERATOR_ACTIONS = {
    ModWarn: do_warn,
    ModMute: do_mute,
    ModUnmute: do_unmute,
    ModKick: do_kick,
    ModBan: do_ban,
    ModUnban: do_unban,
    ModHide: do_hide,
    ModRelease: do_release,
    ModSlow: do_slow,
    ModLock: do_lock,
    ModUnlock: do_lock,
    ModPin: do_pin,
    ModUnpin: do_pin,
    ModSessionStart: do_session_start,
    ModSessionEnd: do_session_end,
    ModSessionCount: do_session_count,
    FlagAck: do_flag_ack,
    FlagResolve: do_flag_resolve,
}


def check_moderator_action(access: RoomAccess, frame: Any) -> None:
    """Check the sender moderates the room, then run the action the frame asks for."""
    check_moderator(access)
    MODERATOR_ACTIONS[type(frame)](access, frame)


__all__ = ["ONCALL_GROUP", "check_moderator_action", "check_report"]
