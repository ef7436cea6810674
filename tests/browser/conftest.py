"""Fixtures for browser tests: one real daphne process per test module (on the test
database, which must be PostgreSQL, and a real Redis), Chromium driven by Playwright's
sync API, members who log in through the login form.

Chromium is Debian's (/usr/bin/chromium); without it the tests are skipped, or fail when
PEERCHAT_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    expect,
)

from tests.conftest import need_service
from tests.integration.livechat import (
    REPO_ROOT,
    DaphneProcess,
    database_url,
    spawn_daphne,
    wait_healthy,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
PASSWORD = "pw-for-browser-tests-1"
ROOM = "circle"
NORMS = (
    "1. What is said here stays here.\n"
    "2. Speak from your own experience.\n"
    "3. No names, phone numbers or addresses.\n"
    "4. Be kind."
)

# The engine rates this `imminent`: it alerts the room's moderators and, at once, the
# supervisors on call.
CRISIS_MESSAGE = "I can't go on. I want to kill myself tonight, I have the pills here."

# Generous for a loaded CI machine, short enough that a missing frame fails quickly.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@functools.cache
def password_hash() -> str:
    """Hash the shared password once: each hash costs a third of a second."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


@pytest.fixture(scope="module")
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in this thread, which Django
    takes for async code; the tests' ORM calls are plain blocking calls all the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def daphne_server(
    django_db_setup: None,
    django_db_blocker: object,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DaphneProcess]:
    """One daphne process for the module, on the test database and Redis."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        need_service("browser tests need PostgreSQL: DATABASE_URL=postgres://...")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "REDIS_URL": redis_url,
            "CHANNEL_LAYER_PREFIX": f"br{uuid.uuid4().hex[:12]}",
            "DEBUG": "1",
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "tests.browser.settings",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    log_dir = tmp_path_factory.mktemp("daphne")
    server = spawn_daphne(
        env, log_dir, max_message_bytes=2 * int(settings.PEERCHAT["MAX_FRAME_BYTES"])
    )
    try:
        wait_healthy([server])
        yield server
    finally:
        server.stop()
        print(f"--- daphne on port {server.port} (exit {server.process.returncode}) ---")
        print(server.log()[-20000:])


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        need_service(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str


@dataclass(frozen=True)
class Circle:
    """The room `circle`: two peers who have not accepted the norms yet, and a moderator."""

    slug: str
    room_id: int
    ada: Person
    bo: Person
    mia: Person


def make_person(room: object, username: str, name: str, role: str) -> Person:
    from accounts.models import User
    from chat.models import Membership

    user = User.objects.create(username=username, display_name=name, password=password_hash())
    Membership.objects.create(room=room, user=user, role=role, norms_version_accepted=0)
    return Person(id=user.pk, username=username, name=name)


@pytest.fixture
def circle(daphne_server: DaphneProcess, transactional_db: None) -> Circle:
    from chat.models import Membership
    from moderation.models import CrisisResource
    from tests.factories import make_room

    room = make_room(
        ROOM,
        name="Evening circle",
        description="A drop-in room for the evening.",
        norms_text=NORMS,
    )
    CrisisResource.objects.create(
        kind=CrisisResource.Kind.EMERGENCY, name="Emergency services", phone="112", hours="24/7"
    )
    CrisisResource.objects.create(
        kind=CrisisResource.Kind.SUPPORT,
        name="Listening line",
        phone="116 123",
        hours="24/7",
        url="https://example.org/listening",
        priority=10,
    )
    return Circle(
        slug=room.slug,
        room_id=room.pk,
        ada=make_person(room, "ada", "Ada", Membership.Role.PEER),
        bo=make_person(room, "bo", "Bo", Membership.Role.PEER),
        mia=make_person(room, "mia", "Mia", Membership.Role.MODERATOR),
    )


class PageWatch:
    """Collect what must never happen on a page: dialogs (a script ran), CSP violations,
    uncaught errors."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("dialog", self.on_dialog)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self.on_console)

    def on_dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"a dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    def assert_clean(self) -> None:
        assert self.problems == []


OpenPage = Callable[..., tuple[Page, PageWatch]]


@pytest.fixture
def open_page(browser: Browser, daphne_server: DaphneProcess) -> Iterator[OpenPage]:
    """Log a member in through the login form in a new browser context and open a page:
    `page, watch = open_page("ada", "/rooms/circle/")`."""
    contexts: list[BrowserContext] = []

    def open_one(
        username: str | None, path: str, *, viewport: dict[str, int] | None = None
    ) -> tuple[Page, PageWatch]:
        context = browser.new_context(
            base_url=daphne_server.origin,
            viewport=viewport or {"width": 1280, "height": 900},
            locale="en-GB",
            timezone_id="Europe/Berlin",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page)
        if username:
            login(page, username)
        page.goto(path)
        return page, watch

    yield open_one
    for context in contexts:
        context.close()


def login(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def enter_room(page: Page) -> None:
    """Wait for the room; accept the norms if asked."""
    page.wait_for_selector("#norms:not([hidden]), #chat:not([hidden])")
    if page.is_visible("#norms"):
        page.click("#accept-norms")
    page.wait_for_selector("#chat:not([hidden])")


def enter_as(open_page: OpenPage, username: str, path: str) -> tuple[Page, PageWatch]:
    """Open a room page (or console) as a member and wait until they are in."""
    page, watch = open_page(username, path)
    enter_room(page)
    return page, watch


LINKS_ALLOWED = {"allow_links": True, "norms": {"link": "allow"}}


def say(page: Page, text: str) -> None:
    page.fill("#body", text)
    page.press("#body", "Enter")


def shown_text(locator: Locator) -> str:
    """Return the text a sighted reader sees: without the parts only screen readers get
    (the category after each highlighted span of a flagged message)."""
    return str(
        locator.evaluate(
            "node => { const copy = node.cloneNode(true);"
            " copy.querySelectorAll('.visually-hidden').forEach((hidden) => hidden.remove());"
            " return copy.textContent; }"
        )
    )


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
