"""Shared fixtures: services (Redis, PostgreSQL), isolated live state, users and rooms.

Where REDIS_URL / DATABASE_URL are unset, tests that need Redis start a throwaway
redis-server if the binary exists; PostgreSQL tests need DATABASE_URL. Otherwise such
tests are skipped with the reason, or fail when PEERCHAT_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from server.layers import channel_layers

REQUIRE_SERVICES = os.environ.get("PEERCHAT_REQUIRE_SERVICES") == "1"


def need_service(reason: str) -> None:
    """Skip (or fail, in CI) a test whose service is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server: REDIS_URL, or a throwaway redis-server on a free port."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        if not _redis_answers(url):
            need_service(f"REDIS_URL is set but Redis does not answer at {url}")
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        need_service("no REDIS_URL and no redis-server binary")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _redis_answers(url):
        if time.monotonic() > deadline:
            process.kill()
            need_service("redis-server did not start")
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(5)


@pytest.fixture
def postgres(django_db_blocker: object) -> None:
    """Require that the test database is PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        need_service("PostgreSQL tests need DATABASE_URL=postgres://...")


def _layer_settings(redis: str | None) -> dict[str, object]:
    """The production layer (server.layers) on a fresh prefix, or in memory."""
    return channel_layers(
        redis or "",
        prefix=f"t{uuid.uuid4().hex[:12]}",
        backend=os.environ.get("CHANNEL_LAYER", "pubsub"),
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """pytest-django's test database, and at the end the websocket database threads'
    connections closed first: the database cannot be dropped while they are open.

    Async tests run ``database_sync_to_async`` calls outside ``run_db`` on asgiref's
    one sync thread, which keeps a connection too.
    """
    yield
    from asgiref.sync import SyncToAsync
    from django import db

    from chat.events import close_database_threads

    close_database_threads()
    SyncToAsync.single_thread_executor.submit(db.connections.close_all).result()


@pytest.fixture(scope="session", autouse=True)
def loaded_engine(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Load and compile the moderation lexicons once, before any test times a first message.

    The compiled matchers go to a compile cache for the session, so that the servers
    and commands the tests start (they inherit the environment) load them instead of
    compiling them again (seconds each, most of it Hyperscan's compiler).
    """
    from moderation.engine import default_engine

    if not os.environ.get("PEERCHAT_ENGINE_CACHE_DIR"):
        os.environ["PEERCHAT_ENGINE_CACHE_DIR"] = str(tmp_path_factory.mktemp("engine-cache"))
    default_engine()


@pytest.fixture(autouse=True)
def isolated_live_state(settings: object) -> Iterator[None]:
    """Give every test its own channel layer and room state (a fresh Redis prefix)."""
    from chat.state import reset_room_state

    settings.CHANNEL_LAYERS = _layer_settings(settings.REDIS_URL or None)  # type: ignore[attr-defined]
    reset_room_state()
    yield
    reset_room_state()


@pytest.fixture
def redis_layer(settings: object, redis_url: str) -> Iterator[str]:
    """Use a real Redis for the channel layer and room state in this test."""
    from chat.state import reset_room_state

    settings.REDIS_URL = redis_url  # type: ignore[attr-defined]
    settings.CHANNEL_LAYERS = _layer_settings(redis_url)  # type: ignore[attr-defined]
    reset_room_state()
    yield redis_url
    reset_room_state()
