"""Moderation across real daphne processes: sanctions and crisis alerts reach sockets
on the other process within a second."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import password_hash
from tests.integration.livechat import PASSWORD, Circle, DaphneProcess, OpenPeer, alogin

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(60),
]


@database_sync_to_async
def add_moderator(circle: Circle) -> None:
    from django.db import connection

    from accounts.models import User
    from chat.models import Membership
    from moderation.resources import load_seed_resources

    try:
        user = User.objects.create(username="mo", display_name="Mo", password=password_hash())
        Membership.objects.create(room_id=circle.room_id, user=user, role="moderator")
        load_seed_resources()
    finally:
        connection.close()


async def closed_within(peer, seconds: float) -> tuple[int, float, list[dict]]:
    """Read until the server closes the socket; return the close code, time, frames."""
    start = time.monotonic()
    frames = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(json.loads(await peer.ws.recv()))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else -1, time.monotonic() - start, frames
    raise AssertionError(f"{peer.name} still open after {seconds}s")


@pytest.mark.parametrize(
    ("frame", "code", "notice"),
    [
        ({"type": "mod.kick", "reason": "a pause"}, 4001, "kick"),
        ({"type": "mod.ban", "minutes": None, "reason": "harassment"}, 4403, "ban"),
    ],
)
async def test_kick_or_ban_through_one_process_closes_the_socket_on_the_other(
    daphne_pair: list[DaphneProcess],
    circle: Circle,
    open_peer: OpenPeer,
    frame: dict,
    code: int,
    notice: str,
) -> None:
    one, two = daphne_pair
    await add_moderator(circle)
    moderator = await open_peer(one, await alogin(one.origin, "mo", PASSWORD), "mo")
    target = await open_peer(two, await alogin(two.origin, "ada", PASSWORD), "ada")
    await moderator.send({**frame, "user": circle.ada.id})
    close_code, elapsed, frames = await closed_within(target, 3)
    assert close_code == code
    assert elapsed < 1.0, f"closed after {elapsed:.2f}s"
    assert [f["kind"] for f in frames if f["type"] == "notice"] == [notice]


async def test_crisis_alert_crosses_processes_and_the_writer_gets_support(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    await add_moderator(circle)
    moderator = await open_peer(one, await alogin(one.origin, "mo", PASSWORD), "mo")
    writer = await open_peer(two, await alogin(two.origin, "bo", PASSWORD), "bo")
    sent = time.monotonic()
    ack = await writer.send_message("I want to kill myself, I cannot go on")
    alert = await moderator.receive_until("flag", timeout=3)
    assert time.monotonic() - sent < 1.0
    assert alert["flag"]["message"]["id"] == ack["id"]
    assert alert["flag"]["tier"] in ("high", "imminent")
    support = await writer.receive_until("support", timeout=3)
    assert support["resources"] and support["message_id"] == ack["id"]
