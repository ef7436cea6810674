"""The audit log page: every moderation action, filtered, paginated, read-only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.factories import make_room
from tests.review.review_helpers import make_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(room, moderator, peer):
    evening = make_room("evening")
    make_action(
        "member.mute",
        actor=moderator,
        room=room,
        target=peer,
        created=datetime(2026, 5, 1, 10, tzinfo=UTC),
        reason="r-mute",
    )
    make_action(
        "message.hide",
        actor=moderator,
        room=evening,
        created=datetime(2026, 5, 2, 10, tzinfo=UTC),
        reason="r-hide",
    )
    make_action(
        "auto.warn",
        room=room,
        target=peer,
        created=datetime(2026, 5, 3, 10, tzinfo=UTC),
        reason="r-warn",
    )


def reasons(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r"<td>(r-[a-z]+)</td>", response.content.decode())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["r-warn", "r-hide", "r-mute"]),
        ({"room": "evening"}, ["r-hide"]),
        ({"action": "member.mute"}, ["r-mute"]),
        ({"actor": "platform"}, ["r-warn"]),
        ({"date_from": "2026-05-02", "date_to": "2026-05-02"}, ["r-hide"]),
    ],
)
def test_audit_log_filters(supervisor_client, log, params, expected):
    assert reasons(supervisor_client.get(reverse("review:audit"), params)) == expected


def test_audit_log_filters_by_actor_id_not_name(supervisor_client, log, moderator):
    page = supervisor_client.get(reverse("review:audit")).content.decode()
    assert f'<option value="{moderator.pk}">mod1</option>' in page
    response = supervisor_client.get(reverse("review:audit"), {"actor": moderator.pk})
    assert reasons(response) == ["r-hide", "r-mute"]


def test_audit_log_is_paginated_and_read_only(supervisor_client, log, monkeypatch):
    monkeypatch.setattr("moderation.views.PAGE_SIZE", 2)
    first = supervisor_client.get(reverse("review:audit"))
    assert reasons(first) == ["r-warn", "r-hide"]
    assert reasons(supervisor_client.get(reverse("review:audit"), {"page": 2})) == ["r-mute"]
    main = first.content.decode().split('<main id="main"')[1].split("</main>")[0]
    assert 'method="post"' not in main
    assert supervisor_client.post(reverse("review:audit")).status_code == 405
