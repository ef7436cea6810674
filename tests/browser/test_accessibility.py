"""axe-core on the main pages (no serious or critical violations) and screenshots of them
under artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LINKS_ALLOWED,
    PASSWORD,
    Circle,
    OpenPage,
    enter_room,
    say,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")


def serious_violations(page: Page) -> list[str]:
    results = axe_playwright.Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_login_page_is_accessible(open_page: OpenPage, circle: Circle) -> None:
    page, watch = open_page(None, "/accounts/login/")
    expect(page.locator("h1")).to_have_text("Log in")
    screenshot(page, "login")
    assert serious_violations(page) == []
    watch.assert_clean()


def test_room_list_is_accessible(open_page: OpenPage, circle: Circle) -> None:
    page, watch = open_page("mia", "/")
    expect(page.locator(".rooms")).to_contain_text("Evening circle")
    screenshot(page, "rooms")
    assert serious_violations(page) == []
    watch.assert_clean()


def test_room_pages_are_accessible(open_page: OpenPage, circle: Circle) -> None:
    from accounts.models import User
    from chat.models import Room

    User.objects.filter(pk=circle.bo.id).update(display_name="\u0645\u0631\u064a\u0645")  # Maryam
    Room.objects.filter(pk=circle.room_id).update(policy=LINKS_ALLOWED)
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    expect(ada.locator("#norms")).to_be_visible()
    screenshot(ada, "room-norms")
    assert serious_violations(ada) == []
    enter_room(ada)

    bo, _ = open_page("bo", f"/rooms/{circle.slug}/")
    enter_room(bo)
    say(ada, "Good evening. Today was a long day, but I made it here.")
    say(bo, "\u0645\u0633\u0627\u0621 \u0627\u0644\u062e\u064a\u0631 - glad you are here, Ada.")
    say(ada, "A very long word that must wrap: " + "Donaudampfschifffahrtsgesellschaft" * 4)
    say(bo, "Something that helped me: https://example.org/grounding (a page on grounding).")
    expect(ada.locator("#messages li.msg")).to_have_count(4)
    screenshot(ada, "room")
    assert serious_violations(ada) == []

    ada.click("#help-lines-button")
    expect(ada.locator("#support")).to_be_visible()
    screenshot(ada, "room-help-lines")
    ada.click("#support-close")

    ada.click("#break-button")
    expect(ada.locator("#break-dialog")).to_be_visible()
    expect(ada.locator("#break-dialog input[value='15']")).to_be_focused()
    screenshot(ada, "room-break-dialog")
    assert serious_violations(ada) == []
    ada.keyboard.press("Escape")
    expect(ada.locator("#break-button")).to_be_focused()  # focus comes back

    ada.locator("#messages li.msg", has_text="grounding").get_by_role("button").click()
    expect(ada.locator("#ask")).to_be_visible()
    expect(ada.locator("#ask-title")).to_have_text("Report a message")
    expect(ada.locator("#ask-text")).to_be_focused()
    screenshot(ada, "room-report-dialog")
    ada.fill("#ask-text", "This link feels like advice nobody asked for.")
    ada.click("#ask-ok")
    expect(ada.locator("#ask")).to_be_hidden()

    phone, _ = open_page("ada", f"/rooms/{circle.slug}/", viewport={"width": 360, "height": 740})
    enter_room(phone)
    expect(phone.locator("#messages li.msg")).to_have_count(4)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing forces sideways scrolling on a small phone
    screenshot(phone, "room-phone")
    ada_watch.assert_clean()


def test_console_and_projector_are_accessible(open_page: OpenPage, circle: Circle) -> None:
    ada, _ = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    say(ada, "Hello everyone.")
    mia, mia_watch = open_page("mia", f"/rooms/{circle.slug}/console/")
    enter_room(mia)
    expect(mia.locator("#participants")).to_contain_text("Ada")
    expect(mia.locator("#messages")).to_contain_text("Hello everyone.")
    screenshot(mia, "console")
    assert serious_violations(mia) == []

    projector, projector_watch = open_page("mia", f"/rooms/{circle.slug}/projector/")
    expect(projector.locator("#messages")).to_contain_text("Hello everyone.")
    say(ada, "Can everyone in the room see this?")
    expect(projector.locator("#messages")).to_contain_text("Can everyone in the room see this?")
    expect(projector.locator("#members, #participants")).to_have_count(0)
    screenshot(projector, "projector")
    assert serious_violations(projector) == []
    mia_watch.assert_clean()
    projector_watch.assert_clean()


def test_oncall_page_is_accessible(open_page: OpenPage, circle: Circle) -> None:
    from accounts.roles import supervisor_group
    from tests.factories import make_user

    make_user("sam", password=PASSWORD, display_name="Sam").groups.add(supervisor_group())
    sam, sam_watch = open_page("sam", "/review/oncall/")
    expect(sam.locator("#connection")).to_have_attribute("data-state", "open")
    expect(sam.locator("#flags-empty")).to_be_visible()
    assert serious_violations(sam) == []

    ada, _ = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    say(ada, "I can't go on. I want to kill myself tonight, I have the pills here.")
    card = sam.locator("#flags li.flag")
    expect(card).to_have_count(1)
    screenshot(sam, "oncall")
    assert serious_violations(sam) == []

    card.get_by_role("button", name="Dismiss…").click()
    expect(sam.locator("#ask")).to_be_visible()
    screenshot(sam, "oncall-dismiss-dialog")
    assert serious_violations(sam) == []
    say(ada, "I want to die.")  # grows the alert: the list is drawn again
    expect(card).to_contain_text("2 messages")
    sam.keyboard.press("Escape")
    expect(card.get_by_role("button", name="Dismiss…")).to_be_focused()  # focus comes back
    sam_watch.assert_clean()
