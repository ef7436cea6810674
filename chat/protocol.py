"""The websocket protocol: client frames parsed into typed objects, server frames built
from typed objects. docs/protocol.md is the reference for client writers."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1


class ErrorCode(StrEnum):
    """Stable error codes a client can act on."""

    BAD_FRAME = "bad_frame"
    TOO_LARGE = "too_large"
    BODY_EMPTY = "body_empty"
    BODY_TOO_LONG = "body_too_long"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    RATE_LIMITED = "rate_limited"
    NORMS_REQUIRED = "norms_required"
    NORMS_OUTDATED = "norms_outdated"
    ROOM_CLOSED = "room_closed"
    LOCKED = "locked"
    SLOW_MODE = "slow_mode"
    MUTED = "muted"
    BANNED = "banned"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NORM_BLOCKED = "norm_blocked"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    UNAVAILABLE = "unavailable"


class ProtocolError(Exception):
    """A frame or request the server refuses; becomes one `error` frame."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        *,
        ref: str | None = None,
        retry_after: float | None = None,
        until: datetime | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.ref = ref
        self.retry_after = retry_after
        self.until = until


# --- client frames -------------------------------------------------------------------


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SendMessage(ClientFrame):
    type: Literal["message.send"]
    client_id: uuid.UUID
    body: str
    reply_to: int | None = None


class AcceptNorms(ClientFrame):
    type: Literal["norms.accept"]
    version: int


class Resume(ClientFrame):
    type: Literal["resume"]
    after_seq: Annotated[int, Field(ge=0)]


class History(ClientFrame):
    type: Literal["history"]
    before_seq: Annotated[int, Field(ge=1)]
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class Typing(ClientFrame):
    type: Literal["typing"]


class Ping(ClientFrame):
    type: Literal["ping"]


class RaiseHand(ClientFrame):
    type: Literal["hand.raise"]


class LowerHand(ClientFrame):
    type: Literal["hand.lower"]


class StartBreak(ClientFrame):
    type: Literal["break.start"]
    minutes: Annotated[int, Field(ge=1, le=240)] = 15


class EndBreak(ClientFrame):
    type: Literal["break.end"]


class Report(ClientFrame):
    type: Literal["report"]
    message_id: int
    reason: Annotated[str, Field(max_length=500)] = ""


Reason = Annotated[str, Field(max_length=500)]


class ModWarn(ClientFrame):
    type: Literal["mod.warn"]
    user: int
    reason: Reason


class ModMute(ClientFrame):
    type: Literal["mod.mute"]
    user: int
    minutes: Annotated[int, Field(ge=1, le=10080)]
    reason: Reason = ""


class ModUnmute(ClientFrame):
    type: Literal["mod.unmute"]
    user: int


class ModKick(ClientFrame):
    type: Literal["mod.kick"]
    user: int
    reason: Reason = ""


class ModBan(ClientFrame):
    type: Literal["mod.ban"]
    user: int
    minutes: Annotated[int, Field(ge=1, le=525600)] | None = None
    reason: Reason = ""


class ModUnban(ClientFrame):
    type: Literal["mod.unban"]
    user: int


class ModHide(ClientFrame):
    type: Literal["mod.hide"]
    message_id: int
    reason: Reason = ""


class ModRelease(ClientFrame):
    type: Literal["mod.release"]
    message_id: int


class ModSlow(ClientFrame):
    type: Literal["mod.slow"]
    seconds: Annotated[int, Field(ge=0, le=3600)]


class ModLock(ClientFrame):
    type: Literal["mod.lock"]


class ModUnlock(ClientFrame):
    type: Literal["mod.unlock"]


class ModPin(ClientFrame):
    type: Literal["mod.pin"]
    message_id: int


class ModUnpin(ClientFrame):
    type: Literal["mod.unpin"]


class ModSessionStart(ClientFrame):
    type: Literal["mod.session.start"]
    mode: Literal["online", "hybrid"] = "online"
    in_person_count: Annotated[int, Field(ge=0, le=1000)] = 0


class ModSessionEnd(ClientFrame):
    type: Literal["mod.session.end"]


class ModSessionCount(ClientFrame):
    type: Literal["mod.session.count"]
    in_person_count: Annotated[int, Field(ge=0, le=1000)]


class ModHandNext(ClientFrame):
    type: Literal["mod.hand.next"]


class FlagAck(ClientFrame):
    type: Literal["flag.ack"]
    flag_id: int


class FlagResolve(ClientFrame):
    type: Literal["flag.resolve"]
    flag_id: int
    outcome: Literal["resolved", "dismissed"]
    note: Annotated[str, Field(max_length=5000)] = ""


ModFrame = (
    ModWarn
    | ModMute
    | ModUnmute
    | ModKick
    | ModBan
    | ModUnban
    | ModHide
    | ModRelease
    | ModSlow
    | ModLock
    | ModUnlock
    | ModPin
    | ModUnpin
    | ModSessionStart
    | ModSessionEnd
    | ModSessionCount
    | ModHandNext
    | FlagAck
    | FlagResolve
)


AnyClientFrame = Annotated[
    SendMessage
    | AcceptNorms
    | Resume
    | History
    | Typing
    | Ping
    | RaiseHand
    | LowerHand
    | StartBreak
    | EndBreak
    | Report
    | ModFrame,
    Field(discriminator="type"),
]

_client_frame_adapter: TypeAdapter[AnyClientFrame] = TypeAdapter(AnyClientFrame)


