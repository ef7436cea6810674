"""The frontend's pages over HTTP (no browser): who may open the console and projector,
the Content-Security-Policy, no inline script or style anywhere, the JavaScript catalog,
complete translations, and that server/ wires the frontend in."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from chat.models import Membership
from frontend.middleware import DIRECTIVES
from moderation.models import CrisisResource
from tests.factories import make_member, make_room, make_user

LOCALE = Path(__file__).resolve().parents[2] / "frontend" / "locale"
CSP_MIDDLEWARE = "frontend.middleware.ContentSecurityPolicyMiddleware"


def test_server_settings_and_urls_wire_in_the_frontend() -> None:
    """server/settings.py and server/urls.py must carry the frontend's two lines."""
    assert CSP_MIDDLEWARE in django_settings.MIDDLEWARE
    try:
        reverse("room-console", args=["circle"], urlconf="server.urls")
    except NoReverseMatch:
        pytest.fail('server/urls.py lacks path("", include("frontend.urls"))')


@pytest.fixture
def frontend_wired(settings: object) -> None:
    """Route and wrap as tests/browser/settings.py does, whether server/ does yet or not."""
    settings.ROOT_URLCONF = "tests.browser.urls"  # type: ignore[attr-defined]
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE:  # type: ignore[attr-defined]
        settings.MIDDLEWARE = [CSP_MIDDLEWARE, *settings.MIDDLEWARE]  # type: ignore[attr-defined]


@pytest.fixture
def circle(db: None) -> dict[str, User]:
    room = make_room("circle", country="DE")
    return {
        "peer": make_member(room, "peer"),
        "moderator": make_member(room, "moderator", role=Membership.Role.MODERATOR),
        "stranger": make_user("stranger"),
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("frontend_wired")
def test_html_pages_carry_the_policy_and_json_does_not(client: Client) -> None:
    page = client.get(reverse("login"))
    policy = page["Content-Security-Policy"]
    for directive in DIRECTIVES:
        assert directive in policy
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "connect-src 'self' ws://testserver;" in policy
    assert "Content-Security-Policy" not in client.get("/healthz")


@pytest.mark.parametrize(
    ("who", "page", "status"),
    [
        ("peer", "room", 200),
        ("peer", "room-console", 404),
        ("peer", "room-projector", 404),
        ("moderator", "room-console", 200),
        ("moderator", "room-projector", 200),
        ("stranger", "room", 404),
        ("stranger", "room-console", 404),
    ],
)
@pytest.mark.usefixtures("frontend_wired")
def test_console_and_projector_open_to_moderators_only(
    client: Client, circle: dict[str, User], who: str, page: str, status: int
) -> None:
    client.force_login(circle[who])
    assert client.get(reverse(page, args=["circle"])).status_code == status


INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"\sstyle=", re.I),
    re.compile(r"<style", re.I),
    re.compile(r"\son[a-z]+=", re.I),  # onclick= and friends
    re.compile(r"javascript:", re.I),
]


@pytest.mark.usefixtures("frontend_wired")
def test_pages_have_no_inline_script_or_style(client: Client, circle: dict[str, User]) -> None:
    pages = [client.get(reverse("login")).content.decode()]
    client.force_login(circle["moderator"])
    for name, args in [
        ("rooms", []),
        ("room", ["circle"]),
        ("room-console", ["circle"]),
        ("room-projector", ["circle"]),
    ]:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200
        pages.append(response.content.decode())
    for html in pages:
        for pattern in INLINE:
            assert not pattern.search(html), pattern.pattern
        assert re.search(r'<script defer src="/jsi18n/en/">', html) or "jsi18n" not in html


@pytest.mark.usefixtures("frontend_wired")
def test_room_page_offers_help_lines_before_any_alert(
    client: Client, circle: dict[str, User]
) -> None:
    CrisisResource.objects.all().delete()
    CrisisResource.objects.create(kind="emergency", name="Emergency services", phone="112")
    CrisisResource.objects.create(
        kind="support", name="TelefonSeelsorge", phone="0800 111 0 111", country="DE"
    )
    CrisisResource.objects.create(kind="support", name="Elsewhere line", phone="1", country="FR")
    client.force_login(circle["peer"])
    html = client.get(reverse("room", args=["circle"])).content.decode()
    lines = re.findall(r'href="tel:([0-9+]+)"', html)
    assert lines[:2] == ["08001110111", "112"]  # the room's country first; 112 after
    assert "Elsewhere line" not in html


@pytest.mark.django_db
@pytest.mark.usefixtures("frontend_wired")
def test_javascript_catalog_is_per_language_and_cacheable(client: Client) -> None:
    german = client.get("/jsi18n/de/")
    assert german.status_code == 200
    assert "Verbunden" in german.content.decode()
    assert "public" in german["Cache-Control"] and "max-age=3600" in german["Cache-Control"]
    czech = client.get("/jsi18n/cs/").content.decode()
    assert '"Connected": "P\\u0159ipojeno"' in czech  # the catalog escapes non-ASCII
    assert "(n >= 2 && n <= 4" in czech  # Czech plural forms
    assert client.get("/jsi18n/xx/").status_code == 404


def po_entries(path: Path) -> list[tuple[str, list[str]]]:
    """Read a .po file: (msgid, [msgstr or msgstr[n] ...]) per entry, header left out."""
    entries: list[tuple[str, list[str]]] = []
    msgid: str | None = None
    strings: list[str] = []
    current: str | None = None

    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}

    def unquote(line: str) -> str:
        quoted = line[line.index('"') + 1 : line.rindex('"')]
        return re.sub(r"\\(.)", lambda match: escapes[match.group(1)], quoted)

    def flush() -> None:
        if msgid:  # the header has an empty msgid
            entries.append((msgid, strings))

    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, strings, current = unquote(line), [], "id"
        elif line.startswith("msgid_plural"):
            current = "plural"
        elif line.startswith("msgstr"):
            strings.append(unquote(line))
            current = "str"
        elif line.startswith('"') and current == "id":
            msgid = (msgid or "") + unquote(line)
        elif line.startswith('"') and current == "str":
            strings[-1] += unquote(line)
    flush()
    return entries


@pytest.mark.parametrize("language", ["de", "fr", "cs"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_translations_are_complete_and_compiled(language: str, domain: str) -> None:
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    text = po.read_text("utf-8")
    assert "#, fuzzy" not in text
    entries = po_entries(po)
    assert entries
    untranslated = [msgid for msgid, strings in entries if not all(strings)]
    assert untranslated == []
    for msgid, strings in entries:  # placeholders survive translation
        wanted = sorted(re.findall(r"%\(\w+\)s", msgid))
        for string in strings:
            assert sorted(set(re.findall(r"%\(\w+\)s", string))) == sorted(set(wanted)), msgid
    with (po.with_suffix(".mo")).open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    for msgid, strings in entries:
        if len(strings) == 1:
            assert catalog.gettext(msgid) == strings[0], f"{po.name}.mo is stale: {msgid!r}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt")
@pytest.mark.parametrize("language", ["de", "fr", "cs"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_translation_files_pass_msgfmt_checks(language: str, domain: str) -> None:
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr
