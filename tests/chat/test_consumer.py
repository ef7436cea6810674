"""The room websocket, frame by frame, with WebsocketCommunicator."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from chat.models import Membership, Message, Room, Session
from moderation.engine import default_engine
from moderation.models import Sanction
from tests.chat.helpers import Client, connect
from tests.factories import make_member, make_supervisor, make_user

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def alice(room):
    return make_member(room, "alice")


@pytest.fixture
def bob(room):
    return make_member(room, "bob")


async def test_hello_tells_room_you_norms_members_and_recent_messages(room, alice):
    await db(Message.objects.create)(room=room, author=alice, body="earlier", seq=1)
    await db(Room.objects.filter(pk=room.pk).update)(last_seq=1)
    client, hello = await connect(alice, "circle")
    assert hello["room"]["slug"] == "circle"
    assert hello["you"] == {"id": alice.pk, "name": "alice", "role": "peer"}
    assert hello["norms"] == {"version": 1, "text": "Be kind.", "accepted": True}
    assert [m["name"] for m in hello["members"]] == ["alice"]
    assert [m["body"] for m in hello["messages"]] == ["earlier"]
    assert hello["last_seq"] == 1
    await client.close()


@pytest.mark.parametrize("who", ["stranger", "anonymous", "missing_room"])
async def test_non_members_and_missing_rooms_get_the_same_refusal(room, who):
    user = AnonymousUser() if who == "anonymous" else await db(make_user)("stranger")
    slug = "nowhere" if who == "missing_room" else "circle"
    _client, first = await connect(user, slug, expect_hello=False)
    assert first == {"type": "__closed__", "code": 4403}


async def test_message_reaches_everyone_and_the_sender_gets_an_ack(room, alice, bob):
    a, _ = await connect(alice, "circle")
    b, _ = await connect(bob, "circle")
    client_id = str(uuid.uuid4())
    ack = await a.say("hello circle", client_id)
    assert ack["type"] == "ack" and ack["client_id"] == client_id and ack["seq"] == 1
    for client in (a, b):
        message = await client.next_of("message")
        assert message["body"] == "hello circle"
        assert message["author"] == {"id": alice.pk, "name": "alice"}
        assert message["seq"] == 1 and message["id"] == ack["id"]
    await a.close()
    await b.close()


async def test_the_engine_reads_each_message_once(room, alice, monkeypatch):
    """The event loop reads a message to choose its lane; the database thread reuses that
    reading instead of analysing the text again (in the room's language)."""
    await db(Room.objects.filter(pk=room.pk).update)(language="de")
    engine = default_engine()
    analysed: list[tuple[str, str | None]] = []
    analyse = engine._analyse

    def counting(text, lang):
        analysed.append((text, lang))
        return analyse(text, lang)

    monkeypatch.setattr(engine, "_analyse", counting)
    client, _ = await connect(alice, "circle")
    assert (await client.say("  guten Abend zusammen  "))["type"] == "ack"
    assert (await client.say("ich will nicht mehr leben"))["type"] == "ack"
    stored = await db(lambda: list(Message.objects.values_list("body", flat=True)))()
    assert sorted(stored) == ["guten Abend zusammen", "ich will nicht mehr leben"]
    # Once each; the crisis message's window then reads the earlier message once.
    assert analysed == [
        ("guten Abend zusammen", "de"),
        ("ich will nicht mehr leben", "de"),
        ("guten Abend zusammen", "de"),
    ]
    await client.close()


async def test_norms_must_be_accepted_before_posting(room):
    carol = await db(make_member)(room, "carol", accepted=False)
    client, hello = await connect(carol, "circle")
    assert hello["norms"]["accepted"] is False
    error = await client.say("hi")
    assert error["code"] == "norms_required"
    await client.send({"type": "norms.accept", "version": 7})
    assert (await client.next_of("error"))["code"] == "norms_outdated"
    await client.send({"type": "norms.accept", "version": 1})
    assert (await client.next_of("norms.accepted"))["version"] == 1
    assert (await client.say("hi"))["type"] == "ack"
    await client.close()


async def test_a_retried_client_id_gets_the_first_ack_and_stores_one_message(room, alice):
    client, _ = await connect(alice, "circle")
    client_id = str(uuid.uuid4())
    first = await client.say("once", client_id)
    again = await client.say("once", client_id)
    assert again == first
    assert await db(Message.objects.filter(client_id=client_id).count)() == 1
    other = await client.say("different", client_id)
    assert other["code"] == "duplicate_client_id" and other["ref"] == client_id
    await client.close()


@pytest.mark.parametrize(
    ("body", "code"),
    [("", "body_empty"), ("   \n ", "body_empty"), ("x" * 4001, "body_too_long")],
)
async def test_bodies_outside_the_limits_are_refused(room, alice, body, code):
    client, _ = await connect(alice, "circle")
    error = await client.say(body)
    assert error["type"] == "error" and error["code"] == code and error["ref"]
    await client.close()


async def test_body_is_trimmed_and_4000_characters_are_allowed(room, alice):
    client, _ = await connect(alice, "circle")
    assert (await client.say("  " + "y" * 4000 + "  "))["type"] == "ack"
    assert await db(Message.objects.values_list("body", flat=True).get)() == "y" * 4000
    await client.close()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        "{}",
        '{"type": "no.such.frame"}',
        '{"type": "message.send", "client_id": "not-a-uuid", "body": "x"}',
        json.dumps({"type": "message.send", "client_id": str(uuid.uuid4()), "body": 5}),
        '{"type": "norms.accept", "version": "1"}',
        '{"type": "history", "before_seq": 10, "limit": 1000}',
        '{"type": "resume", "after_seq": -1}',
        '{"type": "typing", "extra": true}',
        '{"type": "chat.frame", "text": "spoof"}',
    ],
)
async def test_malformed_frames_get_bad_frame_and_the_socket_stays_usable(room, alice, raw):
    client, _ = await connect(alice, "circle")
    await client.send(raw)
    error = await client.next_of("error")
    assert error["code"] == "bad_frame"
    assert "spoof" not in error["detail"]
    await client.send({"type": "ping"})
    assert (await client.next_of("pong"))["type"] == "pong"
    await client.close()


