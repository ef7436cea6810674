"""The room page in Chromium: two members talk, hostile text stays text, messages typed
offline arrive once and in order, the keyboard alone is enough, the page stays light."""

from __future__ import annotations

import gzip

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LINKS_ALLOWED,
    Circle,
    OpenPage,
    enter_as,
    enter_room,
    say,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

PAGE_BUDGET_BYTES = 60 * 1024


def message_texts(page: Page) -> list[str]:
    return page.locator("#messages li.msg .body").all_inner_texts()


def test_peer_and_moderator_talk_both_ways(open_page: OpenPage, circle: Circle) -> None:
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    expect(ada.locator("#norms")).to_be_visible()
    expect(ada.locator("#norms-text")).to_contain_text("What is said here stays here.")
    expect(ada.locator("#body")).to_be_hidden()  # no posting before the norms
    enter_room(ada)

    mia, mia_watch = open_page("mia", f"/rooms/{circle.slug}/console/")
    enter_room(mia)  # moderators are not asked to accept the norms
    expect(mia.locator("#members")).to_contain_text("Ada")
    expect(ada.locator("#members")).to_contain_text("Mia")

    say(ada, "Hello, is anyone here tonight?")
    expect(mia.locator("#messages")).to_contain_text("Hello, is anyone here tonight?")
    expect(ada.locator("#messages li.own .state")).to_have_text("Sent")

    say(mia, "Hi Ada, welcome. I am here.")
    expect(ada.locator("#messages")).to_contain_text("Hi Ada, welcome. I am here.")
    expect(ada.locator("#messages li", has_text="Hi Ada").locator(".badge")).to_have_text(
        "moderator"
    )
    assert message_texts(ada) == message_texts(mia)

    # A break shows in the others' presence list.
    ada.click("#break-button")
    ada.check("input[name=minutes][value='15']")
    ada.click("#break-form button[type=submit]")
    expect(ada.locator("#break-banner")).to_be_visible()
    expect(mia.locator("#members li", has_text="Ada")).to_contain_text("on a break until")
    ada.click("#break-back")
    expect(mia.locator("#members li", has_text="Ada")).not_to_contain_text("on a break")

    ada_watch.assert_clean()
    mia_watch.assert_clean()


XSS_MESSAGES = [
    "<script>alert('m1')</script>",
    "<img src=x onerror=\"alert('m2')\">",
    "javascript:alert('m3')",
    "\"><svg onload=alert('m4')>",
    "http://example.org/?q=\"><img src=x onerror=alert('m5')>",
]


def test_hostile_messages_and_names_show_as_text(open_page: OpenPage, circle: Circle) -> None:
    from accounts.models import User
    from chat.models import Room

    hostile_name = "<img src=x onerror=alert(9)>"
    User.objects.filter(pk=circle.bo.id).update(display_name=hostile_name)
    # Links are held for a moderator by default; this room lets them through.
    Room.objects.filter(pk=circle.room_id).update(policy=LINKS_ALLOWED)

    bo, bo_watch = open_page("bo", f"/rooms/{circle.slug}/")
    enter_room(bo)
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    expect(ada.locator("#members")).to_contain_text(hostile_name)

    for text in XSS_MESSAGES:
        say(bo, text)
    expect(ada.locator("#messages li.msg")).to_have_count(len(XSS_MESSAGES))
    assert message_texts(ada) == XSS_MESSAGES
    expect(ada.locator("#messages li.msg bdi.author").first).to_have_text(hostile_name)

    # Nothing became markup: no images, scripts or svg; the only link is the http one.
    for page in (ada, bo):
        assert page.locator("#messages img, #messages script, #messages svg").count() == 0
        assert page.locator("#members img").count() == 0
    links = ada.locator("#messages a")
    expect(links).to_have_count(1)
    assert links.get_attribute("href").startswith("http://example.org/")
    assert links.get_attribute("rel") == "noopener noreferrer nofollow"
    # Typing by a hostile name shows as text too (typing is sent at most every 3 s).
    bo.wait_for_timeout(3100)
    bo.type("#body", "x")
    expect(ada.locator("#typing")).to_contain_text(f"{hostile_name} is typing")
    ada.wait_for_timeout(300)
    ada_watch.assert_clean()
    bo_watch.assert_clean()


