"""Nobody keeps reading a room they no longer belong to: open sockets close when a
membership, role, account, supervisor permission or login goes."""

from __future__ import annotations

import json

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.db import SessionStore

from accounts.roles import supervisor_group
from chat.models import Membership
from tests.chat.helpers import APP, connect, open_socket
from tests.factories import make_member, make_room, make_supervisor

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture
def ada(room):
    return make_member(room, "ada")


async def closed_with(client) -> int:
    frame = await client.next_of("__closed__")
    return frame["code"]


async def still_open(client) -> bool:
    """Ping: a pong means the socket is open (presence frames may come first)."""
    await client.send({"type": "ping"})
    return (await client.next_of("pong", "__closed__"))["type"] == "pong"


async def test_removing_a_membership_closes_that_rooms_sockets_only(room, ada):
    other_room = await db(make_room)("evening")
    await db(Membership.objects.create)(room=other_room, user=ada, norms_version_accepted=1)
    here, _ = await connect(ada, "circle")
    there, _ = await connect(ada, "evening")
    membership = await db(Membership.objects.get)(room=room, user=ada)
    await db(membership.delete)()
    assert await closed_with(here) == 4403
    assert await still_open(there)  # still a member there
    await there.close()
    # And the door stays shut.
    _client, first = await connect(ada, "circle", expect_hello=False)
    assert first == {"type": "__closed__", "code": 4403}


async def test_a_role_change_reconnects_with_the_new_role(room, ada):
    client, hello = await connect(ada, "circle")
    assert hello["you"]["role"] == "peer"
    membership = await db(Membership.objects.get)(room=room, user=ada)
    membership.role = Membership.Role.MODERATOR
    await db(membership.save)()
    assert await closed_with(client) == 4002  # not final: the client reconnects
    again, hello = await connect(ada, "circle")
    assert hello["you"]["role"] == "moderator"
    await again.close()


async def test_saving_a_membership_without_a_role_change_keeps_the_socket(room, ada):
    client, _ = await connect(ada, "circle")
    membership = await db(Membership.objects.get)(room=room, user=ada)
    membership.norms_version_accepted = 1
    await db(membership.save)()
    assert await still_open(client)
    await client.close()


async def test_deactivating_or_deleting_an_account_closes_every_socket(room, ada):
    bob = await db(make_member)(room, "bob")
    supervisor = await db(make_supervisor)()
    ada_socket, _ = await connect(ada, "circle")
    bob_socket, _ = await connect(bob, "circle")
    oncall, first = await open_socket(supervisor, "/ws/oncall/")
    assert first["type"] == "oncall"

    ada.is_active = False
    await db(ada.save)()
    assert await closed_with(ada_socket) == 4403
    await db(supervisor.delete)()
    assert await closed_with(oncall) == 4403
    assert await still_open(bob_socket)
    await bob_socket.close()


async def test_losing_the_supervisor_permission_closes_the_on_call_socket(room):
    supervisor = await db(make_supervisor)()
    oncall, _ = await open_socket(supervisor, "/ws/oncall/")
    group = await db(supervisor_group)()
    await db(group.user_set.remove)(supervisor)
    assert await closed_with(oncall) == 4002
    # A new socket loads the user afresh (permissions are cached on the instance).
    reloaded = await db(type(supervisor).objects.get)(pk=supervisor.pk)
    _again, first = await open_socket(reloaded, "/ws/oncall/")
    assert first == {"type": "__closed__", "code": 4403}


async def test_logging_out_closes_the_sockets_of_that_login_only(room, ada):
    first_login = await db(SessionStore)()
    await db(first_login.create)()
    second_login = await db(SessionStore)()
    await db(second_login.create)()
    laptop, _ = await connect(ada, "circle", session=first_login)
    phone, _ = await connect(ada, "circle", session=second_login)

    class Request:
        session = first_login

    await db(user_logged_out.send)(sender=type(ada), request=Request(), user=ada)
    assert await closed_with(laptop) == 4403
    assert await still_open(phone)
    await phone.close()


async def test_a_new_password_reconnects_every_socket_and_stale_logins_are_refused(room, ada):
    stale = await db(login_session)(ada)  # a login made with the old password
    client, _ = await connect(ada, "circle")
    ada.set_password("a-new-password-for-ada")
    await db(ada.save)()
    assert await closed_with(client) == 4002
    # The old login reconnects through the real auth middleware: the session's password
    # hash no longer matches, so it is an anonymous user, and refused.
    communicator = WebsocketCommunicator(
        AuthMiddlewareStack(APP),
        "/ws/rooms/circle/",
        headers=[(b"cookie", f"sessionid={stale.session_key}".encode())],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    closed = await communicator.receive_output(3)
    assert closed == {"type": "websocket.close", "code": 4403}
    fresh = await db(login_session)(ada)  # a login with the new password gets in
    communicator = WebsocketCommunicator(
        AuthMiddlewareStack(APP),
        "/ws/rooms/circle/",
        headers=[(b"cookie", f"sessionid={fresh.session_key}".encode())],
    )
    assert (await communicator.connect(timeout=5))[0]
    assert json.loads((await communicator.receive_output(3))["text"])["type"] == "hello"
    await communicator.disconnect()


def login_session(user) -> SessionStore:
    """A saved session as Django's login() leaves it, for the user's current password."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session
