"""Fixtures for the live moderation tests: a room with crisis resources, its members."""

from __future__ import annotations

import pytest

from chat.models import Membership
from moderation.resources import load_seed_resources
from tests.factories import make_member, make_room


@pytest.fixture
def room():
    load_seed_resources()
    return make_room("circle")


@pytest.fixture
def peer(room):
    return make_member(room, "peer")


@pytest.fixture
def other(room):
    return make_member(room, "other")


@pytest.fixture
def mod(room):
    return make_member(room, "mod", role=Membership.Role.MODERATOR)
