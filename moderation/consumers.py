"""The on-call websocket: escalated crisis alerts for supervisors, in no room. No logic here."""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import translation
from django.utils.translation import gettext as _

from chat import events
from chat.access import CLOSE_NO_ACCESS, closes_this_socket, login_of
from chat.protocol import (
    ErrorCode,
    ErrorFrame,
    FlagAck,
    FlagResolve,
    Ping,
    PongFrame,
    ProtocolError,
    ServerFrame,
    parse_client_frame,
)
from chat.state import PRESENCE_TTL
from moderation import oncall
from moderation.alerts import ONCALL_GROUP
from moderation.escalation import ensure_escalation_task

logger = logging.getLogger(__name__)


class OnCallConsumer(AsyncWebsocketConsumer):
    """One supervisor's on-call socket: the ``oncall`` group, then its alerts' actions."""

    joined = False
    language = "en"
    refreshed = 0.0
    groups_joined: list[str]
    login: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if not await events.run_db(oncall.is_on_call, user):
            await self.close(code=CLOSE_NO_ACCESS)
            return
        self.language = getattr(user, "language", "") or "en"
        await oncall.mark_on_call(user.pk, user.display_name, self.channel_name)
        self.refreshed = time.monotonic()
        ensure_escalation_task()
        # Join before reading the snapshot: an alert escalated in between comes twice
        # (the client keys alerts by id), never not at all. The supervisor's own group
        # closes the socket when their access or login goes (chat.access).
        self.login = login_of(self.scope)
        self.groups_joined = [ONCALL_GROUP, events.oncall_user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = True
        await self.send_frame(await events.run_db(oncall.oncall_frame))

    async def disconnect(self, code: int) -> None:
        if self.joined:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            await oncall.unmark_on_call(self.channel_name)

    async def send_frame(self, frame: ServerFrame) -> None:
        await self.send(text_data=frame.to_text())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined:
            return
        with translation.override(self.language):
            try:
                frame = parse_client_frame(text_data, int(settings.PEERCHAT["MAX_FRAME_BYTES"]))
                match frame:
                    case Ping():
                        await self.send_frame(PongFrame())
                    case FlagAck() | FlagResolve():
                        await events.run_db(oncall.act_on_call, self.scope["user"], frame)
                    case _:
                        raise ProtocolError(
                            ErrorCode.FORBIDDEN,
                            _("The on-call socket takes only ping, flag.ack and flag.resolve."),
                        )
            except ProtocolError as error:
                await self.send_frame(ErrorFrame.from_error(error))
            except (OperationalError, InterfaceError):
                logger.warning("database unavailable for an on-call socket", exc_info=True)
                await self.send_frame(
                    ErrorFrame(
                        code=ErrorCode.UNAVAILABLE,
                        detail="The server cannot reach its database right now; try again shortly.",
                    )
                )
        # The page pings every 30 s: that keeps this supervisor counted as on call.
        if time.monotonic() - self.refreshed > PRESENCE_TTL / 3:
            self.refreshed = time.monotonic()
            user = self.scope["user"]
            await oncall.mark_on_call(user.pk, user.display_name, self.channel_name)

    # --- layer events --------------------------------------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        """Relay an alert frame published to the ``oncall`` group."""
        await self.send(text_data=event["text"])

    async def chat_close(self, event: dict[str, Any]) -> None:
        """Close when the account's access changed (events for one room are not for this)."""
        if closes_this_socket(event, None, self.login):
            await self.close(code=int(event.get("code", CLOSE_NO_ACCESS)))
