"""Pages over HTTP: log in, sign up, room list, health, and staff HTML cleaning."""

import pytest
from django.urls import reverse

from accounts.models import User
from chat.models import Membership
from server.layers import channel_layers
from tests.factories import make_member, make_room, make_user

pytestmark = pytest.mark.django_db


def test_login_page_renders_and_peer_can_log_in(client):
    room = make_room("welcome")
    make_member(room, "peer1")
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(reverse("login"), {"username": "peer1", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response["Location"] == reverse("rooms")
    rooms = client.get(reverse("rooms"))
    assert b"Welcome" in rooms.content


def test_room_list_needs_login(client):
    response = client.get(reverse("rooms"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_session_cookie_is_http_only(client):
    make_user("peer1")
    response = client.post(reverse("login"), {"username": "peer1", "password": "pw-for-tests-1"})
    assert response.cookies["sessionid"]["httponly"]


def test_sign_up_with_a_pseudonym_logs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "river",
            "display_name": "Quiet River",
            "language": "en",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="river")
    assert user.display_name == "Quiet River" and user.email == ""
    assert client.get(reverse("rooms")).status_code == 200


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("x", "name_length"),
        ("x" * 33, "name_length"),
        ("evil\u202eman", "name_characters"),
        ("zero\u200bwidth", "name_characters"),
        ("tab\there", "name_characters"),
        ("QUIET river", "name_taken"),
        ("M\u043ed Anna", "name_confusable"),  # Cyrillic o
        ("M0d Anna", "name_confusable"),
        ("mod anna", "name_taken"),
    ],
)
def test_sign_up_refuses_bad_or_confusable_names(client, name, code):
    make_user("river", display_name="Quiet River")
    room = make_room("circle")
    make_member(room, "anna", role=Membership.Role.MODERATOR)
    User.objects.filter(username="anna").update(display_name="Mod Anna", display_key="mod anna")
    response = client.post(
        reverse("signup"),
        {
            "username": "newcomer",
            "display_name": name,
            "language": "en",
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()["display_name"]
    assert [e.code for e in errors] == [code]
    assert not User.objects.filter(username="newcomer").exists()


def test_room_description_html_is_cleaned_with_nh3(client):
    room = make_room(
        "circle",
        description='<b>Hi</b><script>alert(1)</script><a href="javascript:x()">x</a>',
    )
    user = make_member(room, "peer1")
    client.force_login(user)
    html = client.get(reverse("rooms")).content.decode()
    assert "<b>Hi</b>" in html
    assert "<script>alert(1)" not in html and "javascript:" not in html


def test_room_page_is_404_for_non_members_and_missing_rooms(client):
    make_room("circle")
    client.force_login(make_user("stranger"))
    assert client.get(reverse("room", args=["circle"])).status_code == 404
    assert client.get(reverse("room", args=["nowhere"])).status_code == 404


def test_healthz_reports_database_and_channel_layer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


@pytest.mark.parametrize("backend", ["pubsub", "redis"])
def test_healthz_is_503_when_the_channel_layer_is_down(client, settings, backend):
    down = "redis://127.0.0.1:1/0"
    settings.CHANNEL_LAYERS = channel_layers(down, prefix="down", backend=backend)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["channel_layer"] == "down"


def test_seed_demo_is_idempotent_and_makes_the_demo_logins():
    from django.core.management import call_command

    call_command("seed_demo", password="pw-demo-1")
    call_command("seed_demo", password="pw-demo-1")
    welcome = Membership.objects.filter(room__slug="welcome")
    assert sorted(welcome.values_list("user__username", "role")) == [
        ("mod1", "moderator"),
        ("peer1", "peer"),
        ("peer2", "peer"),
    ]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.has_perm("accounts.review_sessions")
    assert User.objects.get(username="peer1").check_password("pw-demo-1")
