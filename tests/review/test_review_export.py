"""Exports: CSV and JSON for a date range, text only when asked, each one audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.test import AsyncClient
from django.urls import reverse

from moderation.exports import ACTION_FIELDS, FLAG_FIELDS
from moderation.models import Flag, ModerationAction
from tests.review.review_helpers import make_action, make_flag, make_message, make_session

pytestmark = [
    pytest.mark.django_db,
    # The synchronous test client reads the async stream all at once, and says so.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous"),
]

RANGE = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def exported(room, peer, moderator):
    session = make_session(room, opened_at=datetime(2026, 3, 10, 9, tzinfo=UTC))
    message = make_message(session, peer, '=HYPERLINK("x") I want to die')
    inside = make_flag(
        message,
        tier="high",
        categories=["suicide", "self_harm"],
        rules=["en.a", "en.b"],
        spans=[[20, 31, "suicide"]],
        status=Flag.Status.RESOLVED,
        note="-talked, ok",
    )
    report = make_flag(
        message,
        kind=Flag.Kind.REPORT,
        tier="none",
        report_reason="worried about them",
        created=datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
    )
    make_flag(message, created=datetime(2026, 4, 1, 0, 0, tzinfo=UTC))  # outside
    make_action(
        "message.hide",
        actor=moderator,
        room=room,
        session=session,
        message=message,
        reason="crisis",
        created=datetime(2026, 3, 10, 10, tzinfo=UTC),
        details={"was": "visible"},
    )
    make_action("auto.warn", created=datetime(2026, 2, 28, 23, 0, tzinfo=UTC))  # outside
    return {"flag": inside, "report": report, "message": message}


class Export:
    """A streamed export as the browser saves it."""

    def __init__(self, response):
        self.response = response
        # The test client is synchronous: it reads the async stream through async_to_sync.
        self.content = b"".join(response)

    def __getitem__(self, header):
        return self.response[header]


def post_export(client, **fields):
    data = {"dataset": "flags", "format": "csv", **RANGE, **fields}
    response = client.post(reverse("review:export"), data)
    assert response.status_code == 200
    assert response.streaming
    return Export(response)


def test_flags_csv_has_a_header_and_one_row_per_flag(supervisor_client, exported):
    response = post_export(supervisor_client)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="peerchat-flags-2026-03-01-2026-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == FLAG_FIELDS
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["id"] == str(exported["flag"].pk)
    assert first["room"] == "circle"
    assert first["categories"] == "suicide;self_harm"
    assert first["rules"] == "en.a;en.b"
    assert json.loads(first["spans"]) == [[20, 31, "suicide"]]
    assert first["status"] == "resolved"
    assert first["author_id"] == str(exported["message"].author_id)
    assert first["note"] == "'-talked, ok"  # a spreadsheet must not run it as a formula
    body = response.content.decode()
    assert "I want to die" not in body and "worried about them" not in body


def test_flags_csv_includes_text_only_when_asked(supervisor_client, exported):
    response = post_export(supervisor_client, include_text="on")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [*FLAG_FIELDS, "report_reason", "message_text"]
    assert rows[0]["message_text"] == '\'=HYPERLINK("x") I want to die'
    assert rows[1]["report_reason"] == "worried about them"


def test_flags_json(supervisor_client, exported):
    response = post_export(supervisor_client, format="json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(response.content)
    assert document["dataset"] == "flags" and document["from"] == "2026-03-01"
    assert document["include_text"] is False and document["fields"] == FLAG_FIELDS
    assert [row["id"] for row in document["rows"]] == [exported["flag"].pk, exported["report"].pk]
    assert document["rows"][0]["spans"] == [[20, 31, "suicide"]]
    assert document["rows"][1]["kind"] == "report"
    assert "message_text" not in document["rows"][0]
    texted = json.loads(post_export(supervisor_client, format="json", include_text="on").content)
    assert texted["rows"][0]["message_text"] == '=HYPERLINK("x") I want to die'


def test_actions_export(supervisor_client, exported, moderator):
    rows = list(
        csv.DictReader(
            io.StringIO(post_export(supervisor_client, dataset="actions").content.decode())
        )
    )
    assert list(rows[0]) == ACTION_FIELDS
    assert [(r["action"], r["actor_id"], r["room"], r["reason"]) for r in rows] == [
        ("message.hide", str(moderator.pk), "circle", "crisis")
    ]
    assert json.loads(rows[0]["details"]) == {"was": "visible"}
    document = json.loads(post_export(supervisor_client, dataset="actions", format="json").content)
    assert [row["action"] for row in document["rows"]] == ["message.hide"]


def test_each_export_is_audited_with_its_parameters_only(supervisor_client, supervisor, exported):
    before = ModerationAction.objects.count()
    post_export(supervisor_client, include_text="on")
    assert ModerationAction.objects.count() == before + 1
    row = ModerationAction.objects.get(action="export")
    assert row.actor == supervisor
    assert row.details == {
        "dataset": "flags",
        "format": "csv",
        "from": "2026-03-01",
        "to": "2026-03-31",
        "include_text": True,
    }
    assert row.room_id is None and row.message_id is None and row.reason == ""


def test_invalid_export_request_shows_the_form_and_logs_nothing(supervisor_client, exported):
    response = supervisor_client.post(
        reverse("review:export"),
        {"dataset": "flags", "format": "xml", "date_from": "2026-03-31", "date_to": "2026-03-01"},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The range ends before it starts." in page and "Select a valid choice" in page
    assert not ModerationAction.objects.filter(action="export").exists()


def test_exports_are_streamed_in_batches(supervisor_client, exported, monkeypatch):
    """Pieces of BATCH rows, each read by its own query: the same file as one piece."""
    whole = post_export(supervisor_client, format="json").content
    monkeypatch.setattr("moderation.exports.BATCH", 1)
    response = supervisor_client.post(
        reverse("review:export"), {"dataset": "flags", "format": "json", **RANGE}
    )
    pieces = list(response)
    assert len(pieces) == 4  # the opening, two rows, the closing
    batched = json.loads(b"".join(pieces))
    assert batched["rows"] == json.loads(whole)["rows"]
    csv_pieces = list(
        supervisor_client.post(
            reverse("review:export"), {"dataset": "flags", "format": "csv", **RANGE}
        )
    )
    assert len(csv_pieces) == 3  # the header, then one row each


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_pieces_are_sent_as_they_are_read(exported, supervisor, monkeypatch):
    """As daphne serves it: the response streams an async iterator, piece by piece."""
    monkeypatch.setattr("moderation.exports.BATCH", 1)
    client = AsyncClient()
    await client.aforce_login(supervisor)
    response = await client.post(
        reverse("review:export"), {"dataset": "flags", "format": "csv", **RANGE}
    )
    assert response.status_code == 200 and response.is_async
    pieces = [piece async for piece in response.streaming_content]
    assert len(pieces) == 3
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode())))
    assert rows[0] == FLAG_FIELDS and len(rows) == 3
