"""What members do in rooms. ``check_*`` functions take untrusted input and check access;
``do_*`` functions write. Frames reach the channel layer only after the commit."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import REVIEW_PERMISSION
from chat import events
from chat.models import Membership, Message, Room, Session
from chat.protocol import (
    AckFrame,
    Author,
    ErrorCode,
    HandsFrame,
    HelloFrame,
    HistoryFrame,
    Member,
    MessageFrame,
    NormsInfo,
    PresenceFrame,
    ProtocolError,
    RoomInfo,
    TypingFrame,
    You,
)
from chat.state import PRESENCE_TTL, PresenceEntry, room_state
from moderation import engine
from moderation.models import Sanction
from moderation.policy import decide, room_policy
from moderation.services import do_block_message, do_moderate_message

SUPERVISOR = "supervisor"
# How far back the engine looks at the writer's own messages for signals that add up.
CONTEXT_WINDOW = timedelta(minutes=30)
CONTEXT_MESSAGES = 4


class RoomAccessError(Exception):
    """The room does not exist or the user may not enter it: one error for both."""


@dataclass(frozen=True)
class RoomAccess:
    """Who is in which room, as checked when the socket opened."""

    user_id: int
    name: str
    room_id: int
    role: str  # peer | moderator | supervisor
    language: str = "en"
    room_language: str = "en"
    """The room's language when the socket opened (the engine's hint; see asend_message)."""

    @property
    def moderates(self) -> bool:
        return self.role in (Membership.Role.MODERATOR, SUPERVISOR)


def with_reason(text: str, reason: str) -> str:
    """Join a sentence and a moderator's reason into one sentence with one full stop."""
    reason = reason.strip().rstrip(".!? ")
    return f"{text}: {reason}." if reason else f"{text}."


def limits() -> dict[str, object]:
    return settings.PEERCHAT


# --- entering a room -----------------------------------------------------------------


def access_room(user: User, slug: str) -> RoomAccess:
    """Return the user's access to the room or raise RoomAccessError (missing or not allowed)."""
    if not user.is_authenticated or not user.is_active:
        raise RoomAccessError(slug)
    room = Room.objects.filter(slug=slug).only("id", "language").first()
    if room is None:
        raise RoomAccessError(slug)
    membership = Membership.objects.filter(room=room, user=user).only("role").first()
    if user.has_perm(REVIEW_PERMISSION):
        role = SUPERVISOR
    elif membership is not None:
        role = membership.role
    else:
        raise RoomAccessError(slug)
    return RoomAccess(
        user_id=user.pk,
        name=user.display_name,
        room_id=room.pk,
        role=role,
        language=user.language or "en",
        room_language=room.language,
    )


def check_not_banned(access: RoomAccess) -> None:
    """Raise ProtocolError(banned) when the user is banned from the room."""
    if access.moderates:
        return
    ban = (
        Sanction.objects.in_force()
        .filter(room_id=access.room_id, user_id=access.user_id, kind=Sanction.Kind.BAN)
        .order_by("-created")
        .first()
    )
    if ban is not None:
        raise ProtocolError(
            ErrorCode.BANNED,
            _("You are banned from this room until the time given.")
            if ban.until
            else _("You are banned from this room."),
            until=ban.until,
        )


def message_frame(
    message: Message, *, with_status: bool = False, author: Author | None = None
) -> MessageFrame:
    """Build the frame that shows one message (pass `author` when it is known, to save
    loading the user)."""
    if author is None:
        user = message.author
        author = Author(
            id=user.pk if user else None,
            name=user.display_name if user else "former member",
        )
    return MessageFrame(
        id=message.pk,
        seq=message.seq,
        client_id=str(message.client_id),
        author=author,
        body=message.body,
        created=message.created,
        status=message.status if with_status else None,
    )


def session_info(session: Session | None) -> dict[str, object] | None:
    if session is None:
        return None
    return {
        "id": session.pk,
        "mode": session.mode,
        "opened_at": session.opened_at.isoformat(),
        "in_person_count": session.in_person_count,
    }