def client_id_of(raw: str) -> str | None:
    """Return the frame's client_id if it has a string one, to tie an error to a send."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("client_id"), str):
        return data["client_id"][:64]
    return None


def describe_validation_error(error: ValidationError) -> str:
    """Say what is wrong with a frame without echoing what the client sent."""
    parts = []
    for item in error.errors(include_input=False, include_url=False)[:3]:
        location = ".".join(str(part) for part in item["loc"]) or "frame"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


def parse_client_frame(raw: str | None, max_bytes: int) -> AnyClientFrame:
    """Parse one text frame into a typed client frame or raise ProtocolError."""
    if raw is None:
        raise ProtocolError(ErrorCode.BAD_FRAME, _("Frames must be JSON text, not binary."))
    if len(raw) > max_bytes or len(raw.encode("utf-8")) > max_bytes:
        raise ProtocolError(
            ErrorCode.TOO_LARGE,
            _("A frame may have at most %(bytes)s bytes.") % {"bytes": max_bytes},
        )
    try:
        return _client_frame_adapter.validate_json(raw)
    except ValidationError as error:
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            _("The frame is not a valid client frame (%(why)s).")
            % {"why": describe_validation_error(error)},
            ref=client_id_of(raw),
        ) from None


# --- server frames -------------------------------------------------------------------


class ServerFrame(BaseModel):
    model_config = ConfigDict(frozen=True)

    def to_text(self) -> str:
        """Encode the frame as the JSON text sent on the socket."""
        return self.model_dump_json(exclude_none=True)


class Author(BaseModel):
    id: int | None
    name: str


class MessageFrame(ServerFrame):
    type: Literal["message"] = "message"
    id: int
    seq: int | None
    client_id: str
    author: Author
    body: str
    created: datetime
    status: str | None = None
    reply_to: int | None = None


class AckFrame(ServerFrame):
    type: Literal["ack"] = "ack"
    client_id: str
    id: int
    seq: int | None
    status: str = "visible"


class ErrorFrame(ServerFrame):
    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str
    ref: str | None = None
    retry_after: float | None = None
    until: datetime | None = None

    @classmethod
    def from_error(cls, error: ProtocolError) -> ErrorFrame:
        return cls(
            code=error.code,
            detail=error.detail,
            ref=error.ref,
            retry_after=error.retry_after,
            until=error.until,
        )


class Member(BaseModel):
    id: int
    name: str
    role: str
    state: str = "here"
    until: datetime | None = None


class RoomInfo(BaseModel):
    slug: str
    name: str
    description: str
    language: str
    kind: str
    locked: bool
    slow_mode_seconds: int
    session: dict[str, Any] | None = None
    pinned: MessageFrame | None = None


class NormsInfo(BaseModel):
    version: int
    text: str
    accepted: bool


class You(BaseModel):
    id: int
    name: str
    role: str
    muted_until: datetime | None = None
    blur_flagged: bool | None = None


class HelloFrame(ServerFrame):
    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL_VERSION
    room: RoomInfo
    you: You
    norms: NormsInfo
    members: list[Member]
    hands: list[Member]
    messages: list[MessageFrame]
    last_seq: int


class ResumedFrame(ServerFrame):
    type: Literal["resumed"] = "resumed"
    last_seq: int


class HistoryFrame(ServerFrame):
    type: Literal["history"] = "history"
    messages: list[MessageFrame]
    has_more: bool


class NormsAcceptedFrame(ServerFrame):
    type: Literal["norms.accepted"] = "norms.accepted"
    version: int


class TypingFrame(ServerFrame):
    type: Literal["typing"] = "typing"
    user: Author


class PresenceFrame(ServerFrame):
    type: Literal["presence"] = "presence"
    members: list[Member]


class HandsFrame(ServerFrame):
    type: Literal["hands"] = "hands"
    queue: list[Member]
    speaking: Member | None = None


class PongFrame(ServerFrame):
    type: Literal["pong"] = "pong"


class RoomStateFrame(ServerFrame):
    type: Literal["room.state"] = "room.state"
    locked: bool
    slow_mode_seconds: int
    pinned: MessageFrame | None = None
    session: dict[str, Any] | None = None


class MessageHiddenFrame(ServerFrame):
    type: Literal["message.hidden"] = "message.hidden"
    id: int
    seq: int | None = None


class NoticeFrame(ServerFrame):
    type: Literal["notice"] = "notice"
    kind: str
    text: str
    room: str | None = None
    until: datetime | None = None
    flag_id: int | None = None


class Resource(BaseModel):
    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None
    kind: str


class SupportFrame(ServerFrame):
    type: Literal["support"] = "support"
    tier: str
    message_id: int | None = None
    text: str
    resources: list[Resource]


class HeldFrame(ServerFrame):
    type: Literal["held"] = "held"
    message: MessageFrame
    norm: str
    detail: str


class FlagInfo(BaseModel):
    id: int
    kind: str
    tier: str
    categories: list[str]
    norms: list[str]
    spans: list[list[Any]]
    status: str
    created: datetime
    count: int
    escalated: bool
    room: str
    author: Author | None = None
    message: MessageFrame | None = None
    context: list[MessageFrame] = []
    reason: str | None = None


class FlagFrame(ServerFrame):
    type: Literal["flag", "flag.update"] = "flag"
    flag: FlagInfo


class OnCallFrame(ServerFrame):
    """Sent on the on-call socket when it opens: every escalated alert still open."""

    type: Literal["oncall"] = "oncall"
    flags: list[FlagInfo]
    more: int = 0
    """Escalated alerts left out of ``flags`` (beyond the most urgent 100)."""


class FlagStatusFrame(ServerFrame):
    type: Literal["flag.status"] = "flag.status"
    flag_id: int
    status: str
    by: Author | None = None


class ModerationFrame(ServerFrame):
    """Sent to a room's moderators after any moderation action, theirs or automatic."""

    type: Literal["moderation"] = "moderation"
    action: str
    by: Author | None = None
    target: Author | None = None
    message_id: int | None = None
    until: datetime | None = None
    reason: str | None = None