async def test_bad_frame_names_the_client_id_it_belongs_to(room, alice):
    client, _ = await connect(alice, "circle")
    client_id = str(uuid.uuid4())
    await client.send({"type": "message.send", "client_id": client_id, "body": ["x"]})
    error = await client.next_of("error")
    assert error["code"] == "bad_frame" and error["ref"] == client_id
    await client.close()


async def test_binary_frames_get_bad_frame(room, alice):
    client, _ = await connect(alice, "circle")
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await client.next_of("error"))["code"] == "bad_frame"
    await client.close()


async def test_frames_over_64_kib_get_too_large(room, alice):
    client, _ = await connect(alice, "circle")
    client_id = str(uuid.uuid4())
    await client.send({"type": "message.send", "client_id": client_id, "body": "é" * 40000})
    error = await client.next_of("error")
    assert error["code"] == "too_large"
    assert await db(Message.objects.count)() == 0
    await client.close()


async def test_resume_sends_exactly_the_missed_messages_then_resumed(room, alice, bob):
    a, _ = await connect(alice, "circle")
    for n in range(1, 6):
        assert (await a.say(f"m{n}"))["seq"] == n
    await a.delivered(5)
    b, hello = await connect(bob, "circle")
    assert hello["last_seq"] == 5
    await b.send({"type": "resume", "after_seq": 2})
    got = []
    while (frame := await b.next_of("message", "resumed"))["type"] == "message":
        got.append((frame["seq"], frame["body"]))
    assert got == [(3, "m3"), (4, "m4"), (5, "m5")]
    assert frame["last_seq"] == 5
    await a.close()
    await b.close()


async def test_resume_skips_hidden_and_held_messages(room, alice, bob):
    a, _ = await connect(alice, "circle")
    await a.say("kept")
    await a.say("hidden later")
    await a.delivered(2)
    await db(Message.objects.filter(body="hidden later").update)(status=Message.Status.HIDDEN)
    b, _ = await connect(bob, "circle")
    await b.send({"type": "resume", "after_seq": 0})
    bodies = []
    while (frame := await b.next_of("message", "resumed"))["type"] == "message":
        bodies.append(frame["body"])
    assert bodies == ["kept"]
    await a.close()
    await b.close()


