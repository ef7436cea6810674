"""The room websocket: parse a frame, call one action, relay layer events. No logic here."""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import translation

from chat import actions, events
from chat.access import CLOSE_NO_ACCESS, closes_this_socket, login_of
from chat.protocol import (
    AcceptNorms,
    EndBreak,
    ErrorCode,
    ErrorFrame,
    History,
    LowerHand,
    ModHandNext,
    NormsAcceptedFrame,
    Ping,
    PongFrame,
    ProtocolError,
    RaiseHand,
    Report,
    Resume,
    ResumedFrame,
    SendMessage,
    ServerFrame,
    StartBreak,
    Typing,
    client_id_of,
    parse_client_frame,
)
from chat.state import PRESENCE_TTL
from moderation import actions as moderation_actions
from moderation.alerts import ONCALL_GROUP
from moderation.escalation import ensure_escalation_task

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's); CLOSE_NO_ACCESS (room missing, not a
# member, not logged in, banned, removed) and CLOSE_ACCESS_CHANGED are in chat.access.
CLOSE_TOO_MANY = 4429  # too many sockets of one user in one room
CLOSE_KICKED = 4001


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's socket in one room."""

    access: actions.RoomAccess | None = None
    groups_joined: list[str]
    login: str | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Run the handler for a layer or socket event.

        Channels' own dispatch closes stale database connections first, a thread-pool
        hop per event. This consumer never uses the ORM on the event loop: every query
        runs through events.run_db (Channels' DatabaseSyncToAsync on the database
        threads), which closes stale connections in its own thread. So the hop is
        skipped, and relaying a frame stays on the loop.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.access = None
        self.groups_joined = []
        self.last_typing = 0.0
        self.presence_refreshed = time.monotonic()
        slug = self.scope["url_route"]["kwargs"]["slug"]
        user = self.scope.get("user")
        await self.accept()
        try:
            access = await events.run_db(actions.access_room, user, slug)
            with translation.override(access.language):
                await events.run_db(actions.check_not_banned, access)
        except actions.RoomAccessError:
            await self.close(code=CLOSE_NO_ACCESS)
            return
        except ProtocolError as error:
            await self.send_frame(ErrorFrame.from_error(error))
            await self.close(code=CLOSE_NO_ACCESS)
            return
        try:
            with translation.override(access.language):
                await actions.ajoin_room(access, self.channel_name)
        except ProtocolError as error:
            await self.send_frame(ErrorFrame.from_error(error))
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.access = access
        ensure_escalation_task()
        self.login = login_of(self.scope)
        for group in self.groups_for(access):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        hello = await events.run_db(
            actions.build_hello,
            access,
            await actions.amembers(access.room_id),
            await actions.ahands(access.room_id),
        )
        await self.send_frame(hello)

    @staticmethod
    def groups_for(access: actions.RoomAccess) -> list[str]:
        groups = [events.room_group(access.room_id), events.user_group(access.user_id)]
        if access.moderates:
            groups.append(events.moderators_group(access.room_id))
        if access.role == actions.SUPERVISOR:
            groups.append(ONCALL_GROUP)
        return groups

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.access is not None:
            await actions.aleave_room(self.access, self.channel_name)

    async def send_frame(self, frame: ServerFrame) -> None:
        await self.send(text_data=frame.to_text())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.access is None:
            return
        try:
            # Errors and notices for this member come in their language.
            with translation.override(self.access.language):
                frame = parse_client_frame(text_data, int(settings.PEERCHAT["MAX_FRAME_BYTES"]))
                await self.handle(self.access, frame)
        except ProtocolError as error:
            await self.send_frame(ErrorFrame.from_error(error))
        except (OperationalError, InterfaceError):
            logger.warning("database unavailable for room %s", self.access.room_id, exc_info=True)
            await self.send_frame(
                ErrorFrame(
                    code=ErrorCode.UNAVAILABLE,
                    detail="The server cannot store messages right now; try again shortly.",
                    ref=client_id_of(text_data) if text_data else None,
                )
            )
        await self.refresh_presence()

    async def handle(self, access: actions.RoomAccess, frame: Any) -> None:
        """Run the one action a client frame asks for."""
        match frame:
            case SendMessage(client_id=client_id, body=body):
                await self.send_frame(await actions.asend_message(access, client_id, body))
            case AcceptNorms(version=version):
                accepted = await events.run_db(actions.check_accept_norms, access, version)
                await self.send_frame(NormsAcceptedFrame(version=accepted))
            case Resume(after_seq=after_seq):
                await self.resume(access, after_seq)
            case History(before_seq=before_seq, limit=limit):
                history = await events.run_db(actions.fetch_history, access, before_seq, limit)
                await self.send_frame(history)
            case Typing():
                now = time.monotonic()
                if now - self.last_typing >= float(settings.PEERCHAT["TYPING_MIN_INTERVAL"]):
                    self.last_typing = now
                    await actions.atyping(access)
            case Ping():
                await self.send_frame(PongFrame())
            case RaiseHand():
                await actions.araise_hand(access, True)
            case LowerHand():
                await actions.araise_hand(access, False)
            case StartBreak(minutes=minutes):
                await actions.atake_break(access, self.channel_name, minutes)
            case EndBreak():
                await actions.atake_break(access, self.channel_name, None)
            case Report():
                await events.run_db(moderation_actions.check_report, access, frame)
            case ModHandNext():
                await actions.acall_next_hand(access)
            case _:
                await events.run_db(moderation_actions.check_moderator_action, access, frame)

    async def resume(self, access: actions.RoomAccess, after_seq: int) -> None:
        """Send every visible message after after_seq, in pages, then `resumed`."""
        while True:
            page = await events.run_db(actions.fetch_after, access, after_seq)
            for message in page:
                await self.send_frame(message)
            if len(page) < 500:
                break
            after_seq = page[-1].seq or after_seq
        last = await events.run_db(actions.last_seq, access)
        await self.send_frame(ResumedFrame(last_seq=last))

    async def refresh_presence(self) -> None:
        """Keep this socket's presence entry alive while the client talks."""
        if self.access is None:
            return
        now = time.monotonic()
        if now - self.presence_refreshed > PRESENCE_TTL / 3:
            self.presence_refreshed = now
            await actions.arefresh_presence(self.access, self.channel_name)

    # --- layer events --------------------------------------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """Relay a frame that an action encoded once for every socket in a group."""
        await self.send(text_data=event["text"])

    async def chat_close(self, event: dict[str, Any]) -> None:
        """Close this socket (kick, ban, access changed), after relaying the frame that
        says why. An event for another room is not for this socket; one for no room
        (``room_id`` None) is for every socket of the user or login session."""
        if self.access is None or not closes_this_socket(event, self.access.room_id, self.login):
            return
        if event.get("text"):
            await self.send(text_data=event["text"])
        await self.close(code=int(event.get("code", CLOSE_KICKED)))


def _client_id_ref(raw: str | None) -> str | None:
    from chat.protocol import _client_id_of

    return _client_id_of(raw) if raw else None
