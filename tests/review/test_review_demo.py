"""The demo path, walked with the test client: a supervisor logs in, finds a flagged
session, reads it, resolves its flags with notes, and the session leaves the queue."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from moderation.models import Flag, ModerationAction
from tests.review.review_helpers import PASSWORD, ago, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


def test_supervisor_reviews_a_flagged_session_until_it_leaves_the_queue(room, peer, supervisor):
    session = make_session(room, opened_at=ago(hours=3))
    make_message(session, peer, "rough week")
    crisis = make_message(session, peer, "I can't go on, I want to end it")
    head = make_flag(crisis, tier="high", categories=["suicide"], spans=[[17, 31, "suicide"]])
    make_flag(make_message(session, peer, "really"), tier="concern", alert=head)
    report = make_flag(crisis, kind=Flag.Kind.REPORT, tier="none", report_reason="worried")
    quiet = make_session(room, opened_at=ago(hours=1))
    make_flag(make_message(quiet, peer, "a bit low"), tier="concern")

    browser = Client()
    login = browser.post(reverse("login"), {"username": "super", "password": PASSWORD})
    assert login.status_code == 302

    queue = browser.get(reverse("review:queue")).content.decode()
    listed = re.findall(r'href="(/review/sessions/\d+/)"', queue)
    assert listed[0] == reverse("review:session", args=[session.pk])  # high before concern

    page = browser.get(listed[0]).content.decode()
    assert "rough week" in page
    assert '<mark data-category="suicide">want to end it</mark>' in page
    decide_urls = re.findall(r'action="(/review/flags/\d+/decide/)"', page)
    assert len(decide_urls) == 3  # the alert's two flags and the report

    note_for_alert = "Called the crisis line with them; moderator stayed in touch."
    done = browser.post(
        decide_urls[0], {"decision": "resolve", "note": note_for_alert}, follow=True
    )
    assert "decision saved" in done.content.decode()
    page = done.content.decode()
    # The grouped flag closed with its alert; only the report still needs a decision.
    remaining = re.findall(r'action="(/review/flags/\d+/decide/)"', page)
    assert remaining == [reverse("review:decide", args=[report.pk])]
    browser.post(remaining[0], {"decision": "resolve", "note": "Report answered."})

    assert set(Flag.objects.filter(session=session).values_list("status", flat=True)) == {
        "resolved"
    }
    assert Flag.objects.get(pk=head.pk).note == note_for_alert
    assert list(ModerationAction.objects.values_list("action", flat=True)) == [
        "flag.resolved",
        "flag.resolved",
    ]
    queue = browser.get(reverse("review:queue")).content.decode()
    assert re.findall(r'href="(/review/sessions/\d+/)"', queue) == [
        reverse("review:session", args=[quiet.pk])
    ]
