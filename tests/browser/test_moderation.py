"""Moderator and safety frames in Chromium: a crisis alert reaches the moderator within a
second while the writer gets the help lines; a mute disables the composer with the reason
and end time, and unmuting gives it back."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    CRISIS_MESSAGE,
    Circle,
    OpenPage,
    enter_as,
    enter_room,
    say,
    screenshot,
    shown_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def test_crisis_alert_reaches_the_moderator_and_the_writer_gets_help_lines(
    open_page: OpenPage, circle: Circle
) -> None:
    mia, mia_watch = enter_as(open_page, "mia", f"/rooms/{circle.slug}/console/")
    ada, ada_watch = enter_as(open_page, "ada", f"/rooms/{circle.slug}/")
    expect(mia.locator("#participants")).to_contain_text("Ada")

    say(ada, CRISIS_MESSAGE)
    sent = time.monotonic()
    card = mia.locator("#flags li.flag.kind-crisis")
    card.wait_for(timeout=5000)
    seen_after = time.monotonic() - sent
    print(f"crisis alert shown at the moderator {seen_after:.2f} s after sending")
    assert seen_after < 1.0
    expect(mia.locator("#alert")).to_be_visible()
    expect(card).to_contain_text("Ada")
    text = card.locator(".flag-text")
    expect(text.locator("mark").first).to_be_visible()
    assert shown_text(text) == CRISIS_MESSAGE
    # The engine's spans are marked, so the moderator sees why it was flagged.
    marked = text.locator("mark").all_text_contents()
    assert any("kill myself" in words for words in marked), marked

    # The writer: a calm, private panel with tap-to-call lines; 112 first when imminent.
    expect(ada.locator("#support")).to_be_visible()
    calls = ada.locator("#support-lines a.call")
    expect(calls.first).to_have_attribute("href", re.compile(r"^tel:\+?[0-9]+$"))
    if ada.locator("#support").get_attribute("data-tier") == "imminent":
        expect(calls.first).to_have_attribute("href", "tel:112")
    screenshot(ada, "peer-support-panel")
    screenshot(mia, "console-crisis-alert")

    # The moderator acknowledges, then resolves with a note.
    card.get_by_role("button", name="I am on it").click()
    expect(card).to_contain_text("Someone is on it")
    card.get_by_role("button", name="Resolve…").click()
    mia.fill("#ask-text", "Talked with Ada in private; she called the listening line.")
    mia.click("#ask-ok")
    expect(mia.locator("#flags li.flag.kind-crisis")).to_contain_text("Resolved")

    ada.click("#support-close")
    expect(ada.locator("#support")).to_be_hidden()
    ada.click("#help-lines-button")  # reopened from the room at any time
    expect(ada.locator("#support")).to_be_visible()
    ada_watch.assert_clean()
    mia_watch.assert_clean()


def test_mute_disables_the_composer_with_reason_and_end_until_unmuted(
    open_page: OpenPage, circle: Circle
) -> None:
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    mia, mia_watch = open_page("mia", f"/rooms/{circle.slug}/console/")
    enter_room(mia)

    row = mia.locator("#participants li", has_text="Ada")
    row.get_by_role("button", name="Mute Ada").click()
    mia.select_option("#ask-duration", "10")
    mia.fill("#ask-text", "Please take a pause and read the norms again.")
    mia.click("#ask-ok")

    expect(ada.locator("#body")).to_be_disabled()
    expect(ada.locator("#send")).to_be_disabled()
    state = ada.locator("#composer-state")
    expect(state).to_contain_text("You are muted until")
    expect(state).to_contain_text("Please take a pause and read the norms again.")
    end = ada.evaluate(  # the context's locale is en-GB: 24-hour times
        "new Intl.DateTimeFormat(navigator.language,"
        " {hour: 'numeric', minute: '2-digit'}).format(new Date(Date.now() + 10 * 60000))"
    )
    expect(state).to_contain_text(end)
    expect(mia.locator("#participants li", has_text="Ada")).to_contain_text("muted")
    screenshot(ada, "peer-muted")

    mia.locator("#participants li", has_text="Ada").get_by_role("button", name="Unmute Ada").click()
    expect(ada.locator("#body")).to_be_enabled()
    expect(ada.locator("#composer-state")).to_have_text("")
    say(ada, "Thank you, I am back.")
    expect(mia.locator("#messages")).to_contain_text("Thank you, I am back.")
    ada_watch.assert_clean()
    mia_watch.assert_clean()