def _muted_until(access: RoomAccess) -> datetime | None:
    if access.moderates:
        return None
    mute = (
        Sanction.objects.in_force()
        .filter(room_id=access.room_id, user_id=access.user_id, kind=Sanction.Kind.MUTE)
        .order_by("-created")
        .first()
    )
    if mute is None:
        return None
    # A mute with no end is shown as lasting a year; the member can still read.
    return mute.until or timezone.now() + timedelta(days=365)


def build_hello(access: RoomAccess, members: list[Member], hands: list[Member]) -> HelloFrame:
    """Build the `hello` frame for a socket that just entered the room."""
    room = Room.objects.select_related("pinned_message__author").get(pk=access.room_id)
    membership = Membership.objects.filter(room=room, user_id=access.user_id).first()
    accepted = access.moderates or (
        membership is not None and membership.norms_version_accepted >= room.norms_version
    )
    count = int(settings.PEERCHAT["HELLO_MESSAGES"])
    recent = list(
        Message.objects.filter(room=room, status=Message.Status.VISIBLE)
        .select_related("author")
        .order_by("-seq")[:count]
    )
    recent.reverse()
    pinned = room.pinned_message
    return HelloFrame(
        room=RoomInfo(
            slug=room.slug,
            name=room.name,
            description=room.description,
            language=room.language,
            kind=room.kind,
            locked=room.locked,
            slow_mode_seconds=room.slow_mode_seconds,
            session=session_info(open_session(room)),
            pinned=message_frame(pinned)
            if pinned and pinned.status == Message.Status.VISIBLE
            else None,
        ),
        you=You(
            id=access.user_id,
            name=access.name,
            role=access.role,
            muted_until=_muted_until(access),
            blur_flagged=User.objects.values_list("blur_flagged", flat=True).get(pk=access.user_id)
            if access.moderates
            else None,
        ),
        norms=NormsInfo(version=room.norms_version, text=room.norms_text, accepted=accepted),
        members=members,
        hands=hands,
        messages=[message_frame(m) for m in recent],
        last_seq=room.last_seq,
    )


# --- norms ---------------------------------------------------------------------------


def check_accept_norms(access: RoomAccess, version: int) -> int:
    """Record that the member accepted the room's current norms; return that version."""
    room = Room.objects.only("norms_version").get(pk=access.room_id)
    if version != room.norms_version:
        raise ProtocolError(
            ErrorCode.NORMS_OUTDATED,
            _("The room's norms are at version %(version)s; read and accept that one.")
            % {"version": room.norms_version},
        )
    Membership.objects.filter(room_id=access.room_id, user_id=access.user_id).update(
        norms_version_accepted=version
    )
    return version


# --- sending -------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    ack: AckFrame


def open_session(room: Room) -> Session | None:
    return Session.objects.filter(room=room, closed_at__isnull=True).first()


def _check_body(body: str, client_id: str) -> str:
    text = body.strip()
    if not text:
        raise ProtocolError(ErrorCode.BODY_EMPTY, _("A message needs some text."), ref=client_id)
    limit = int(settings.PEERCHAT["MAX_BODY_CHARS"])
    if len(text) > limit:
        raise ProtocolError(
            ErrorCode.BODY_TOO_LONG,
            _("A message may have at most %(limit)s characters; this one has %(length)s.")
            % {"limit": limit, "length": len(text)},
            ref=client_id,
        )
    return text


def _earlier_send(user_id: int, client_id: uuid.UUID, body: str) -> AckFrame | None:
    """Return the first ack of a retried send, or None if this client_id is new."""
    earlier = Message.objects.filter(author_id=user_id, client_id=client_id).first()
    if earlier is None:
        return None
    if earlier.body != body:
        raise ProtocolError(
            ErrorCode.DUPLICATE_CLIENT_ID,
            _("This client_id was already used for a different message; make a new one."),
            ref=str(client_id),
        )
    return AckFrame(client_id=str(client_id), id=earlier.pk, seq=earlier.seq, status=earlier.status)


