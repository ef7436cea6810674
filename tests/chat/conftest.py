"""Fixtures for the websocket tests: the room they talk in."""

from __future__ import annotations

import pytest

from tests.factories import make_room


@pytest.fixture
def room():
    return make_room("circle")
