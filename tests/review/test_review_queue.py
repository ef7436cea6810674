"""The queue: sessions with unresolved flags, most urgent first, with filters and counts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from moderation.models import Flag
from tests.factories import make_member, make_room
from tests.review.review_helpers import ago, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


def listed_sessions(response) -> list[int]:
    """Return the session ids in the queue table, in order."""
    assert response.status_code == 200
    return [
        int(i) for i in re.findall(r'href="/review/sessions/(\d+)/"', response.content.decode())
    ]


@pytest.fixture
def sessions(room, peer):
    """Five sessions: each name says its flags."""
    other = make_room("evening")
    writer = make_member(other, "peer2")
    made = {}

    def flagged(name, room, author, *, hours, **flag_fields):
        session = make_session(room, opened_at=ago(hours=hours))
        message = make_message(session, author, f"message of {name}")
        made[name] = session
        return make_flag(message, **flag_fields)

    flagged("high_old", room, peer, hours=50, tier="high", categories=["self_harm"])
    flagged("high_new", room, peer, hours=5, tier="high", categories=["suicide"])
    flagged(
        "imminent_new",
        other,
        writer,
        hours=1,
        tier="imminent",
        categories=["suicide"],
        status=Flag.Status.ACKNOWLEDGED,
        acknowledged_at=ago(minutes=30),
    )
    flagged("concern_oldest", room, peer, hours=200, tier="concern", categories=["distress"])
    flagged(
        "report",
        room,
        peer,
        hours=3,
        kind=Flag.Kind.REPORT,
        tier="none",
        report_reason="asks for my number",
    )
    flagged("resolved", room, peer, hours=4, tier="imminent", status=Flag.Status.RESOLVED)
    flagged(
        "norm",
        other,
        writer,
        hours=2,
        kind=Flag.Kind.NORM,
        tier="none",
        norms=["contact_info"],
        status=Flag.Status.DISMISSED,
    )
    return {name: session.pk for name, session in made.items()}


def test_queue_lists_unresolved_sessions_highest_tier_then_oldest(supervisor_client, sessions):
    response = supervisor_client.get(reverse("review:queue"))
    assert listed_sessions(response) == [
        sessions["imminent_new"],
        sessions["high_old"],
        sessions["high_new"],
        sessions["concern_oldest"],
        sessions["report"],
    ]


def test_queue_counts_flags_per_status(supervisor_client, sessions):
    page = supervisor_client.get(reverse("review:queue")).content.decode()
    counts = dict(re.findall(r">([a-z ]+)</a>: <strong>(\d+)</strong>", page))
    assert counts == {
        "open": "4",
        "acknowledged": "1",
        "resolved": "1",
        "dismissed as false alarm": "1",
    }


def test_peer_report_shows_as_such(supervisor_client, sessions):
    page = supervisor_client.get(reverse("review:queue")).content.decode()
    row = re.search(rf"sessions/{sessions['report']}/.*?</tr>", page, re.S).group(0)
    assert "peer report" in row
    other_row = re.search(rf"sessions/{sessions['high_new']}/.*?</tr>", page, re.S).group(0)
    assert "peer report" not in other_row


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"room": "evening"}, ["imminent_new"]),
        ({"tier": "high"}, ["high_old", "high_new"]),
        ({"category": "suicide"}, ["imminent_new", "high_new"]),
        ({"category": "self_harm"}, ["high_old"]),
        ({"status": "acknowledged"}, ["imminent_new"]),
        (
            {"status": "open", "room": "circle"},
            ["high_old", "high_new", "concern_oldest", "report"],
        ),
        ({"status": "resolved"}, ["resolved"]),
        ({"status": "dismissed", "category": "contact_info"}, ["norm"]),
        ({"date_from": "{cut}"}, ["imminent_new", "high_old", "high_new", "report"]),
        ({"date_to": "{cut}"}, ["concern_oldest"]),
    ],
)
def test_queue_filters(supervisor_client, sessions, params, expected):
    # Flags are 1 h to 2.1 days old, but concern_oldest is 8 days old: the day four days
    # ago lies between them wherever the clock is.
    cut = ago(days=4).date().isoformat()
    query = {key: value.format(cut=cut) for key, value in params.items()}
    response = supervisor_client.get(reverse("review:queue"), query)
    assert listed_sessions(response) == [sessions[name] for name in expected]


def test_status_counts_follow_the_other_filters(supervisor_client, sessions):
    page = supervisor_client.get(reverse("review:queue"), {"room": "evening"}).content.decode()
    counts = dict(re.findall(r">([a-z ]+)</a>: <strong>(\d+)</strong>", page))
    assert counts == {
        "open": "0",
        "acknowledged": "1",
        "resolved": "0",
        "dismissed as false alarm": "1",
    }


def test_unknown_filter_value_is_shown_as_an_error(supervisor_client, sessions):
    response = supervisor_client.get(reverse("review:queue"), {"tier": "apocalyptic"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_queue_is_paginated(supervisor_client, room, peer, monkeypatch):
    monkeypatch.setattr("moderation.views.PAGE_SIZE", 2)
    for hours in (10, 9, 8):
        make_flag(make_message(make_session(room, opened_at=ago(hours=hours)), peer, "low"))
    first = listed_sessions(supervisor_client.get(reverse("review:queue")))
    second = listed_sessions(supervisor_client.get(reverse("review:queue"), {"page": 2}))
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