@dataclass(frozen=True)
class PostingState:
    """What deciding on one send needs to know, read in one statement."""

    room: Room
    open_session_id: int | None
    norms_accepted: int | None  # None: not a member
    ban_id: int | None  # the writer's ban in force here, if any
    mute_id: int | None  # the latest mute in force here, if any
    recent: list[tuple[str, datetime]]  # the writer's last messages here, newest first


@functools.cache
def _posting_sql(*, with_recent: bool) -> str:
    room, session, membership, message, sanction = (
        model._meta.db_table for model in (Room, Session, Membership, Message, Sanction)
    )
    # The same test as SanctionQuerySet.in_force(): not lifted, not run out.
    in_force = "s.lifted_at IS NULL AND (s.until IS NULL OR s.until > %(now)s)"
    recent = (
        f"FROM {message} WHERE room_id = r.id AND author_id = %(user)s "
        f"ORDER BY created DESC, id DESC LIMIT {CONTEXT_MESSAGES}"
    )
    # PostgreSQL returns the writer's recent messages as two arrays in the same row.
    arrays = (
        f""",
          ARRAY(SELECT body {recent}) AS recent_bodies,
          ARRAY(SELECT created {recent}) AS recent_created"""
        if with_recent
        else ""
    )
    return f"""
        SELECT r.*,
          (SELECT id FROM {session} WHERE room_id = r.id AND closed_at IS NULL
           ORDER BY id LIMIT 1) AS open_session_id,
          (SELECT norms_version_accepted FROM {membership}
           WHERE room_id = r.id AND user_id = %(user)s) AS norms_accepted,
          (SELECT s.id FROM {sanction} s WHERE s.room_id = r.id AND s.user_id = %(user)s
           AND s.kind = %(ban)s AND {in_force} ORDER BY s.created DESC LIMIT 1) AS ban_id,
          (SELECT s.id FROM {sanction} s WHERE s.room_id = r.id AND s.user_id = %(user)s
           AND s.kind = %(mute)s AND {in_force} ORDER BY s.created DESC LIMIT 1) AS mute_id
          {arrays}
        FROM {room} r WHERE r.id = %(room)s"""


def load_posting_state(access: RoomAccess) -> PostingState:
    """Read the room, its open session, the writer's membership, sanctions and recent
    messages in one statement (two on databases without arrays, e.g. SQLite in
    development): the hot path of every send, so no ORM query building."""
    arrays = connection.vendor == "postgresql"
    params = {
        "room": access.room_id,
        "user": access.user_id,
        "ban": Sanction.Kind.BAN.value,
        "mute": Sanction.Kind.MUTE.value,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    room = next(iter(Room.objects.raw(_posting_sql(with_recent=arrays), params)))
    if arrays:
        recent = list(zip(room.recent_bodies, room.recent_created, strict=True))
    else:
        recent = list(
            Message.objects.filter(room_id=access.room_id, author_id=access.user_id)
            .order_by("-created", "-id")
            .values_list("body", "created")[:CONTEXT_MESSAGES]
        )
    return PostingState(
        room=room,
        open_session_id=room.open_session_id,
        norms_accepted=room.norms_accepted,
        ban_id=room.ban_id,
        mute_id=room.mute_id,
        recent=recent,
    )


def _context_texts(recent: list[tuple[str, datetime]]) -> list[str]:
    """The writer's recent texts within the context window, oldest first, for the engine."""
    since = timezone.now() - CONTEXT_WINDOW
    return [body for body, created in reversed(recent) if created >= since]


def _check_may_post(access: RoomAccess, state: PostingState, ref: str) -> None:
    """Raise the ProtocolError that says why the member may not post now, if any."""
    if access.moderates:
        return
    room = state.room
    if state.norms_accepted is None:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, _("You are no longer a member of this room."), ref=ref
        )
    if state.norms_accepted < room.norms_version:
        raise ProtocolError(
            ErrorCode.NORMS_REQUIRED,
            _("Read and accept the room's norms before you post."),
            ref=ref,
        )
    if state.ban_id is not None:
        raise ProtocolError(ErrorCode.BANNED, _("You are banned from this room."), ref=ref)
    if state.mute_id is not None:
        mute = Sanction.objects.get(pk=state.mute_id)
        raise ProtocolError(
            ErrorCode.MUTED,
            with_reason(_("A moderator muted you"), mute.reason)
            + " "
            + _("You can read along and post again when the mute ends."),
            ref=ref,
            until=mute.until,
        )
    if room.locked:
        raise ProtocolError(
            ErrorCode.LOCKED, _("The room is locked; only moderators can post now."), ref=ref
        )
    if room.slow_mode_seconds and state.recent:
        last = state.recent[0][1]
        wait = (last + timedelta(seconds=room.slow_mode_seconds) - timezone.now()).total_seconds()
        if wait > 0:
            raise ProtocolError(
                ErrorCode.SLOW_MODE,
                _("Slow mode is on: one message every %(seconds)s seconds.")
                % {"seconds": room.slow_mode_seconds},
                ref=ref,
                retry_after=round(wait, 1),
            )