def test_messages_typed_offline_arrive_once_in_order(open_page: OpenPage, circle: Circle) -> None:
    from chat.models import Message

    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    bo, _ = open_page("bo", f"/rooms/{circle.slug}/")
    enter_room(bo)
    say(ada, "before the tunnel")
    expect(bo.locator("#messages")).to_contain_text("before the tunnel")
    expect(ada.locator("#outbox li")).to_have_count(0)  # acknowledged before the tunnel

    ada.context.set_offline(True)
    expect(ada.locator("#connection")).to_contain_text("offline")
    say(ada, "first, typed offline")
    say(ada, "second, typed offline")
    expect(ada.locator("#outbox li")).to_have_count(2)
    expect(ada.locator("#outbox li").first).to_contain_text("Waiting for the connection")
    ada.wait_for_timeout(1500)
    assert "typed offline" not in bo.locator("#messages").inner_text()

    ada.context.set_offline(False)
    expect(bo.locator("#messages li.msg")).to_have_count(3)
    expect(ada.locator("#outbox li")).to_have_count(0)
    assert message_texts(bo) == [
        "before the tunnel",
        "first, typed offline",
        "second, typed offline",
    ]
    assert message_texts(ada) == message_texts(bo)
    expect(ada.locator("#messages li.own .state")).to_have_text(["Sent", "Sent", "Sent"])
    expect(ada.locator("#connection")).to_contain_text("Connected")
    assert Message.objects.filter(body__endswith="typed offline").count() == 2
    ada_watch.assert_clean()


def test_messages_waiting_to_be_sent_survive_a_reload(open_page: OpenPage, circle: Circle) -> None:
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    ada.context.set_offline(True)
    expect(ada.locator("#connection")).to_contain_text("offline")
    say(ada, "kept on this phone")
    ada.context.set_offline(False)
    ada.reload()
    enter_room(ada)
    expect(ada.locator("#messages li.msg")).to_have_count(1)
    expect(ada.locator("#messages")).to_contain_text("kept on this phone")
    ada_watch.assert_clean()


def test_keyboard_alone_is_enough_to_join_and_send(open_page: OpenPage, circle: Circle) -> None:
    bo, _ = open_page("bo", f"/rooms/{circle.slug}/")
    enter_room(bo)
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    expect(ada.locator("#norms")).to_be_visible()
    # Focus starts at the norms; Tab reaches "I accept".
    for _ in range(10):
        if ada.evaluate("document.activeElement.id") == "accept-norms":
            break
        ada.keyboard.press("Tab")
    ada.keyboard.press("Enter")
    expect(ada.locator("#body")).to_be_focused()
    ada.keyboard.type("Typed and sent without a mouse")
    ada.keyboard.press("Enter")
    expect(bo.locator("#messages")).to_contain_text("Typed and sent without a mouse")
    # The help lines open and close from the keyboard, and focus comes back.
    ada.focus("#help-lines-button")
    ada.keyboard.press("Enter")
    expect(ada.locator("#support")).to_be_visible()
    expect(ada.locator("#support-title")).to_be_focused()
    ada.keyboard.press("Tab")
    ada.keyboard.press("Tab")
    ada.focus("#support-close")
    ada.keyboard.press("Enter")
    expect(ada.locator("#support")).to_be_hidden()
    expect(ada.locator("#help-lines-button")).to_be_focused()
    ada_watch.assert_clean()


def test_help_lines_are_always_there_with_tap_to_call(open_page: OpenPage, circle: Circle) -> None:
    ada, _ = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    ada.click("#help-lines-button")
    calls = ada.locator("#support a.call")
    expect(calls.first).to_have_attribute("href", "tel:116123")
    expect(ada.locator("#support a[href='tel:112']").first).to_be_visible()