async def test_history_pages_backwards(room, alice):
    client, _ = await connect(alice, "circle")
    for n in range(1, 8):
        await client.say(f"m{n}")
    await client.send({"type": "history", "before_seq": 6, "limit": 3})
    page = await client.next_of("history")
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5]
    assert page["has_more"] is True
    await client.send({"type": "history", "before_seq": 3, "limit": 3})
    page = await client.next_of("history")
    assert [m["seq"] for m in page["messages"]] == [1, 2]
    assert page["has_more"] is False
    await client.close()


async def test_typing_is_relayed_and_throttled(room, alice, bob):
    a, _ = await connect(alice, "circle")
    b, _ = await connect(bob, "circle")
    await a.send({"type": "typing"})
    assert (await b.next_of("typing"))["user"] == {"id": alice.pk, "name": "alice"}
    await a.send({"type": "typing"})
    await a.send({"type": "ping"})
    await a.next_of("pong")
    assert await b.nothing_more(0.3) or all(f["type"] != "typing" for f in b.frames[-3:])
    await a.close()
    await b.close()


async def test_presence_on_join_break_and_leave(room, alice, bob):
    a, _ = await connect(alice, "circle")
    b, _ = await connect(bob, "circle")
    presence = await a.next_of("presence")
    while len(presence["members"]) < 2:
        presence = await a.next_of("presence")
    assert {m["name"] for m in presence["members"]} == {"alice", "bob"}
    await b.send({"type": "break.start", "minutes": 10})
    presence = await a.next_of("presence")
    bob_entry = next(m for m in presence["members"] if m["name"] == "bob")
    assert bob_entry["state"] == "break" and bob_entry["until"]
    await b.close()
    presence = await a.next_of("presence")
    assert [m["name"] for m in presence["members"]] == ["alice"]
    await a.close()


async def test_raised_hands_queue_in_order(room, alice, bob):
    a, _ = await connect(alice, "circle")
    b, _ = await connect(bob, "circle")
    await b.send({"type": "hand.raise"})
    assert [m["name"] for m in (await a.next_of("hands"))["queue"]] == ["bob"]
    await a.send({"type": "hand.raise"})
    assert [m["name"] for m in (await a.next_of("hands"))["queue"]] == ["bob", "alice"]
    await b.send({"type": "hand.lower"})
    assert [m["name"] for m in (await a.next_of("hands"))["queue"]] == ["alice"]
    await a.close()
    await b.close()


async def test_sending_too_fast_is_rate_limited(room, alice, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "SEND_RATE": (1, 60.0), "SEND_BURST": 2}
    client, _ = await connect(alice, "circle")
    assert (await client.say("one"))["type"] == "ack"
    assert (await client.say("two"))["type"] == "ack"
    error = await client.say("three")
    assert error["code"] == "rate_limited" and error["retry_after"] > 0
    await client.close()


async def test_locked_room_refuses_peers_but_not_moderators(room, alice):
    moderator = await db(make_member)(room, "mod", role=Membership.Role.MODERATOR)
    await db(Room.objects.filter(pk=room.pk).update)(locked=True)
    peer, _ = await connect(alice, "circle")
    assert (await peer.say("hi"))["code"] == "locked"
    mod, _ = await connect(moderator, "circle")
    assert (await mod.say("we are paused"))["type"] == "ack"
    await peer.close()
    await mod.close()


async def test_slow_mode_says_when_to_try_again(room, alice):
    await db(Room.objects.filter(pk=room.pk).update)(slow_mode_seconds=30)
    client, _ = await connect(alice, "circle")
    assert (await client.say("first"))["type"] == "ack"
    error = await client.say("second")
    assert error["code"] == "slow_mode" and 25 < error["retry_after"] <= 30
    await client.close()