def _session_for_post(access: RoomAccess, state: PostingState, ref: str) -> int:
    """Return the id of the room's open session, opening one for a drop-in room.
    Call inside the message's transaction; takes the room lock."""
    if state.open_session_id is not None:
        return state.open_session_id
    room = state.room
    locked = Room.objects.select_for_update().get(pk=room.pk)
    session = open_session(locked)
    if session is None:
        if room.kind == Room.Kind.SCHEDULED and not access.moderates:
            raise ProtocolError(
                ErrorCode.ROOM_CLOSED,
                _("This room meets at set times; a moderator has not opened it yet."),
                ref=ref,
            )
        session = Session.objects.create(room=locked)
    return session.pk


def check_send_message(
    access: RoomAccess,
    client_id: uuid.UUID,
    body: str,
    reading: engine.Reading | None = None,
) -> SendResult:
    """Check, assess and store one message, then (after commit) tell whoever must know:
    the room, the writer, the moderators.

    The checks read outside the write transaction (a mute that lands while a message is
    being checked applies from the next one); the write takes the room's next seq,
    stores the message and its flags, and commits before the ack. ``reading`` is the
    engine's reading of the message on its own, when the caller has one already."""
    ref = str(client_id)
    text = _check_body(body, ref)
    try:
        state = load_posting_state(access)
        room = state.room
        _check_may_post(access, state, ref)
        verdict = engine.assess_window(
            _context_texts(state.recent), text, lang=room.language, reading=reading
        )
        decision = decide(verdict, room_policy(room.policy), moderator=access.moderates)
        if not decision.stored:
            do_block_message(access, decision)
            raise ProtocolError(
                ErrorCode.NORM_BLOCKED,
                " ".join([_("Not sent."), *decision.reasons]),
                ref=ref,
            )
    except ProtocolError:
        # A retry of a message stored before (its ack was lost) still gets that ack,
        # whatever changed since: slow mode, a mute, a lock.
        earlier = _earlier_send(access.user_id, client_id, text)
        if earlier is None:
            raise
        return SendResult(ack=earlier)
    try:
        with transaction.atomic():
            session_id = _session_for_post(access, state, ref)
            message = do_post_message(
                room, session_id, access, client_id, text, visible=decision.visible
            )
            do_moderate_message(access, room, message, verdict, decision)
    except IntegrityError:
        # The unique (author, client_id) constraint: a retry of a stored message, or a
        # retry racing this one that won. Answer with the first ack.
        earlier = _earlier_send(access.user_id, client_id, text)
        if earlier is None:
            raise
        return SendResult(ack=earlier)
    return SendResult(
        ack=AckFrame(client_id=ref, id=message.pk, seq=message.seq, status=message.status)
    )


