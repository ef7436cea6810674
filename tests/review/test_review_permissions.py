"""Only supervisors reach the review pages; the room's moderators may read its notes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chat.models import Membership
from moderation.models import Flag, ModerationAction, SupervisionNote
from tests.factories import make_member, make_room
from tests.review.review_helpers import make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def flag(room, peer):
    session = make_session(room)
    return make_flag(make_message(session, peer, "I feel low"))


def review_requests(flag):
    session_id = flag.session_id
    return [
        ("get", reverse("review:queue"), {}),
        ("get", reverse("review:session", args=[session_id]), {}),
        ("get", reverse("review:stats"), {}),
        ("get", reverse("review:audit"), {}),
        ("get", reverse("review:export"), {}),
        (
            "post",
            reverse("review:export"),
            {
                "dataset": "flags",
                "format": "csv",
                "date_from": "2026-01-01",
                "date_to": "2026-12-31",
            },
        ),
        (
            "post",
            reverse("review:decide", args=[flag.pk]),
            {"decision": "resolve", "note": "talked it through"},
        ),
    ]


def test_anonymous_user_is_sent_to_the_login_page(client, flag):
    for method, url, data in review_requests(flag):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN
    assert not ModerationAction.objects.exists()


@pytest.mark.parametrize("who", ["peer", "moderator"])
def test_peer_and_moderator_are_refused(client, flag, who, request):
    client.force_login(request.getfixturevalue(who))
    for method, url, data in review_requests(flag):
        assert getattr(client, method)(url, data).status_code == 403, url
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.OPEN
    assert not ModerationAction.objects.exists()


def test_supervisor_is_let_in(supervisor_client, flag):
    for method, url, data in review_requests(flag):
        response = getattr(supervisor_client, method)(url, data)
        expected = 302 if "decide" in url else 200
        assert response.status_code == expected, url
        assert response["Cache-Control"].startswith("max-age=0"), url


def test_decide_only_accepts_post(supervisor_client, flag):
    response = supervisor_client.get(reverse("review:decide", args=[flag.pk]))
    assert response.status_code == 405


def test_missing_session_or_flag_is_404_for_a_supervisor(supervisor_client):
    assert supervisor_client.get(reverse("review:session", args=[999])).status_code == 404
    assert supervisor_client.get(reverse("review:notes", args=[999])).status_code == 404
    response = supervisor_client.post(
        reverse("review:decide", args=[999]), {"decision": "resolve", "note": "x"}
    )
    assert response.status_code == 404


def test_notes_page_is_for_the_rooms_moderators_and_supervisors(client, flag, peer, moderator):
    SupervisionNote.objects.create(session_id=flag.session_id, text="Good calm handling.")
    url = reverse("review:notes", args=[flag.session_id])
    assert client.get(url)["Location"].startswith(reverse("login"))

    client.force_login(peer)
    assert client.get(url).status_code == 403

    other_room = make_room("other")
    client.force_login(make_member(other_room, "mod2", role=Membership.Role.MODERATOR))
    assert client.get(url).status_code == 403

    client.force_login(moderator)
    page = client.get(url)
    assert page.status_code == 200 and "Good calm handling." in page.content.decode()
    # Missing or forbidden look the same to anyone but a supervisor.
    assert client.get(reverse("review:notes", args=[999])).status_code == 403


def test_moderator_cannot_add_a_note(client, flag, moderator):
    client.force_login(moderator)
    response = client.post(reverse("review:notes", args=[flag.session_id]), {"text": "mine"})
    assert response.status_code == 403
    assert not SupervisionNote.objects.exists()
