"""Several real daphne processes on one PostgreSQL and one Redis, driven by websocket
clients that log in through the login form, as browsers would."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.livechat import (
    PASSWORD,
    Circle,
    DaphneProcess,
    OpenPeer,
    Peer,
    StartDaphne,
    TcpProxy,
    alogin,
    names,
    open_socket,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(60),
]


@database_sync_to_async
def stored_messages(room_id: int) -> list[tuple[str, str, int]]:
    """Return (client_id, body, seq) of every stored message in the room, by seq."""
    from django.db import connection

    from chat.models import Message

    try:
        return [
            (str(client_id), body, seq)
            for client_id, body, seq in Message.objects.filter(room_id=room_id)
            .order_by("seq")
            .values_list("client_id", "body", "seq")
        ]
    finally:
        # This worker thread's connection would otherwise outlive the test (with
        # DB_CONN_MAX_AGE set) and keep pytest-django from dropping the test database.
        connection.close()


async def test_messages_and_presence_cross_between_processes(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    ada_session, bo_session = await asyncio.gather(
        alogin(one.origin, "ada", PASSWORD), alogin(two.origin, "bo", PASSWORD)
    )
    ada = await open_peer(one, ada_session, "ada")
    bo = await open_peer(two, bo_session, "bo")

    assert bo.hello is not None
    assert sorted(names(bo.hello["members"])) == ["Ada", "Bo"]
    await ada.receive_until("presence", where=lambda f: "Bo" in names(f["members"]))

    ack = await ada.send_message("Hello from process one")
    seen = await bo.receive_until("message", where=lambda f: f["client_id"] == ack["client_id"])
    assert (seen["id"], seen["seq"]) == (ack["id"], ack["seq"])
    assert seen["author"] == {"id": circle.ada.id, "name": "Ada"}
    assert seen["body"] == "Hello from process one"

    ack = await bo.send_message("And back from process two")
    seen = await ada.receive_until("message", where=lambda f: f["client_id"] == ack["client_id"])
    assert (seen["id"], seen["seq"]) == (ack["id"], ack["seq"])
    assert seen["author"] == {"id": circle.bo.id, "name": "Bo"}
    assert seen["body"] == "And back from process two"


async def test_resume_after_a_dropped_connection_returns_exactly_the_missed_messages(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    ada_session, bo_session = await asyncio.gather(
        alogin(one.origin, "ada", PASSWORD), alogin(two.origin, "bo", PASSWORD)
    )
    ada = await open_peer(one, ada_session, "ada")
    bo = await open_peer(two, bo_session, "bo")
    for body in ["first", "second"]:
        ack = await ada.send_message(body)
        await bo.receive_until("message", where=lambda f, ack=ack: f["id"] == ack["id"])
    seen = bo.seqs[-1]

    await bo.drop()
    await ada.receive_until("presence", where=lambda f: "Bo" not in names(f["members"]))
    missed = [await ada.send_message(f"missed {n}") for n in range(1, 6)]
    assert [a["seq"] for a in missed] == list(range(seen + 1, seen + 6))

    bo = await open_peer(one, bo_session, "bo again")
    assert bo.hello is not None and bo.hello["last_seq"] == seen + 5
    await bo.send({"type": "resume", "after_seq": seen})
    frames = await bo.collect_until("resumed")
    replayed = [f for f in frames if f["type"] == "message"]
    assert [(m["seq"], m["id"], m["body"]) for m in replayed] == [
        (a["seq"], a["id"], f"missed {n}") for n, a in enumerate(missed, start=1)
    ]
    assert frames[-1]["last_seq"] == seen + 5
    assert not [f for f in await bo.barrier() if f["type"] == "message"]


async def test_retried_client_id_stores_one_message(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    ada_session, bo_session = await asyncio.gather(
        alogin(one.origin, "ada", PASSWORD), alogin(two.origin, "bo", PASSWORD)
    )
    ada = await open_peer(one, ada_session, "ada")
    bo = await open_peer(two, bo_session, "bo")
    client_id = str(uuid.uuid4())
    frame = {"type": "message.send", "client_id": client_id, "body": "Only once, please"}

    # The same frame twice in a row, as a client that retries too eagerly sends it.
    await ada.send(frame)
    await ada.send(frame)
    first = await ada.receive_until("ack", where=lambda f: f["client_id"] == client_id)
    second = await ada.receive_until("ack", where=lambda f: f["client_id"] == client_id)
    assert (second["id"], second["seq"]) == (first["id"], first["seq"])

    # Once more after a reconnect, to the other process.
    await ada.drop()
    ada = await open_peer(two, ada_session, "ada again")
    await ada.send(frame)
    third = await ada.receive_until("ack", where=lambda f: f["client_id"] == client_id)
    assert (third["id"], third["seq"]) == (first["id"], first["seq"])

    # And a new frame sent at the same moment from two sockets on two processes.
    raced_id = str(uuid.uuid4())
    raced = {"type": "message.send", "client_id": raced_id, "body": "Sent from two tabs"}
    ada_elsewhere = await open_peer(one, ada_session, "ada elsewhere")
    await asyncio.gather(ada.send(raced), ada_elsewhere.send(raced))
    acks = await asyncio.gather(
        ada.receive_until("ack", where=lambda f: f["client_id"] == raced_id),
        ada_elsewhere.receive_until("ack", where=lambda f: f["client_id"] == raced_id),
    )
    assert acks[0]["id"] == acks[1]["id"]

    last = await ada.send_message("A new message")
    await bo.receive_until("message", where=lambda f: f["id"] == last["id"])
    shown = Counter(f["client_id"] for f in bo.frames if f["type"] == "message")
    assert shown == {client_id: 1, raced_id: 1, last["client_id"]: 1}
    assert await stored_messages(circle.room_id) == [
        (client_id, "Only once, please", 1),
        (raced_id, "Sent from two tabs", 2),
        (last["client_id"], "A new message", 3),
    ]


async def test_socket_from_a_foreign_origin_is_refused(
    start_daphne: StartDaphne, circle: Circle
) -> None:
    (server,) = start_daphne(1)
    session = await alogin(server.origin, "ada", PASSWORD)
    for origin in ["http://evil.example", "http://127.0.0.1.evil.example", "null"]:
        with pytest.raises(InvalidStatus) as refused:
            ws = await open_socket(server, circle.slug, session, origin=origin)
            await ws.close()
        assert refused.value.response.status_code == 403, origin

    ws = await open_socket(server, circle.slug, session, origin=server.origin)
    try:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
    finally:
        await ws.close()
    assert (hello["type"], hello["you"]["name"]) == ("hello", "Ada")

    # The right origin without a login gets in no further than the close code.
    ws = await open_socket(server, circle.slug, None, origin=server.origin)
    try:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    finally:
        await ws.close()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_conversation_across_processes_survives_a_drop_without_gap_or_duplicate(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    ada_session, bo_session = await asyncio.gather(
        alogin(one.origin, "ada", PASSWORD), alogin(two.origin, "bo", PASSWORD)
    )
    peers = {
        "ada": await open_peer(one, ada_session, "ada"),
        "bo": await open_peer(two, bo_session, "bo"),
    }
    # Turns alternate; Bo's connection dies as line 9 goes out, and Ada talks on alone
    # until Bo is back (on the same process) and has resumed.
    script = ["ada", "bo"] * 4 + ["ada"] * 3 + ["bo", "ada"] * 3 + ["bo"] * 3
    bo_drops_at, total = 9, len(script)
    dropped: Peer | None = None

    for line, speaker in enumerate(script, start=1):
        if speaker == "bo" and peers["bo"] is dropped:
            bo = peers["bo"] = await open_peer(two, bo_session, "bo again")
            await bo.send({"type": "resume", "after_seq": dropped.seqs[-1]})
            await bo.receive_until("resumed")
        ack = await peers[speaker].send_message(f"line {line} by {speaker}")
        assert ack["seq"] == line
        if line == bo_drops_at:
            dropped = peers["bo"]
            await dropped.drop()
        for peer in peers.values():
            if peer is not dropped:
                await peer.receive_until("message", where=lambda f, ack=ack: f["id"] == ack["id"])

    await asyncio.gather(*(peer.barrier() for peer in peers.values()))
    assert dropped is not None and dropped.seqs == list(range(1, bo_drops_at))
    assert peers["ada"].seqs == list(range(1, total + 1))
    assert dropped.seqs + peers["bo"].seqs == list(range(1, total + 1))
    stored = await stored_messages(circle.room_id)
    assert [seq for _, _, seq in stored] == list(range(1, total + 1))


async def test_database_outage_answers_unavailable_and_the_retry_stores_one_message(
    start_daphne: StartDaphne,
    db_proxy: TcpProxy,
    proxied_database_url: str,
    circle: Circle,
    open_peer: OpenPeer,
) -> None:
    (server,) = start_daphne(1, database_url=proxied_database_url)
    session = await alogin(server.origin, "ada", PASSWORD)
    ada = await open_peer(server, session, "ada")
    client_id = str(uuid.uuid4())
    frame = {"type": "message.send", "client_id": client_id, "body": "Is anyone there?"}

    await asyncio.to_thread(db_proxy.cut)
    await ada.send(frame)
    frames = await ada.collect_until(("ack", "error"), timeout=15)
    assert frames[-1]["type"] == "error", frames
    assert frames[-1]["code"] == "unavailable"
    assert frames[-1]["ref"] == client_id
    # The socket stays open and answers while the database is away.
    frames = await ada.barrier()
    assert not [f for f in frames if f["type"] in ("ack", "message")]
    assert await stored_messages(circle.room_id) == []

    await asyncio.to_thread(db_proxy.restore)
    await ada.send(frame)
    ack = await ada.receive_until("ack", where=lambda f: f["client_id"] == client_id, timeout=15)
    shown = await ada.receive_until("message", where=lambda f: f["client_id"] == client_id)
    assert (shown["id"], shown["seq"]) == (ack["id"], 1)
    assert await stored_messages(circle.room_id) == [(client_id, "Is anyone there?", 1)]


async def test_raised_hands_and_presence_are_shared_between_processes(
    daphne_pair: list[DaphneProcess], circle: Circle, open_peer: OpenPeer
) -> None:
    one, two = daphne_pair
    ada_session, bo_session = await asyncio.gather(
        alogin(one.origin, "ada", PASSWORD), alogin(two.origin, "bo", PASSWORD)
    )
    ada = await open_peer(one, ada_session, "ada")
    bo = await open_peer(two, bo_session, "bo")

    def queue_is(*people: str):
        return lambda frame: names(frame["queue"]) == list(people)

    await ada.send({"type": "hand.raise"})
    await bo.receive_until("hands", where=queue_is("Ada"))
    await bo.send({"type": "hand.raise"})
    await ada.receive_until("hands", where=queue_is("Ada", "Bo"))

    # A socket that opens later, on the other process, is told the same queue.
    late = await open_peer(one, bo_session, "bo elsewhere")
    assert late.hello is not None
    assert names(late.hello["hands"]) == ["Ada", "Bo"]
    assert sorted(names(late.hello["members"])) == ["Ada", "Bo"]
    await late.close()

    # Ada leaves process one: process two sees her hand go down and her leave.
    await ada.close()
    await bo.receive_until("hands", where=queue_is("Bo"))
    await bo.receive_until("presence", where=lambda f: names(f["members"]) == ["Bo"])