def take_next_seq(room_id: int) -> int:
    """Take the room's next seq. The UPDATE locks the room row until commit, so seq
    follows commit order: a client that resumes after seq N can never miss a message
    committed later with a smaller seq."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Room._meta.db_table} SET last_seq = last_seq + 1 WHERE id = %s "
            "RETURNING last_seq",
            [room_id],
        )
        return int(cursor.fetchone()[0])


def do_post_message(
    room: Room,
    session_id: int,
    access: RoomAccess,
    client_id: uuid.UUID,
    text: str,
    *,
    visible: bool = True,
) -> Message:
    """Store a message (visible ones with the room's next seq, and shown to the room
    after commit). Call inside a transaction."""
    message = Message.objects.create(
        room=room,
        session_id=session_id,
        author_id=access.user_id,
        client_id=client_id,
        body=text,
        seq=take_next_seq(room.pk) if visible else None,
        status=Message.Status.VISIBLE if visible else Message.Status.HELD,
    )
    if visible:
        frame = message_frame(message, author=Author(id=access.user_id, name=access.name))
        transaction.on_commit(lambda: events.publish(events.room_group(room.pk), frame))
    return message


# --- reading -------------------------------------------------------------------------


def fetch_after(access: RoomAccess, after_seq: int, limit: int = 500) -> list[MessageFrame]:
    """Return the visible messages with a seq above after_seq, oldest first."""
    rows = (
        Message.objects.filter(
            room_id=access.room_id, status=Message.Status.VISIBLE, seq__gt=after_seq
        )
        .select_related("author")
        .order_by("seq")[:limit]
    )
    return [message_frame(m) for m in rows]


def last_seq(access: RoomAccess) -> int:
    return Room.objects.values_list("last_seq", flat=True).get(pk=access.room_id)


def fetch_history(access: RoomAccess, before_seq: int, limit: int) -> HistoryFrame:
    """Return up to `limit` visible messages before before_seq, oldest first."""
    rows = list(
        Message.objects.filter(
            room_id=access.room_id, status=Message.Status.VISIBLE, seq__lt=before_seq
        )
        .select_related("author")
        .order_by("-seq")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return HistoryFrame(messages=[message_frame(m) for m in rows], has_more=has_more)


# --- live state (async: presence, typing, hands) --------------------------------------


def _members(entries: dict[str, PresenceEntry]) -> list[Member]:
    """Fold connections into members: one per user, on a break only if every socket is."""
    by_user: dict[int, Member] = {}
    now = time.time()
    for entry in entries.values():
        on_break = entry.state == "break" and (entry.until or 0) > now
        member = Member(
            id=entry.user_id,
            name=entry.name,
            role=entry.role,
            state="break" if on_break else "here",
            until=datetime.fromtimestamp(entry.until, tz=UTC) if on_break and entry.until else None,
        )
        known = by_user.get(entry.user_id)
        if known is None or (known.state == "break" and member.state == "here"):
            by_user[entry.user_id] = member
    return sorted(by_user.values(), key=lambda m: (m.role != "moderator", m.name.casefold()))


async def amembers(room_id: int) -> list[Member]:
    return _members(await room_state().entries(room_id))


async def ahands(room_id: int) -> list[Member]:
    state = room_state()
    queue = await state.hands(room_id)
    names = {m.id: m for m in await amembers(room_id)}
    return [names[uid] for uid in queue if uid in names]


def presence_entry(
    access: RoomAccess, *, state: str = "here", until: float | None = None
) -> PresenceEntry:
    return PresenceEntry(
        user_id=access.user_id,
        name=access.name,
        role=access.role,
        state=state,
        until=until,
        expires=time.time() + PRESENCE_TTL,
    )


async def ajoin_room(access: RoomAccess, channel: str) -> None:
    """Mark a socket present (after its per-user limit is checked) and tell the room."""
    state = room_state()
    entries = await state.entries(access.room_id)
    mine = sum(1 for e in entries.values() if e.user_id == access.user_id)
    if mine >= int(settings.PEERCHAT["MAX_SOCKETS_PER_ROOM"]):
        raise ProtocolError(
            ErrorCode.TOO_MANY_CONNECTIONS,
            _("You have this room open in too many places; close one and try again."),
        )
    await state.join(access.room_id, channel, presence_entry(access))
    await apublish_presence(access.room_id)


async def aleave_room(access: RoomAccess, channel: str) -> None:
    state = room_state()
    await state.leave(access.room_id, channel)
    entries = await state.entries(access.room_id)
    if not any(e.user_id == access.user_id for e in entries.values()):
        await state.lower_hand(access.room_id, access.user_id)
        await apublish_hands(access.room_id)
    await apublish_presence(access.room_id)


async def atake_break(access: RoomAccess, channel: str, minutes: int | None) -> None:
    """Start (minutes given) or end (None) a break for this socket; tell the room."""
    until = time.time() + minutes * 60 if minutes else None
    entry = presence_entry(access, state="break" if minutes else "here", until=until)
    await room_state().join(access.room_id, channel, entry)
    await apublish_presence(access.room_id)


async def arefresh_presence(access: RoomAccess, channel: str) -> None:
    """Push back the expiry of this socket's presence entry, keeping its state."""
    state = room_state()
    current = (await state.entries(access.room_id)).get(channel)
    if current is None:
        await state.join(access.room_id, channel, presence_entry(access))
    else:
        entry = presence_entry(access, state=current.state, until=current.until)
        await state.join(access.room_id, channel, entry)


