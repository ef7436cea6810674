"""Arbitrary frames never kill the room socket: each gets a valid reply or works."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.protocol import ErrorCode
from tests.chat.helpers import connect
from tests.factories import make_member, make_room

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = [
    "message.send",
    "norms.accept",
    "resume",
    "history",
    "typing",
    "ping",
    "hand.raise",
    "hand.lower",
    "break.start",
    "break.end",
    "report",
    "mod.mute",
    "mod.hide",
    "flag.ack",
    "chat.frame",
    "websocket.disconnect",
]
FIELDS = [
    "client_id",
    "body",
    "version",
    "after_seq",
    "before_seq",
    "limit",
    "minutes",
    "message_id",
    "user",
    "reason",
    "flag_id",
    "text",
    "seconds",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
frame_objects = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(TYPES) | st.text(max_size=20),
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=4),
)
raw_frames = (
    frame_objects.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=200)
    | st.binary(max_size=100)
)

CODES = {code.value for code in ErrorCode}
REPLIES = {
    "hello",
    "error",
    "ack",
    "message",
    "norms.accepted",
    "resumed",
    "history",
    "typing",
    "pong",
    "hands",
    "presence",
    "notice",
    "support",
    "held",
    "flag",
    "flag.update",
}


@pytest.fixture
def member():
    room = make_room("circle")
    return make_member(room, "alice")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(raw_frames, min_size=1, max_size=4))
def test_arbitrary_frames_get_an_answer_and_the_socket_lives_on(member, frames):
    async def exchange() -> None:
        client, _ = await connect(member, "circle")
        for frame in frames:
            key = "bytes" if isinstance(frame, bytes) else "text"
            await client.communicator.send_input({"type": "websocket.receive", key: frame})
        await client.send({"type": "ping"})
        await client.next_of("pong", timeout=5)
        for reply in client.frames:
            assert reply["type"] in REPLIES, reply
            if reply["type"] == "error":
                assert reply["code"] in CODES and reply["detail"]
        await client.close()

    def run() -> None:
        async_to_sync(exchange)()

    run()