def test_room_page_first_load_fits_the_budget(open_page: OpenPage, circle: Circle) -> None:
    """Every response of the first load, gzip-compressed as whitenoise and the proxy
    serve them, adds up to at most 60 KB."""
    ada, _ = open_page("ada", "/")  # logged in; the room page is not loaded yet
    bodies: dict[str, bytes] = {}
    encodings: dict[str, str] = {}

    def record(response: object) -> None:
        url = response.url  # type: ignore[attr-defined]
        if url.startswith("ws"):
            return
        bodies[url] = response.body()  # type: ignore[attr-defined]
        encodings[url] = response.headers.get("content-encoding", "")  # type: ignore[attr-defined]

    # A first visit: nothing from the login page's cache counts as free.
    cdp = ada.context.new_cdp_session(ada)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    ada.on("response", record)
    ada.goto(f"/rooms/{circle.slug}/")
    expect(ada.locator("#connection")).to_have_text("Connected")
    ada.wait_for_load_state("networkidle")
    compressed = {
        url: len(body) if encodings[url] else len(gzip.compress(body, 9))
        for url, body in bodies.items()
    }
    total = sum(compressed.values())
    raw = sum(len(body) for body in bodies.values())
    print(f"room page first load: {len(bodies)} responses, {raw} B raw, {total} B gzipped")
    for url, size in sorted(compressed.items(), key=lambda item: -item[1]):
        print(f"  {size:>6} B  {url}")
    assert any(url.endswith("room.js") for url in bodies)
    assert any(url.endswith("base.css") for url in bodies)
    assert any("/jsi18n/" in url for url in bodies)
    assert total <= PAGE_BUDGET_BYTES
    screenshot(ada, "room-norms")


def test_member_picks_a_language_and_the_room_follows(open_page: OpenPage, circle: Circle) -> None:
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    ada.select_option("#language", "de")
    ada.click("form.language button[type=submit]")
    expect(ada.locator("html")).to_have_attribute("lang", "de")
    expect(ada.locator("#help-lines-button")).to_have_text("Hilfetelefone")  # template
    expect(ada.locator("#connection")).to_have_text("Verbunden")  # JavaScript catalog
    say(ada, "Guten Abend")
    expect(ada.locator("#messages li.own .state")).to_have_text("Gesendet")
    time_text = ada.locator("#messages li.own time").inner_text()
    assert "AM" not in time_text and "PM" not in time_text  # 24-hour German time
    screenshot(ada, "room-german")
    ada.select_option("#language", "cs")
    ada.click("form.language button[type=submit]")
    expect(ada.locator("#connection")).to_have_text("Připojeno")
    ada_watch.assert_clean()


def test_earlier_messages_load_on_request_in_order(open_page: OpenPage, circle: Circle) -> None:
    import uuid

    from chat.models import Message, Room, Session

    room = Room.objects.get(pk=circle.room_id)
    session = Session.objects.create(room=room)
    Message.objects.bulk_create(
        Message(
            room=room,
            session=session,
            author_id=circle.bo.id,
            client_id=uuid.uuid4(),
            body=f"message number {seq}",
            seq=seq,
        )
        for seq in range(1, 61)
    )
    Room.objects.filter(pk=room.pk).update(last_seq=60)
    ada, ada_watch = open_page("ada", f"/rooms/{circle.slug}/")
    enter_room(ada)
    expect(ada.locator("#messages li.msg")).to_have_count(50, timeout=10_000)
    assert ada.evaluate("scrollY") > 0  # the newest are in view, at the bottom
    ada.locator("#earlier").scroll_into_view_if_needed()  # scrolling up loads more
    expect(ada.locator("#messages li.msg")).to_have_count(60)
    assert message_texts(ada) == [f"message number {seq}" for seq in range(1, 61)]
    expect(ada.locator("#earlier")).to_be_hidden()
    ada_watch.assert_clean()


def test_a_message_whose_live_frame_was_lost_still_arrives(
    open_page: OpenPage, circle: Circle
) -> None:
    import uuid

    from django.db import transaction

    from chat.actions import take_next_seq
    from chat.models import Message, Session

    ada, ada_watch = enter_as(open_page, "ada", f"/rooms/{circle.slug}/")
    bo, bo_watch = enter_as(open_page, "bo", f"/rooms/{circle.slug}/")
    say(bo, "first, seen live")
    expect(ada.locator("#messages li.msg")).to_have_count(1)
    # Stored with the room's next seq, but its live frame never reaches anyone: what a
    # message dropped between server processes looks like to the clients.
    with transaction.atomic():
        Message.objects.create(
            room_id=circle.room_id,
            session=Session.objects.get(room_id=circle.room_id, closed_at__isnull=True),
            author_id=circle.bo.id,
            client_id=uuid.uuid4(),
            body="second, its frame lost",
            seq=take_next_seq(circle.room_id),
        )
    say(bo, "third, seen live")
    # The gap before the third message makes the page ask for what it missed.
    expect(ada.locator("#messages li.msg")).to_have_count(3, timeout=10_000)
    assert message_texts(ada) == ["first, seen live", "second, its frame lost", "third, seen live"]
    ada_watch.assert_clean()
    bo_watch.assert_clean()