async def test_muted_member_cannot_post_and_sees_until_when(room, alice):
    until = timezone.now() + timedelta(minutes=5)
    await db(Sanction.objects.create)(
        room=room, user=alice, kind=Sanction.Kind.MUTE, until=until, reason="cool down"
    )
    client, hello = await connect(alice, "circle")
    assert hello["you"]["muted_until"]
    error = await client.say("hi")
    assert error["code"] == "muted" and "cool down" in error["detail"] and error["until"]
    await client.close()


async def test_expired_mute_no_longer_applies(room, alice):
    await db(Sanction.objects.create)(
        room=room, user=alice, kind=Sanction.Kind.MUTE, until=timezone.now() - timedelta(seconds=1)
    )
    client, _ = await connect(alice, "circle")
    assert (await client.say("free again"))["type"] == "ack"
    await client.close()


async def test_banned_member_is_refused_with_banned(room, alice):
    await db(Sanction.objects.create)(room=room, user=alice, kind=Sanction.Kind.BAN)
    client, first = await connect(alice, "circle", expect_hello=False)
    assert first["type"] == "error" and first["code"] == "banned"
    assert (await client.receive())["code"] == 4403


async def test_scheduled_room_accepts_messages_only_in_an_open_session(alice, room):
    await db(Room.objects.filter(pk=room.pk).update)(kind=Room.Kind.SCHEDULED)
    client, hello = await connect(alice, "circle")
    assert hello["room"].get("session") is None
    assert (await client.say("anyone?"))["code"] == "room_closed"
    await db(Session.objects.create)(room=room)
    assert (await client.say("now?"))["type"] == "ack"
    await client.close()


async def test_drop_in_room_opens_a_session_on_the_first_message(room, alice):
    client, _ = await connect(alice, "circle")
    await client.say("first")
    session = await db(Session.objects.get)(room=room)
    assert session.closed_at is None
    assert await db(Message.objects.filter(session=session).count)() == 1
    await client.close()


async def test_supervisor_enters_any_room_as_supervisor(room):
    supervisor = await db(make_supervisor)()
    client, hello = await connect(supervisor, "circle")
    assert hello["you"]["role"] == "supervisor"
    assert hello["norms"]["accepted"] is True
    await client.close()


async def test_too_many_sockets_of_one_user_are_refused(room, alice, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "MAX_SOCKETS_PER_ROOM": 2}
    clients: list[Client] = []
    for _ in range(2):
        client, _ = await connect(alice, "circle")
        clients.append(client)
    extra, first = await connect(alice, "circle", expect_hello=False)
    assert first["code"] == "too_many_connections"
    assert (await extra.receive())["code"] == 4429
    for client in clients:
        await client.close()


async def test_database_errors_become_unavailable_and_the_socket_recovers(room, alice, monkeypatch):
    from django.db import OperationalError

    from chat import actions

    real = actions.check_send_message

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(actions, "check_send_message", broken)
    client, _ = await connect(alice, "circle")
    client_id = str(uuid.uuid4())
    error = await client.say("are you there", client_id)
    assert error["code"] == "unavailable" and error["ref"] == client_id
    monkeypatch.setattr(actions, "check_send_message", real)
    assert (await client.say("are you there", client_id))["type"] == "ack"
    await client.close()


async def test_messages_are_stored_as_raw_text(room, alice):
    client, _ = await connect(alice, "circle")
    payload = "<script>alert(1)</script> & <b>bold</b>"
    await client.say(payload)
    message = await client.next_of("message")
    assert message["body"] == payload
    assert await db(Message.objects.values_list("body", flat=True).get)() == payload
    assert json.loads(json.dumps(message))["body"] == payload
    await client.close()


async def test_errors_come_in_the_members_language(room):
    from django.utils import translation

    hans = await db(make_member)(room, "hans", accepted=False)
    hans.language = "de"
    await db(hans.save)()
    client, _ = await connect(hans, "circle")
    error = await client.say("hallo")
    english = "Read and accept the room's norms before you post."
    with translation.override("de"):
        german = translation.gettext(english)
    assert german != english, "no German translation for this error"
    assert error["code"] == "norms_required" and error["detail"] == german
    await client.close()
