"""The on-call page in Chromium: a supervisor with no room open sees an imminent crisis
alert arrive live, takes it on (the room's moderator sees that), finds it again after a
reload, and resolves it; peers are refused the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    CRISIS_MESSAGE,
    Circle,
    OpenPage,
    Person,
    enter_as,
    password_hash,
    say,
    screenshot,
    shown_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def make_supervisor(username: str, name: str) -> Person:
    """A supervisor who is a member of no room."""
    from accounts.models import User
    from accounts.roles import supervisor_group

    user = User.objects.create(username=username, display_name=name, password=password_hash())
    user.groups.add(supervisor_group())
    return Person(id=user.pk, username=username, name=name)


def test_supervisor_on_call_takes_on_and_resolves_an_imminent_alert(
    open_page: OpenPage, circle: Circle
) -> None:
    from moderation.models import Flag

    make_supervisor("sam", "Sam")
    sam, sam_watch = open_page("sam", "/review/oncall/")
    expect(sam.locator("#connection")).to_have_attribute("data-state", "open")
    expect(sam.locator("#flags-empty")).to_be_visible()
    expect(sam.get_by_role("link", name="On call")).to_have_attribute("aria-current", "page")
    title = sam.title()
    mia, mia_watch = enter_as(open_page, "mia", f"/rooms/{circle.slug}/console/")
    ada, ada_watch = enter_as(open_page, "ada", f"/rooms/{circle.slug}/")

    say(ada, CRISIS_MESSAGE)
    card = sam.locator("#flags li.flag")
    expect(card).to_have_count(1)
    expect(card.locator(".badge.tier")).to_have_text("Imminent")
    expect(card).to_contain_text(f"In room {circle.slug}")
    expect(card.locator("bdi")).to_have_text(["Ada"])
    expect(card.locator(".flag-text mark").first).to_be_visible()
    assert shown_text(card.locator(".flag-text")) == CRISIS_MESSAGE
    expect(card.locator(".flag-status")).to_have_text("Open")
    expect(card.get_by_role("link", name="Open the room console")).to_have_attribute(
        "href", f"/rooms/{circle.slug}/console/"
    )
    expect(sam.locator("#flags-empty")).to_be_hidden()
    expect(sam.locator("#flags-count")).to_have_text("1")
    expect(sam).to_have_title(f"⚠ (1) {title}")
    expect(sam.locator("#announcer")).to_have_text(
        f"New escalated alert (Imminent) in room {circle.slug}. Writer: Ada"
    )
    screenshot(sam, "oncall-alert")

    card.get_by_role("button", name="I am on it").click()
    expect(card.locator(".flag-status")).to_have_text("Someone is on it · by Sam")
    expect(card.get_by_role("button", name="I am on it")).to_have_count(0)
    expect(sam).to_have_title(title)
    mia_card = mia.locator("#flags li.flag.kind-crisis")
    expect(mia_card.locator(".flag-status")).to_have_text("Someone is on it · by Sam")

    # Reopened later, the page shows what is still unresolved, as it was left.
    sam.reload()
    expect(sam.locator("#connection")).to_have_attribute("data-state", "open")
    expect(card).to_have_count(1)
    expect(card.locator(".flag-status")).to_contain_text("Someone is on it")

    card.get_by_role("button", name="Resolve…").click()
    expect(sam.locator("#ask")).to_be_visible()
    expect(sam.locator("#ask-text")).to_be_focused()
    sam.fill("#ask-text", "Called Ada with the moderator; she is with her sister tonight.")
    sam.click("#ask-ok")
    expect(card).to_have_count(0)
    expect(sam.locator("#flags-empty")).to_be_visible()
    expect(mia_card.locator(".flag-status")).to_contain_text("Resolved")
    assert Flag.objects.get(kind=Flag.Kind.CRISIS).status == Flag.Status.RESOLVED
    for watch in (sam_watch, mia_watch, ada_watch):
        watch.assert_clean()


def test_peer_is_refused_the_oncall_page(open_page: OpenPage, circle: Circle) -> None:
    ada, watch = open_page("ada", "/")
    response = ada.goto("/review/oncall/")
    assert response is not None and response.status == 403
    expect(ada.locator("#oncall")).to_have_count(0)
    assert not re.search(r"oncall\.js", ada.content())
    watch.assert_clean()
