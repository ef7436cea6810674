"""The on-call socket: supervisors receive escalated crisis alerts from every room
without being in one, get the open ones when they connect, and can act on them."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from moderation.escalation import escalate_due
from moderation.models import Flag, ModerationAction
from moderation.oncall import supervisors_on_call
from tests.chat.helpers import connect, open_socket
from tests.factories import make_member, make_room, make_supervisor
from tests.moderation.samples import CRISIS, IMMINENT

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

ONCALL = "/ws/oncall/"


@pytest.fixture
def supervisor(room):
    return make_supervisor()


async def on_call(user):
    client, first = await open_socket(user, ONCALL)
    assert first["type"] == "oncall", first
    return client, first


async def test_imminent_alert_reaches_a_supervisor_in_no_room(room, peer, mod, supervisor):
    oncall, first = await on_call(supervisor)
    assert first["flags"] == []
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(IMMINENT)
    alert = await oncall.next_of("flag")
    assert alert["flag"]["tier"] == "imminent"
    assert alert["flag"]["escalated"] is True
    assert alert["flag"]["room"] == "circle"
    assert alert["flag"]["author"]["name"] == peer.display_name
    assert alert["flag"]["message"]["body"] == IMMINENT

    # "I am on it" from the on-call page: the room's moderators see who took it.
    await oncall.send({"type": "flag.ack", "flag_id": alert["flag"]["id"]})
    status = await oncall.next_of("flag.status")
    assert status["status"] == "acknowledged"
    assert status["by"]["name"] == supervisor.display_name
    seen_by_mod = await moderator.next_of("flag.status")
    assert seen_by_mod["flag_id"] == alert["flag"]["id"]
    flag = await db(Flag.objects.get)(pk=alert["flag"]["id"])
    assert flag.status == Flag.Status.ACKNOWLEDGED
    assert flag.acknowledged_by_id == supervisor.pk
    actions = await db(lambda: list(ModerationAction.objects.values_list("action", "actor_id")))()
    assert ("flag.ack", supervisor.pk) in actions
    for client in (oncall, moderator, writer):
        await client.close()


async def test_an_alert_nobody_acknowledged_escalates_to_the_on_call_page(
    room, peer, supervisor, settings
):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    oncall, _ = await on_call(supervisor)
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    # A high alert goes to the room's moderators first; on call hears nothing yet.
    assert await oncall.nothing_more(0.3)
    assert await escalate_due() == 1
    escalated = await oncall.next_of("flag")
    assert escalated["flag"]["tier"] == "high"
    assert escalated["flag"]["escalated"] is True
    await oncall.close()
    await writer.close()


async def test_connecting_lists_open_escalated_alerts_highest_tier_first(
    room, peer, supervisor, settings
):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    other_room = await db(make_room)("evening")
    other = await db(make_member)(other_room, "other")
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    await escalate_due()  # high, escalated for want of an acknowledgement
    second, _ = await connect(other, "evening")
    await second.say(IMMINENT)  # imminent, escalated at once
    await second.next_of("support")
    third = await db(make_member)(room, "third")
    quiet, _ = await connect(third, "circle")
    await quiet.say(CRISIS)  # high, not escalated yet: not on call
    await quiet.next_of("support")
    closed = await db(make_member)(room, "closed")
    done, _ = await connect(closed, "circle")
    await done.say(IMMINENT)
    await done.next_of("support")
    last = await db(Flag.objects.filter(author=closed).get)()
    await db(Flag.objects.filter(pk=last.pk).update)(
        status=Flag.Status.RESOLVED, resolved_at=timezone.now()
    )

    oncall, first = await on_call(supervisor)
    listed = [(f["room"], f["tier"], f["author"]["name"]) for f in first["flags"]]
    assert listed == [
        ("evening", "imminent", other.display_name),
        ("circle", "high", peer.display_name),
    ]
    assert all(f["escalated"] and f["status"] == "open" for f in first["flags"])
    for client in (oncall, writer, second, quiet, done):
        await client.close()


async def test_resolving_from_on_call_closes_the_alert(room, peer, mod, supervisor):
    oncall, _ = await on_call(supervisor)
    writer, _ = await connect(peer, "circle")
    await writer.say(IMMINENT)
    alert = (await oncall.next_of("flag"))["flag"]
    await oncall.send(
        {"type": "flag.resolve", "flag_id": alert["id"], "outcome": "resolved", "note": "called"}
    )
    status = await oncall.next_of("flag.status")
    assert status["status"] == "resolved"
    flag = await db(Flag.objects.get)(pk=alert["id"])
    assert flag.status == Flag.Status.RESOLVED and flag.note == "called"
    await oncall.close()
    reopened, first = await on_call(supervisor)
    assert first["flags"] == []
    await reopened.close()
    await writer.close()


@pytest.mark.parametrize("who", ["peer", "moderator", "anonymous"])
async def test_only_supervisors_may_be_on_call(room, peer, mod, who):
    user = {"peer": peer, "moderator": mod, "anonymous": AnonymousUser()}[who]
    _client, first = await open_socket(user, ONCALL)
    assert first == {"type": "__closed__", "code": 4403}


async def test_bad_frames_get_a_clear_error(room, peer, supervisor):
    oncall, _ = await on_call(supervisor)
    await oncall.send("not json")
    assert (await oncall.next_of("error"))["code"] == "bad_frame"
    await oncall.send({"type": "message.send", "client_id": str(uuid.uuid4()), "body": "hello"})
    refused = await oncall.next_of("error")
    assert refused["code"] == "forbidden"
    assert "on-call" in refused["detail"]
    await oncall.send({"type": "flag.ack", "flag_id": 999999})
    assert (await oncall.next_of("error"))["code"] == "not_found"
    await oncall.send({"type": "ping"})
    assert (await oncall.next_of("pong"))["type"] == "pong"
    await oncall.close()


@pytest.fixture
def fresh_warnings(monkeypatch):
    from moderation import escalation

    monkeypatch.setattr(escalation, "_unattended", escalation._Unattended())
    return escalation


async def test_alerts_waiting_with_nobody_on_call_are_logged(
    room, peer, supervisor, settings, caplog, fresh_warnings
):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    assert await supervisors_on_call() == 0
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    assert await escalate_due() == 1
    with caplog.at_level("WARNING", logger="moderation.escalation"):
        assert await fresh_warnings.warn_if_unattended() == 1
        assert await fresh_warnings.warn_if_unattended() == 1  # not repeated at once
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "1 escalated crisis alert(s) wait and no supervisor is on call (/review/oncall/)"
    ]
    assert CRISIS not in caplog.text and peer.display_name not in caplog.text

    # A supervisor opens the on-call page: counted while it is open, not warned about.
    caplog.clear()
    oncall, first = await on_call(supervisor)
    assert len(first["flags"]) == 1
    assert await supervisors_on_call() == 1
    with caplog.at_level("WARNING", logger="moderation.escalation"):
        assert await fresh_warnings.warn_if_unattended() == 0
    assert not caplog.records
    await oncall.close()
    assert await supervisors_on_call() == 0
    await writer.close()


async def test_a_taken_alert_is_not_unattended(room, peer, mod, supervisor, fresh_warnings):
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(IMMINENT)  # escalated at once
    alert = (await moderator.next_of("flag"))["flag"]
    assert await fresh_warnings.warn_if_unattended() == 1
    await moderator.send({"type": "flag.ack", "flag_id": alert["id"]})
    await moderator.next_of("flag.status")
    assert await fresh_warnings.warn_if_unattended() == 0
    await moderator.close()
    await writer.close()


async def test_a_cut_snapshot_keeps_the_most_urgent_and_says_how_many_are_left(
    room, peer, supervisor, settings, monkeypatch
):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    monkeypatch.setattr("moderation.oncall.SNAPSHOT_LIMIT", 1)
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)  # high, the older one
    assert await escalate_due() == 1
    other = await db(make_member)(room, "other")
    second, _ = await connect(other, "circle")
    await second.say(IMMINENT)  # imminent, newer
    await second.next_of("support")
    oncall, first = await on_call(supervisor)
    assert [f["tier"] for f in first["flags"]] == ["imminent"]
    assert first["more"] == 1
    for client in (oncall, writer, second):
        await client.close()


async def test_a_database_outage_is_an_error_frame_not_a_closed_socket(
    room, peer, supervisor, monkeypatch
):
    from django.db import OperationalError

    oncall, _ = await on_call(supervisor)

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("moderation.oncall.act_on_call", down)
    await oncall.send({"type": "flag.ack", "flag_id": 1})
    error = await oncall.next_of("error")
    assert error["code"] == "unavailable"
    await oncall.send({"type": "ping"})
    assert (await oncall.next_of("pong"))["type"] == "pong"
    await oncall.close()


async def test_the_rooms_moderators_see_their_alert_escalated(room, peer, mod, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "ESCALATE_AFTER_SECONDS": 0}
    moderator, _ = await connect(mod, "circle")
    writer, _ = await connect(peer, "circle")
    await writer.say(CRISIS)
    first = await moderator.next_of("flag")
    assert first["flag"]["escalated"] is False
    assert await escalate_due() == 1
    update = await moderator.next_of("flag.update")
    assert update["flag"]["id"] == first["flag"]["id"]
    assert update["flag"]["escalated"] is True
    await moderator.close()
    await writer.close()
