"""A member downloads their data and deletes their account (both message settings)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import User
from chat.models import Membership, Message
from moderation.models import Flag, ModerationAction, Sanction
from tests.factories import make_member
from tests.review.review_helpers import PASSWORD, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(room, peer, moderator):
    """peer1 wrote three messages (one flagged, one held) and reported someone."""
    other = make_member(room, "peer2")
    session = make_session(room)
    mine = [
        make_message(session, peer, "hello circle"),
        make_message(session, peer, "I want to die", status=Message.Status.HELD),
        make_message(session, peer, "thanks all"),
    ]
    theirs = make_message(session, other, "peer2 here")
    flag_about_me = make_flag(mine[1], categories=["suicide"], rules=["en.a"])
    my_report = make_flag(
        theirs, kind=Flag.Kind.REPORT, tier="none", reporter=peer, report_reason="rude to me"
    )
    Sanction.objects.create(room=room, user=peer, kind=Sanction.Kind.MUTE, reason="flooding")
    return {
        "mine": mine,
        "theirs": theirs,
        "flag": flag_about_me,
        "report": my_report,
        "session": session,
    }


def test_my_data_page_links_download_and_deletion(client, peer):
    client.force_login(peer)
    page = client.get(reverse("accounts:me")).content.decode()
    assert 'href="/accounts/me/data.json"' in page and 'href="/accounts/me/delete/"' in page


@pytest.mark.parametrize("name", ["accounts:me", "accounts:data", "accounts:delete"])
def test_data_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_download_holds_profile_memberships_and_only_my_messages(client, peer, history):
    client.force_login(peer)
    response = client.get(reverse("accounts:data"))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="peerchat-my-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["profile"]["login_name"] == "peer1" and data["profile"]["display_name"] == "peer1"
    assert [(m["room"], m["role"]) for m in data["memberships"]] == [("circle", "peer")]
    assert [(m["body"], m["status"]) for m in data["messages"]] == [
        ("hello circle", "visible"),
        ("I want to die", "held"),
        ("thanks all", "visible"),
    ]
    assert [r["reason"] for r in data["reports"]] == ["rude to me"]
    assert [s["kind"] for s in data["sanctions"]] == ["mute"]
    assert "peer2 here" not in response.content.decode()


def delete_me(client, password=PASSWORD):
    return client.post(reverse("accounts:delete"), {"password": password})


def test_wrong_password_deletes_nothing(client, peer, history):
    client.force_login(peer)
    response = delete_me(client, "not my password")
    assert response.status_code == 200
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=peer.pk).exists()


def test_delete_anonymises_messages_and_keeps_flags_without_the_name(
    client, supervisor_client, peer, history, settings
):
    settings.PEERCHAT = {**settings.PEERCHAT, "DELETED_MEMBER_MESSAGES": "anonymise"}
    client.force_login(peer)
    assert (
        "shown as written by a former member"
        in client.get(reverse("accounts:delete")).content.decode()
    )
    response = delete_me(client)
    assert response["Location"] == reverse("accounts:deleted")
    assert not User.objects.filter(username="peer1").exists()
    assert not Membership.objects.filter(user_id=peer.pk).exists()
    assert not Sanction.objects.exists()
    # The session still reads whole, with no name on the member's messages.
    kept = Message.objects.filter(pk__in=[m.pk for m in history["mine"]])
    assert kept.count() == 3 and set(kept.values_list("author_id", flat=True)) == {None}
    flag = Flag.objects.get(pk=history["flag"].pk)
    assert (flag.author_id, flag.message_id, flag.rules) == (None, history["mine"][1].pk, ["en.a"])
    report = Flag.objects.get(pk=history["report"].pk)
    assert (report.reporter_id, report.report_reason) == (None, "rude to me")
    page = supervisor_client.get(
        reverse("review:session", args=[history["session"].pk])
    ).content.decode()
    assert "former member" in page and "hello circle" in page
    audit = ModerationAction.objects.get(action="account.delete")
    assert audit.details == {"messages": "anonymise", "messages_deleted": 0}
    assert audit.target_id is None and audit.actor_id is None
    # Logged out.
    assert client.get(reverse("accounts:me")).status_code == 302
    assert "Your account is deleted" in client.get(reverse("accounts:deleted")).content.decode()


def test_delete_mode_removes_messages_and_report_reasons(client, peer, history, settings):
    settings.PEERCHAT = {**settings.PEERCHAT, "DELETED_MEMBER_MESSAGES": "delete"}
    client.force_login(peer)
    assert (
        "every message you wrote are deleted" in client.get(reverse("accounts:me")).content.decode()
    )
    delete_me(client)
    assert list(Message.objects.values_list("body", flat=True)) == ["peer2 here"]
    flag = Flag.objects.get(pk=history["flag"].pk)
    assert (flag.author_id, flag.message_id, flag.categories) == (None, None, ["suicide"])
    report = Flag.objects.get(pk=history["report"].pk)
    assert (report.reporter_id, report.report_reason, report.message_id) == (
        None,
        "",
        history["theirs"].pk,
    )
    audit = ModerationAction.objects.get(action="account.delete")
    assert audit.details == {"messages": "delete", "messages_deleted": 3}


def test_unknown_message_setting_fails_loudly(client, peer, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PEERCHAT = {**settings.PEERCHAT, "DELETED_MEMBER_MESSAGES": "keep"}
    client.force_login(peer)
    with pytest.raises(ImproperlyConfigured):
        delete_me(client)
    assert User.objects.filter(pk=peer.pk).exists()
