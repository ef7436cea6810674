"""Fixtures for the review pages: one room with a peer, a moderator and a supervisor."""

from __future__ import annotations

import pytest
from django.test import Client

from chat.models import Membership
from tests.factories import make_member, make_room, make_supervisor


@pytest.fixture
def room(db):
    return make_room("circle")


@pytest.fixture
def peer(room):
    return make_member(room, "peer1")


@pytest.fixture
def moderator(room):
    return make_member(room, "mod1", role=Membership.Role.MODERATOR)


@pytest.fixture
def supervisor(db):
    return make_supervisor("super")


@pytest.fixture
def supervisor_client(supervisor):
    """A client logged in as the supervisor, apart from the `client` fixture."""
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash test passwords quickly: these tests make many users and test no hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
