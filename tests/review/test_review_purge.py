"""purge_expired: removes exactly what expired, keeps flagged sessions, is idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from chat.models import Message
from moderation.models import Flag, ModerationAction, Sanction, SupervisionNote
from tests.factories import make_room
from tests.review.review_helpers import ago, make_action, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(room, peer, supervisor):
    """Messages, flags, audit rows and notes of every age; names say what must happen."""
    short = make_room("short", retention_days=7)
    kept, gone = [], []

    def message(session, days, into):
        m = make_message(session, peer, f"secret words {days}", created=ago(days=days))
        into.append(m.pk)
        return m

    plain = make_session(room, opened_at=ago(days=41))
    message(plain, 40, gone)
    message(plain, 10, kept)
    weekly = make_session(short, opened_at=ago(days=11))
    message(weekly, 10, gone)
    message(weekly, 3, kept)

    open_session = make_session(room, opened_at=ago(days=201))
    make_flag(message(open_session, 200, kept))
    message(open_session, 200, kept)  # unflagged, but in a session under review
    acked = make_session(room, opened_at=ago(days=61))
    make_flag(
        message(acked, 60, kept), status=Flag.Status.ACKNOWLEDGED, acknowledged_at=ago(days=59)
    )

    recent = make_session(room, opened_at=ago(days=121))
    make_flag(
        message(recent, 120, kept), status=Flag.Status.RESOLVED, resolved_at=ago(days=10), note="ok"
    )
    message(recent, 120, kept)

    stale = make_session(room, opened_at=ago(days=151))
    stale_flag = make_flag(
        message(stale, 150, gone),
        status=Flag.Status.RESOLVED,
        resolved_at=ago(days=100),
        spans=[[0, 6, "suicide"]],
        note="spoke with them",
        rules=["en.a"],
        categories=["suicide"],
    )
    message(stale, 150, gone)

    ancient = make_session(room, opened_at=ago(days=401))
    ancient_flag = make_flag(
        message(ancient, 400, gone), status=Flag.Status.DISMISSED, resolved_at=ago(days=399)
    )

    make_action("member.mute", created=ago(days=400), target=peer)
    make_action("message.hide", created=ago(days=150), message_id=gone[-1])
    SupervisionNote.objects.create(
        session=ancient, author=supervisor, text="old", created=ago(days=400)
    )
    SupervisionNote.objects.create(
        session=recent, author=supervisor, text="new", created=ago(days=10)
    )

    def sanction(reason, kind=Sanction.Kind.MUTE, **times):
        Sanction.objects.create(room=room, user=peer, kind=kind, reason=reason, **times)

    sanction("gone: lifted long ago", created=ago(days=500), lifted_at=ago(days=370))
    sanction("gone: ran out long ago", created=ago(days=400), until=ago(days=399))
    sanction("kept: lifted lately", created=ago(days=400), lifted_at=ago(days=300))
    sanction("kept: ran out lately", created=ago(days=20), until=ago(days=19))
    sanction("kept: banned until lifted", kind=Sanction.Kind.BAN, created=ago(days=600))
    sanction("kept: in force", created=ago(days=1), until=ago(days=-1))
    return {"kept": kept, "gone": gone, "stale_flag": stale_flag, "ancient_flag": ancient_flag}


EXPECTED = "messages=5 flags_stripped=1 flags=1 audit_rows=1 notes=1 sanctions=2"


def purge(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_dry_run_counts_and_changes_nothing(world):
    before = (Message.objects.count(), Flag.objects.count(), ModerationAction.objects.count())
    assert purge("--dry-run").strip() == f"would purge: {EXPECTED}"
    assert (
        Message.objects.count(),
        Flag.objects.count(),
        ModerationAction.objects.count(),
    ) == before
    assert Flag.objects.get(pk=world["stale_flag"].pk).note == "spoke with them"


def test_purge_removes_exactly_what_expired_in_batches(world, monkeypatch):
    monkeypatch.setattr("moderation.retention.BATCH", 2)
    output = purge()
    assert output.strip() == f"purged: {EXPECTED}"
    assert "secret" not in output

    assert set(Message.objects.values_list("pk", flat=True)) == set(world["kept"])
    stale = Flag.objects.get(pk=world["stale_flag"].pk)
    assert stale.message_id is None and stale.author_id is None
    assert (stale.spans, stale.note) == ([], "")
    assert (stale.rules, stale.categories, stale.status) == (["en.a"], ["suicide"], "resolved")
    assert not Flag.objects.filter(pk=world["ancient_flag"].pk).exists()
    assert list(ModerationAction.objects.values_list("action", "message_id")) == [
        ("message.hide", None)
    ]
    assert list(SupervisionNote.objects.values_list("text", flat=True)) == ["new"]
    assert all(r.startswith("kept") for r in Sanction.objects.values_list("reason", flat=True))
    assert Sanction.objects.count() == 4
    # The flags that keep transcripts are untouched.
    assert Flag.objects.filter(status__in=["open", "acknowledged"]).count() == 2
    assert Flag.objects.get(note="ok").message_id is not None


def test_second_purge_removes_nothing(world):
    purge()
    assert purge().strip() == (
        "purged: messages=0 flags_stripped=0 flags=0 audit_rows=0 notes=0 sanctions=0"
    )


def test_retention_periods_come_from_settings(world, settings):
    settings.PEERCHAT = {
        **settings.PEERCHAT,
        "FLAGGED_RETENTION_DAYS": 5,
        "AUDIT_RETENTION_DAYS": 100,
    }
    purge()
    # The session resolved 10 days ago is no longer kept; open ones still are.
    assert not Message.objects.filter(body="secret words 120").exists()
    assert Message.objects.filter(body="secret words 200").count() == 2
    assert not ModerationAction.objects.exists()  # both rows are older than 100 days
