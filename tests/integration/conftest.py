"""Fixtures for integration tests: real daphne processes on the test database and a real
Redis, members who log in through the real login form, and websocket peers."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.livechat import (
    PASSWORD,
    Circle,
    DaphneProcess,
    Member,
    OpenPeer,
    Peer,
    StartDaphne,
    TcpProxy,
    database_url,
    open_socket,
    spawn_daphne,
    wait_healthy,
)

ROOM = "circle"


@functools.cache
def password_hash() -> str:
    """Hash the shared password once: each hash costs a third of a second."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


@pytest.fixture
def live_database_url(postgres: None, transactional_db: None) -> str:
    """The URL of the test database pytest-django made (rows must be committed to be seen)."""
    from django.db import connection

    return database_url(connection.settings_dict)


@pytest.fixture
def layer_prefix(redis_url: str) -> Iterator[str]:
    """A channel-layer and room-state prefix of this test's own; its keys go at the end."""
    import redis

    prefix = f"it{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def start_daphne(
    live_database_url: str, redis_url: str, layer_prefix: str, tmp_path: Path
) -> Iterator[StartDaphne]:
    """Start real daphne processes: `start_daphne(2)`, or with `database_url=` of a proxy.

    Every process of one test shares the database, Redis and the layer prefix. They are
    terminated at teardown, before pytest-django empties the database, and their output
    is printed so that a failing test shows it.
    """
    from django.conf import settings

    started: list[DaphneProcess] = []
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DATABASE_URL": live_database_url,
            "REDIS_URL": redis_url,
            "CHANNEL_LAYER_PREFIX": layer_prefix,
            "DEBUG": "1",
            # Every process must sign sessions with the same key.
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "PYTHONUNBUFFERED": "1",
        }
    )
    max_message_bytes = 2 * int(settings.PEERCHAT["MAX_FRAME_BYTES"])

    def start(count: int = 1, *, database_url: str | None = None) -> list[DaphneProcess]:
        process_env = dict(env, DATABASE_URL=database_url or live_database_url)
        servers = [
            spawn_daphne(process_env, tmp_path, max_message_bytes=max_message_bytes)
            for _ in range(count)
        ]
        started.extend(servers)
        wait_healthy(servers)
        return servers

    yield start
    for server in started:
        server.stop()
    for server in started:
        print(f"--- daphne on port {server.port} (exit {server.process.returncode}) ---")
        print(server.log()[-20000:])


@pytest.fixture
def daphne_pair(start_daphne: StartDaphne) -> list[DaphneProcess]:
    """Two daphne processes that share the database and the channel layer."""
    return start_daphne(2)


@pytest.fixture
def db_proxy(live_database_url: str) -> Iterator[TcpProxy]:
    """A TCP proxy in front of PostgreSQL that a test can cut and restore."""
    from django.db import connection

    host = connection.settings_dict.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        pytest.skip("the database proxy needs PostgreSQL on TCP, not a unix socket")
    proxy = TcpProxy(host, int(connection.settings_dict.get("PORT") or 5432))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_database_url(db_proxy: TcpProxy) -> str:
    from django.db import connection

    return database_url(connection.settings_dict, host="127.0.0.1", port=db_proxy.port)


@pytest.fixture
def circle(transactional_db: None) -> Circle:
    from accounts.models import User
    from chat.models import Membership
    from tests.factories import make_room

    room = make_room(ROOM)
    members = []
    for username, name in [("ada", "Ada"), ("bo", "Bo")]:
        user = User.objects.create(username=username, display_name=name, password=password_hash())
        Membership.objects.create(room=room, user=user, norms_version_accepted=0)
        members.append(Member(id=user.pk, username=username, name=name))
    return Circle(slug=room.slug, room_id=room.pk, ada=members[0], bo=members[1])


@pytest.fixture
async def open_peer(start_daphne: StartDaphne, circle: Circle) -> AsyncIterator[OpenPeer]:
    """Open websocket peers in the circle (`await open_peer(server, session_id, "ada")`);
    every one still open is closed at teardown, before the daphne processes stop."""
    peers: list[Peer] = []

    async def open_one(
        server: DaphneProcess, session_id: str, name: str, *, enter: bool = True
    ) -> Peer:
        peer = Peer(await open_socket(server, circle.slug, session_id), name)
        peers.append(peer)
        if enter:
            await peer.enter()
        return peer

    yield open_one
    for peer in peers:
        try:
            await peer.close()
        except Exception:  # a dropped socket may fail to close; that is fine
            pass
