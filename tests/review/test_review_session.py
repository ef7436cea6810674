"""The session page: transcript, highlighted spans, timeline, decisions on flags, notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from chat.models import Message
from moderation.models import Flag, ModerationAction, SupervisionNote
from moderation.review import format_duration, highlight
from tests.factories import make_user
from tests.review.review_helpers import make_action, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "spans", "html"),
    [
        ("plain", [], "plain"),
        (
            "I want to die now",
            [[10, 13, "suicide"]],
            'I want to <mark data-category="suicide">die</mark>'
            '<span class="visually-hidden"> (suicide)</span> now',
        ),
        (
            "<b>x</b> & die",
            [[11, 14, "suicide"]],
            "&lt;b&gt;x&lt;/b&gt; &amp; "
            '<mark data-category="suicide">die</mark>'
            '<span class="visually-hidden"> (suicide)</span>',
        ),
        (
            "abcdef",
            [[0, 4, "a"], [2, 6, "b"]],
            '<mark data-category="a">ab</mark><span class="visually-hidden"> (a)</span>'
            '<mark data-category="a b">cd</mark><span class="visually-hidden"> (a b)</span>'
            '<mark data-category="b">ef</mark><span class="visually-hidden"> (b)</span>',
        ),
        (
            "short",
            [[3, 99, "x"], [4, 2, "y"], ["a", 1, "z"], [1]],
            'sho<mark data-category="x">rt</mark><span class="visually-hidden"> (x)</span>',
        ),
        (
            "ab",
            [[0, 1, '"><script>']],
            '<mark data-category="&quot;&gt;&lt;script&gt;">a</mark>'
            '<span class="visually-hidden"> (&quot;&gt;&lt;script&gt;)</span>b',
        ),
    ],
)
def test_highlight_escapes_every_segment(body, spans, html):
    assert str(highlight(body, spans)) == html


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (125, "2 min 5 s"),
        (3 * 3600 + 300, "3 h 5 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text


@pytest.fixture
def session(room):
    return make_session(room)


def test_transcript_shows_every_message_marked_and_flags_inline(
    supervisor_client, session, peer, moderator
):
    make_message(session, peer, "Hello everyone")
    held = make_message(session, peer, "call me on 0612345678", status=Message.Status.HELD)
    make_message(session, peer, "something rude", status=Message.Status.HIDDEN)
    crisis = make_message(session, peer, "I <3 nobody, I want to die")
    flag = make_flag(
        crisis,
        tier="high",
        categories=["suicide"],
        rules=["en.suicide.want_to_die"],
        spans=[[15, 26, "suicide"]],
        acknowledged_at=crisis.created + timedelta(seconds=75),
        acknowledged_by=moderator,
        status=Flag.Status.ACKNOWLEDGED,
    )
    make_flag(
        held,
        kind=Flag.Kind.NORM,
        tier="none",
        norms=["contact_info"],
        spans=[[11, 21, "contact_info"]],
    )
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()

    assert "Hello everyone" in page
    assert "held for a moderator</strong>" in page and "hidden</strong>" in page
    assert "I &lt;3 nobody, I " in page
    assert '<mark data-category="suicide">want to die</mark>' in page
    assert '<mark data-category="contact_info">0612345678</mark>' in page
    assert f'id="flag-{flag.pk}"' in page and "en.suicide.want_to_die" in page
    assert "1 min 15 s" in page  # waited for acknowledgement
    assert "not yet:" in page  # the norm flag is still open


def test_flag_without_message_is_still_listed(supervisor_client, session, peer):
    message = make_message(session, peer, "gone soon")
    flag = make_flag(message, tier="concern")
    message.delete()
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    assert "Flags whose message is no longer kept" in page and f'id="flag-{flag.pk}"' in page


def test_peer_report_shows_its_reason_not_its_reporter(supervisor_client, session, peer, room):
    reporter = make_user("watchful", display_name="Watchful Owl")
    message = make_message(session, peer, "give me your address")
    flag = make_flag(
        message,
        kind=Flag.Kind.REPORT,
        tier="none",
        reporter=reporter,
        report_reason="wants my address",
    )
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    heading = page[page.index(f'id="flag-{flag.pk}-heading"') :].split("</h3>")[0]
    assert " ".join(heading.split()).endswith(f"Flag {flag.pk}: peer report · open")
    assert "wants my address" in page
    assert "Watchful Owl" not in page


def test_timeline_lists_the_sessions_moderator_actions(supervisor_client, session, peer, moderator):
    message = make_message(session, peer, "spam")
    make_action(
        "message.hide",
        actor=moderator,
        session=session,
        message=message,
        target=peer,
        reason="off topic",
    )
    make_action("auto.warn", session=session, target=peer)
    make_action("member.mute", actor=moderator)  # another session: not shown
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    timeline = page[page.index('id="timeline"') : page.index('id="notes"')]
    assert "<code>message.hide</code>" in timeline and "off topic" in timeline
    assert "<code>auto.warn</code>" in timeline and "the platform" in timeline
    assert "member.mute" not in timeline


@pytest.mark.parametrize(
    ("decision", "status", "action"),
    [
        ("resolve", Flag.Status.RESOLVED, "flag.resolved"),
        ("dismiss", Flag.Status.DISMISSED, "flag.dismissed"),
    ],
)
def test_resolve_and_dismiss_close_the_flag_with_one_audit_row(
    supervisor_client, supervisor, session, peer, decision, status, action
):
    flag = make_flag(make_message(session, peer, "low"))
    response = supervisor_client.post(
        reverse("review:decide", args=[flag.pk]), {"decision": decision, "note": "checked in"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("review:session", args=[session.pk]) + f"#flag-{flag.pk}"
    flag.refresh_from_db()
    assert flag.status == status and flag.note == "checked in"
    assert flag.resolved_by == supervisor and flag.acknowledged_at is not None
    rows = list(ModerationAction.objects.all())
    assert [(r.action, r.actor_id, r.flag_id, r.reason) for r in rows] == [
        (action, supervisor.pk, flag.pk, "checked in")
    ]
    # Deciding again changes nothing and writes nothing.
    supervisor_client.post(
        reverse("review:decide", args=[flag.pk]), {"decision": "resolve", "note": "again"}
    )
    flag.refresh_from_db()
    assert flag.status == status and ModerationAction.objects.count() == 1


def test_escalate_marks_the_flag_and_writes_one_audit_row(
    supervisor_client, supervisor, session, peer
):
    flag = make_flag(make_message(session, peer, "low"))
    supervisor_client.post(
        reverse("review:decide", args=[flag.pk]), {"decision": "escalate", "note": "needs the lead"}
    )
    flag.refresh_from_db()
    assert flag.escalated_at is not None and flag.status == Flag.Status.OPEN
    assert list(ModerationAction.objects.values_list("action", "actor_id", "reason")) == [
        ("flag.escalate", supervisor.pk, "needs the lead")
    ]
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    assert 'value="escalate" required disabled' in page


def test_decision_closes_the_whole_alert(supervisor_client, session, peer):
    head = make_flag(make_message(session, peer, "first"))
    grouped = make_flag(make_message(session, peer, "second"), alert=head)
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    assert "applies to the whole alert: 2 flags" in page
    supervisor_client.post(
        reverse("review:decide", args=[grouped.pk]), {"decision": "resolve", "note": "ok"}
    )
    assert set(Flag.objects.values_list("status", flat=True)) == {Flag.Status.RESOLVED}
    assert ModerationAction.objects.count() == 1


def test_decision_needs_a_note(supervisor_client, session, peer):
    flag = make_flag(make_message(session, peer, "low"))
    response = supervisor_client.post(
        reverse("review:decide", args=[flag.pk]), {"decision": "resolve", "note": ""}, follow=True
    )
    assert "Choose a decision and write a note." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN and not ModerationAction.objects.exists()


def test_supervisor_adds_a_note_the_moderator_reads(client, supervisor_client, session, moderator):
    response = supervisor_client.post(
        reverse("review:notes", args=[session.pk]), {"text": "Well done <b>calmly</b>."}
    )
    assert response["Location"] == reverse("review:session", args=[session.pk]) + "#notes"
    note = SupervisionNote.objects.get()
    assert note.session == session and note.author.username == "super"
    page = supervisor_client.get(reverse("review:session", args=[session.pk])).content.decode()
    assert "Well done &lt;b&gt;calmly&lt;/b&gt;." in page
    client.force_login(moderator)
    notes_page = client.get(reverse("review:notes", args=[session.pk])).content.decode()
    assert "Well done &lt;b&gt;calmly&lt;/b&gt;." in notes_page
    assert "super" in notes_page


def test_empty_note_is_refused(supervisor_client, session):
    supervisor_client.post(reverse("review:notes", args=[session.pk]), {"text": "  "})
    assert not SupervisionNote.objects.exists()


def test_decisions_reach_live_consoles_after_commit(
    supervisor_client, supervisor, session, peer, django_capture_on_commit_callbacks
):
    import asyncio
    import json

    from channels.layers import get_channel_layer

    from chat.events import moderators_group
    from moderation.alerts import ONCALL_GROUP

    layer = get_channel_layer()
    # The listening consoles live on one event loop, as in a server process (the pub/sub
    # layer keeps its subscriptions per loop); the views publish from their own.
    with asyncio.Runner() as consoles:
        mods = consoles.run(layer.new_channel())
        oncall = consoles.run(layer.new_channel())
        consoles.run(layer.group_add(moderators_group(session.room_id), mods))
        consoles.run(layer.group_add(ONCALL_GROUP, oncall))
        flag = make_flag(make_message(session, peer, "low"))
        url = reverse("review:decide", args=[flag.pk])
        with django_capture_on_commit_callbacks(execute=True):
            supervisor_client.post(url, {"decision": "escalate", "note": "lead"})
        escalated = json.loads(consoles.run(asyncio.wait_for(layer.receive(oncall), 5))["text"])
        assert escalated["type"] == "flag" and escalated["flag"]["id"] == flag.pk
        with django_capture_on_commit_callbacks(execute=True):
            supervisor_client.post(url, {"decision": "dismiss", "note": "false alarm"})
        status = json.loads(consoles.run(asyncio.wait_for(layer.receive(mods), 5))["text"])
    assert status == {
        "type": "flag.status",
        "flag_id": flag.pk,
        "status": "dismissed",
        "by": {"id": supervisor.pk, "name": "super"},
    }
