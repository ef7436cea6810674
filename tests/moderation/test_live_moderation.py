"""Moderators in control, over websockets: authorization, crisis response, policies,
sanctions, held messages, reports, the norms ladder and escalation."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import events
from chat.models import Membership, Message, Room, Session
from moderation.escalation import escalate_due
from moderation.models import Flag, ModerationAction, Sanction
from tests.chat.helpers import connect
from tests.factories import make_member, make_room, make_supervisor
from tests.moderation.samples import CRISIS, IMMINENT

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def audit_count() -> int:
    return await db(ModerationAction.objects.count)()


# --- the authorization matrix ----------------------------------------------------------


async def _frames(room, target, message):
    return {
        "mod.warn": {"user": target.pk, "reason": "be kind"},
        "mod.mute": {"user": target.pk, "minutes": 5, "reason": "cool down"},
        "mod.unmute": {"user": target.pk},
        "mod.kick": {"user": target.pk, "reason": "break"},
        "mod.ban": {"user": target.pk, "minutes": 60, "reason": "harassment"},
        "mod.unban": {"user": target.pk},
        "mod.hide": {"message_id": message.pk},
        "mod.release": {"message_id": message.pk},
        "mod.slow": {"seconds": 30},
        "mod.lock": {},
        "mod.unlock": {},
        "mod.pin": {"message_id": message.pk},
        "mod.unpin": {},
        "mod.session.start": {"mode": "hybrid", "in_person_count": 3},
        "mod.session.end": {},
        "mod.hand.next": {},
    }


def _prepare(room, kind, target):
    """Make the state in which the action can succeed; return the message to act on."""
    if kind == "mod.release":
        return Message.objects.create(
            room=room, author=target, body="held one", status=Message.Status.HELD
        )
    room.last_seq += 1
    room.save()
    message = Message.objects.create(room=room, author=target, body="visible", seq=room.last_seq)
    if kind == "mod.session.end":
        Session.objects.create(room=room)
    return message


MOD_KINDS = [
    "mod.warn",
    "mod.mute",
    "mod.unmute",
    "mod.kick",
    "mod.ban",
    "mod.unban",
    "mod.hide",
    "mod.release",
    "mod.slow",
    "mod.lock",
    "mod.unlock",
    "mod.pin",
    "mod.unpin",
    "mod.session.start",
    "mod.session.end",
    "mod.hand.next",
]


@pytest.mark.parametrize("kind", MOD_KINDS)
@pytest.mark.parametrize("who", ["peer", "moderator_elsewhere", "room_moderator", "supervisor"])
async def test_only_room_moderators_and_supervisors_may_moderate(room, peer, kind, who):
    target = await db(make_member)(room, "target")
    if who == "peer":
        actor = peer
    elif who == "moderator_elsewhere":
        elsewhere = await db(make_room)("elsewhere")
        actor = await db(make_member)(elsewhere, "modelse", role=Membership.Role.MODERATOR)
        await db(Membership.objects.create)(room=room, user=actor, norms_version_accepted=1)
    elif who == "room_moderator":
        actor = await db(make_member)(room, "roommod", role=Membership.Role.MODERATOR)
    else:
        actor = await db(make_supervisor)()
    message = await db(_prepare)(room, kind, target)
    frames = await _frames(room, target, message)
    client, _ = await connect(actor, "circle")
    before = await audit_count()
    await client.send({"type": kind, **frames[kind]})
    await client.send({"type": "ping"})
    reply = await client.next_of("error", "pong")
    allowed = who in ("room_moderator", "supervisor")
    if allowed:
        assert reply["type"] == "pong", reply
        assert await audit_count() == before + 1
    else:
        assert reply["type"] == "error" and reply["code"] == "forbidden"
        assert await audit_count() == before
    await client.close()


@pytest.mark.parametrize("kind", ["flag.ack", "flag.resolve"])
@pytest.mark.parametrize("who", ["peer", "room_moderator", "supervisor"])
async def test_only_moderators_may_handle_flags(room, peer, mod, kind, who):
    message = await db(Message.objects.create)(room=room, author=peer, body="x", seq=1)
    flag = await db(Flag.objects.create)(room=room, message=message, author=peer, kind="crisis")
    actor = {"peer": peer, "room_moderator": mod}.get(who) or await db(make_supervisor)()
    client, _ = await connect(actor, "circle")
    extra = {"outcome": "resolved", "note": "talked it through"} if kind == "flag.resolve" else {}
    before = await audit_count()
    await client.send({"type": kind, "flag_id": flag.pk, **extra})
    if who == "peer":
        assert (await client.next_of("error", "flag.status"))["code"] == "forbidden"
        assert await audit_count() == before
    else:
        status = await client.next_of("error", "flag.status")
        assert status["type"] == "flag.status" and status["flag_id"] == flag.pk
        assert await audit_count() == before + 1
    await client.close()


# --- crisis response -----------------------------------------------------------------


async def test_crisis_message_flags_alerts_moderators_and_supports_the_writer(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say("hi all, rough week")
    ack = await writer.say(CRISIS)
    assert ack["type"] == "ack" and ack["status"] == "visible"
    support = await writer.next_of("support")
    assert support["tier"] in ("high", "imminent")
    assert any(r["phone"] == "116 123" or r["phone"] == "112" for r in support["resources"])
    alert = await moderator.next_of("flag")
    flag = alert["flag"]
    assert flag["kind"] == "crisis" and flag["tier"] in ("high", "imminent")
    assert "suicide" in flag["categories"]
    assert flag["message"]["id"] == ack["id"] and flag["spans"]
    assert [m["body"] for m in flag["context"]] == ["hi all, rough week"]
    stored = await db(Flag.objects.get)(message_id=ack["id"])
    assert stored.status == "open"
    # The alert goes out before the room's copy of the message...
    seen = [f["body"] for f in moderator.frames if f["type"] == "message"]
    assert seen == ["hi all, rough week"]
    # ...and the room still sees it: peers must be able to talk about suicide.
    assert (await moderator.next_of("message"))["body"] == CRISIS
    await moderator.close()
    await writer.close()


async def test_imminent_goes_to_oncall_at_once_with_112_first(room, peer, mod):
    supervisor = await db(make_supervisor)()
    await db(Room.objects.filter(pk=room.pk).update)(country="DE")
    oncall, _ = await connect(supervisor, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(IMMINENT)
    support = await writer.next_of("support")
    assert support["tier"] == "imminent"
    assert support["resources"][0]["phone"] == "112"
    assert "0800 111 0 111" in [r["phone"] for r in support["resources"]]
    alert = await oncall.next_of("flag")
    assert alert["flag"]["tier"] == "imminent" and alert["flag"]["escalated"] is True
    await oncall.close()
    await writer.close()


async def test_unacknowledged_alert_escalates_to_oncall(room, peer, mod, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    supervisor = await db(make_supervisor)()
    oncall, _ = await connect(supervisor, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    # The supervisor is in the room too, as a moderator would be; skip that alert.
    first = await oncall.next_of("flag")
    assert first["flag"]["escalated"] is False
    assert await escalate_due() == 1
    escalated = await oncall.next_of("flag")
    assert escalated["flag"]["escalated"] is True
    assert await escalate_due() == 0
    flag = await db(Flag.objects.get)()
    assert flag.escalated_at is not None
    await oncall.close()
    await writer.close()


async def test_acknowledged_alert_does_not_escalate(room, peer, mod, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    alert = await moderator.next_of("flag")
    await moderator.send({"type": "flag.ack", "flag_id": alert["flag"]["id"]})
    status = await moderator.next_of("flag.status")
    assert status["status"] == "acknowledged" and status["by"]["name"] == "mod"
    assert await escalate_due() == 0
    await moderator.close()
    await writer.close()


async def test_a_burst_from_one_writer_makes_one_alert_that_grows(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say("I feel so hopeless, nothing matters")
    await writer.say(CRISIS)
    await writer.say(IMMINENT)
    first = await moderator.next_of("flag", "flag.update")
    second = await moderator.next_of("flag", "flag.update")
    third = await moderator.next_of("flag", "flag.update")
    assert first["type"] == "flag"
    assert second["type"] == third["type"] == "flag.update"
    assert first["flag"]["id"] == second["flag"]["id"] == third["flag"]["id"]
    assert third["flag"]["count"] == 3 and third["flag"]["tier"] == "imminent"
    await moderator.close()
    await writer.close()


# --- default policies: what the room, the writer and the moderator see -------------------


@pytest.mark.parametrize(
    ("body", "norm"),
    [
        ("text me on +44 7700 900123 anytime", "contact_info"),
        ("you are a pathetic idiot, nobody wants you here", "abuse"),
        ("look at this https://example.org/thing", "link"),
    ],
)
async def test_norm_breaking_messages_are_held_for_a_moderator(room, peer, other, mod, body, norm):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    reader, _ = await connect(other, "circle")
    ack = await writer.say(body)
    assert ack["status"] == "held" and "seq" not in ack
    held = await writer.next_of("held")
    assert held["norm"] == norm and held["message"]["status"] == "held"
    alert = await moderator.next_of("flag")
    assert alert["flag"]["kind"] == "norm" and norm in alert["flag"]["norms"]
    assert alert["flag"]["message"]["status"] == "held"
    await writer.send({"type": "ping"})
    await writer.next_of("pong")
    assert all(f["type"] != "message" for f in reader.frames)
    # The moderator releases it: the room sees it with the next seq.
    await moderator.send({"type": "mod.release", "message_id": ack["id"]})
    released = await reader.next_of("message")
    assert released["id"] == ack["id"] and released["seq"] == 1
    flag = await db(Flag.objects.get)(message_id=ack["id"])
    assert flag.status == "resolved"
    for client in (moderator, writer, reader):
        await client.close()


async def test_hidden_held_message_never_reaches_the_room(room, peer, other, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    reader, _ = await connect(other, "circle")
    ack = await writer.say("my insta is @julia_k_92 add me")
    assert ack["status"] == "held"
    await moderator.send({"type": "mod.hide", "message_id": ack["id"]})
    assert (await writer.next_of("message.hidden"))["id"] == ack["id"]
    await reader.send({"type": "resume", "after_seq": 0})
    assert (await reader.next_of("message", "resumed"))["type"] == "resumed"
    for client in (moderator, writer, reader):
        await client.close()


async def test_shouting_is_delivered_with_a_private_notice(room, peer, other):
    writer, _ = await connect(peer, "circle")
    reader, _ = await connect(other, "circle")
    ack = await writer.say("WHY DOES NOBODY EVER LISTEN TO WHAT I AM SAYING HERE")
    assert ack["status"] == "visible"
    notice = await writer.next_of("notice")
    assert notice["kind"] == "norm" and "capitals" in notice["text"]
    assert (await reader.next_of("message"))["id"] == ack["id"]
    await writer.close()
    await reader.close()


async def test_blocked_norm_stores_nothing_and_explains(room, peer):
    await db(Room.objects.filter(pk=room.pk).update)(policy={"norms": {"link": "block"}})
    writer, _ = await connect(peer, "circle")
    error = await writer.say("see www.example.org/x")
    assert error["code"] == "norm_blocked" and "Links" in error["detail"]
    assert await db(Message.objects.count)() == 0
    await writer.close()


async def test_links_are_fine_in_rooms_that_allow_them(room, peer):
    await db(Room.objects.filter(pk=room.pk).update)(policy={"allow_links": True})
    writer, _ = await connect(peer, "circle")
    assert (await writer.say("https://example.org/guide helped me"))["status"] == "visible"
    await writer.close()


async def test_moderators_are_never_held_by_automation(room, mod):
    moderator, _ = await connect(mod, "circle")
    ack = await moderator.say("Call the Samaritans on 116 123 or see https://samaritans.org")
    assert ack["status"] == "visible"
    assert await db(Sanction.objects.count)() == 0
    await moderator.close()


async def test_method_details_are_held(room, peer):
    writer, _ = await connect(peer, "circle")
    ack = await writer.say("how many pills of paracetamol would it take to die")
    assert ack["status"] == "held"
    await writer.close()


async def test_norms_ladder_mutes_after_three_breaks(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    for number in ("+44 7700 900123", "+44 7700 900456", "+44 7700 900789"):
        assert (await writer.say(f"call me {number}"))["status"] == "held"
    notice = await writer.next_of("notice")
    while notice["kind"] != "mute":
        notice = await writer.next_of("notice")
    assert notice["until"]
    assert (await moderator.next_of("moderation"))["action"] == "auto.mute"
    assert (await writer.say("sorry"))["code"] == "muted"
    await moderator.close()
    await writer.close()


# --- sanctions take effect on every socket -------------------------------------------------


async def test_mute_reaches_the_member_and_unmute_restores(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await moderator.send({"type": "mod.mute", "user": peer.pk, "minutes": 10, "reason": "pause"})
    notice = await writer.next_of("notice")
    assert notice["kind"] == "mute" and notice["until"] and "pause" in notice["text"]
    error = await writer.say("hello?")
    assert error["code"] == "muted" and error["until"]
    await moderator.send({"type": "mod.unmute", "user": peer.pk})
    assert (await writer.next_of("notice"))["kind"] == "unmute"
    assert (await writer.say("thanks"))["type"] == "ack"
    await moderator.close()
    await writer.close()


async def test_kick_closes_every_socket_of_the_member_and_they_may_rejoin(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    first, _ = await connect(peer, "circle")
    second, _ = await connect(peer, "circle")
    await moderator.send({"type": "mod.kick", "user": peer.pk, "reason": "take a pause"})
    for client in (first, second):
        assert (await client.next_of("notice"))["kind"] == "kick"
        assert (await client.next_of("__closed__"))["code"] == 4001
    again, hello = await connect(peer, "circle")
    assert hello["type"] == "hello"
    await again.close()
    await moderator.close()


async def test_a_crisis_message_does_not_wait_behind_ordinary_sends(room, peer, mod, settings):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    # Every ordinary database thread is busy (a queue of sends under load, say).
    busy = threading.Event()
    ordinary = events._database_executor(urgent=False)
    loop = asyncio.get_running_loop()
    blockers = [
        loop.run_in_executor(ordinary, busy.wait, 10)
        for _ in range(int(settings.PEERCHAT["DB_THREADS"]))
    ]
    try:
        ack = await writer.say(CRISIS)
        assert ack["type"] == "ack"
        alert = await moderator.next_of("flag")
        assert alert["flag"]["message"]["id"] == ack["id"]
        assert not any(b.done() for b in blockers)  # they were busy all along
    finally:
        busy.set()
        await asyncio.gather(*blockers)
    await moderator.close()
    await writer.close()


async def test_ban_closes_sockets_and_refuses_reconnect_until_unbanned(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await moderator.send({"type": "mod.ban", "user": peer.pk, "minutes": None, "reason": "abuse"})
    assert (await writer.next_of("notice"))["kind"] == "ban"
    assert (await writer.next_of("__closed__"))["code"] == 4403
    _refused, first = await connect(peer, "circle", expect_hello=False)
    assert first["code"] == "banned"
    await moderator.send({"type": "mod.unban", "user": peer.pk})
    while (await moderator.next_of("moderation"))["action"] != "member.unban":
        pass  # the ban's own announcement may still be queued
    back, hello = await connect(peer, "circle")
    assert hello["type"] == "hello"
    await back.close()
    await moderator.close()


async def test_moderators_cannot_sanction_each_other(room, mod):
    colleague = await db(make_member)(room, "colleague", role=Membership.Role.MODERATOR)
    moderator, _ = await connect(mod, "circle")
    await moderator.send({"type": "mod.mute", "user": colleague.pk, "minutes": 5})
    assert (await moderator.next_of("error"))["code"] == "forbidden"
    await moderator.close()


async def test_unknown_member_or_message_is_not_found(room, mod):
    moderator, _ = await connect(mod, "circle")
    await moderator.send({"type": "mod.mute", "user": 999999, "minutes": 5})
    assert (await moderator.next_of("error"))["code"] == "not_found"
    await moderator.send({"type": "mod.hide", "message_id": 999999})
    assert (await moderator.next_of("error"))["code"] == "not_found"
    await moderator.close()


# --- the room ------------------------------------------------------------------------


async def test_hide_removes_a_message_from_every_client(room, peer, other, mod):
    moderator, _ = await connect(mod, "circle")
    reader, _ = await connect(other, "circle")
    writer, _ = await connect(peer, "circle")
    ack = await writer.say("something regrettable")
    await moderator.send({"type": "mod.hide", "message_id": ack["id"], "reason": "off topic"})
    hidden = await reader.next_of("message.hidden")
    assert hidden == {"type": "message.hidden", "id": ack["id"], "seq": ack["seq"]}
    message = await db(Message.objects.get)(pk=ack["id"])
    assert message.status == "hidden" and message.body == "something regrettable"
    for client in (moderator, writer, reader):
        await client.close()


async def test_slow_lock_pin_and_sessions_change_the_room_state(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    ack = await writer.say("a message worth pinning")
    await moderator.send({"type": "mod.slow", "seconds": 20})
    assert (await writer.next_of("room.state"))["slow_mode_seconds"] == 20
    await moderator.send({"type": "mod.pin", "message_id": ack["id"]})
    assert (await writer.next_of("room.state"))["pinned"]["id"] == ack["id"]
    await moderator.send({"type": "mod.lock"})
    assert (await writer.next_of("room.state"))["locked"] is True
    assert (await writer.say("can I?"))["code"] == "locked"
    await moderator.send({"type": "mod.unlock"})
    assert (await writer.next_of("room.state"))["locked"] is False
    await moderator.send({"type": "mod.session.start", "mode": "hybrid", "in_person_count": 4})
    state = await writer.next_of("room.state")
    assert state["session"]["mode"] == "hybrid" and state["session"]["in_person_count"] == 4
    await moderator.send({"type": "mod.session.count", "in_person_count": 6})
    assert (await writer.next_of("room.state"))["session"]["in_person_count"] == 6
    await moderator.send({"type": "mod.session.end"})
    assert "session" not in (await writer.next_of("room.state"))
    actions = await db(list)(ModerationAction.objects.values_list("action", flat=True))
    assert {"room.slow", "room.pin", "room.lock", "session.start", "session.end"} <= set(actions)
    await moderator.close()
    await writer.close()


async def test_hand_next_calls_on_the_first_raised_hand(room, peer, other, mod):
    moderator, _ = await connect(mod, "circle")
    first, _ = await connect(peer, "circle")
    second, _ = await connect(other, "circle")
    await first.send({"type": "hand.raise"})
    await first.next_of("hands")
    await second.send({"type": "hand.raise"})
    await second.next_of("hands")
    await moderator.send({"type": "mod.hand.next"})
    hands = await moderator.next_of("hands")
    while "speaking" not in hands:
        hands = await moderator.next_of("hands")
    assert hands["speaking"]["name"] == "peer"
    assert [m["name"] for m in hands["queue"]] == ["other"]
    for client in (moderator, first, second):
        await client.close()


# --- reports -------------------------------------------------------------------------


async def test_report_reaches_moderators_without_the_reporters_name(room, peer, other, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    reporter, _ = await connect(other, "circle")
    ack = await writer.say("meet me after, I know where you live")
    await reporter.send(
        {"type": "report", "message_id": ack["id"], "reason": "feels like a threat"}
    )
    assert (await reporter.next_of("notice"))["kind"] == "report.received"
    alert = await moderator.next_of("flag")
    while alert["flag"]["kind"] != "report":
        alert = await moderator.next_of("flag")
    assert alert["flag"]["reason"] == "feels like a threat"
    assert "other" not in str(alert)
    await moderator.send(
        {"type": "flag.resolve", "flag_id": alert["flag"]["id"], "outcome": "resolved"}
    )
    outcome = await reporter.next_of("notice")
    assert outcome["kind"] == "report.outcome"
    # The reported writer is told nothing about the report, let alone who made it.
    assert not any(frame["type"] in ("flag", "notice") for frame in writer.frames)
    for client in (moderator, writer, reporter):
        await client.close()


async def test_reporting_a_missing_message_is_not_found(room, peer):
    client, _ = await connect(peer, "circle")
    await client.send({"type": "report", "message_id": 424242, "reason": "?"})
    assert (await client.next_of("error"))["code"] == "not_found"
    await client.close()


async def test_flag_resolve_dismissed_counts_as_false_alarm(room, peer, mod):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    alert = await moderator.next_of("flag")
    await moderator.send(
        {
            "type": "flag.resolve",
            "flag_id": alert["flag"]["id"],
            "outcome": "dismissed",
            "note": "song lyrics",
        }
    )
    assert (await moderator.next_of("flag.status"))["status"] == "dismissed"
    flag = await db(Flag.objects.get)(pk=alert["flag"]["id"])
    assert flag.note == "song lyrics" and flag.resolved_at <= timezone.now()
    await moderator.close()
    await writer.close()