async def apublish_presence(room_id: int) -> None:
    await events.apublish(
        events.room_group(room_id), PresenceFrame(members=await amembers(room_id))
    )


async def apublish_hands(room_id: int) -> None:
    await events.apublish(events.room_group(room_id), HandsFrame(queue=await ahands(room_id)))


async def araise_hand(access: RoomAccess, raised: bool) -> None:
    state = room_state()
    if raised:
        await state.raise_hand(access.room_id, access.user_id)
    else:
        await state.lower_hand(access.room_id, access.user_id)
    await apublish_hands(access.room_id)


async def atyping(access: RoomAccess) -> None:
    await events.apublish(
        events.room_group(access.room_id),
        TypingFrame(user=Author(id=access.user_id, name=access.name)),
    )


async def acall_next_hand(access: RoomAccess) -> None:
    """Moderators: call on the first raised hand and tell the room who speaks."""
    from moderation.actions import check_moderator, record_hand_next

    check_moderator(access)
    state = room_state()
    queue = await ahands(access.room_id)
    speaking = queue[0] if queue else None
    if speaking is not None:
        await state.lower_hand(access.room_id, speaking.id)
    await events.run_db(record_hand_next, access, speaking.id if speaking else None)
    await events.apublish(
        events.room_group(access.room_id),
        HandsFrame(queue=await ahands(access.room_id), speaking=speaking),
    )


async def acheck_send_rate(access: RoomAccess, ref: str) -> None:
    """Raise rate_limited when the user sends faster than the configured token bucket."""
    count, seconds = settings.PEERCHAT["SEND_RATE"]
    burst = int(settings.PEERCHAT["SEND_BURST"])
    wait = await room_state().take_token(f"send:{access.user_id}", count / seconds, burst)
    if wait > 0:
        raise ProtocolError(
            ErrorCode.RATE_LIMITED,
            _("You are sending faster than the room allows; wait a moment."),
            ref=ref,
            retry_after=round(wait, 1),
        )


async def asend_message(access: RoomAccess, client_id: uuid.UUID, body: str) -> AckFrame:
    """Rate-limit, check and store one message; return the ack for the sender."""
    try:
        await acheck_send_rate(access, str(client_id))
    except ProtocolError:
        # A retry of a stored message gets its ack back whatever the rate.
        earlier = await events.run_db(_earlier_send, access.user_id, client_id, body.strip())
        if earlier is None:
            raise
        return earlier
    # Crisis language takes the urgent lane: its alert must not queue behind other sends.
    # The database thread weighs this reading with the writer's recent messages, without
    # analysing the text again (unless the room's language changed since the socket
    # opened: the reading is then done again with the new one).
    text = body.strip()
    reading = None
    if text and len(text) <= int(settings.PEERCHAT["MAX_BODY_CHARS"]):
        reading = engine.read(text, lang=access.room_language)
    urgent = reading is not None and reading.verdict.tier is not engine.Tier.NONE
    result = await events.run_db(
        check_send_message, access, client_id, body, reading, urgent=urgent
    )
    return result.ack
