"""Smoke test of the load harness (bench/load.py): a few clients for about 3 seconds
against a real daphne on the test database and a real Redis. It asserts that nothing is
lost, not how fast anything is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

pytestmark = [pytest.mark.integration, pytest.mark.redis]

CLIENTS = 6
ROOMS = 2


def database_url(settings_dict: dict[str, Any]) -> str:
    """A postgres:// URL for the database Django is connected to (pytest-django's)."""
    user = urllib.parse.quote(settings_dict.get("USER") or "", safe="")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        host = urllib.parse.quote(host, safe="")
    port = int(settings_dict.get("PORT") or 5432)
    name = urllib.parse.quote(str(settings_dict["NAME"]), safe="")
    return f"postgres://{auth}{host}:{port}/{name}"


@pytest.fixture
def layer_prefix(redis_url: str) -> Iterator[str]:
    """A channel-layer prefix of this test's own; its keys are deleted at the end."""
    import redis

    prefix = f"smoke{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def server_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"ALLOWED_HOSTS": "127.0.0.1", "PYTHONUNBUFFERED": "1", **extra})
    return env


def run_load(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "bench" / "load.py"),
            "--clients",
            str(CLIENTS),
            "--rooms",
            str(ROOMS),
            "--rate",
            "1",
            "--warmup",
            "0.5",
            "--duration",
            "3",
            "--drain",
            "15",
            *args,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_peerchat_load_loses_nothing(
    postgres: None, redis_url: str, layer_prefix: str, tmp_path: Path
) -> None:
    from django.conf import settings
    from django.db import connection

    from bench.servers import spawn
    from bench.setup_users import setup

    users_file = tmp_path / "users.json"
    users_file.write_text(json.dumps(setup(CLIENTS, ROOMS, prefix="smoke")))
    env = server_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=redis_url,
        CHANNEL_LAYER_PREFIX=layer_prefix,
        SECRET_KEY=settings.SECRET_KEY,  # the sessions setup() made are signed with it
        DEBUG="1",
    )
    # The product's own settings: 3.5 s at 1 message/s stays inside the send-rate burst.
    server = spawn("peerchat", env=env, settings_module="server.settings", log_dir=tmp_path)
    try:
        result = run_load(
            "--target",
            "peerchat",
            "--url",
            server.url,
            "--users-file",
            str(users_file),
            "--server-pid",
            str(server.pid),
        )
    finally:
        server.stop()
    context = json.dumps(result) + "\n" + server.log()[-3000:]
    assert result["connected"] == CLIENTS, context
    assert result["sent"] >= CLIENTS * 3, context
    assert result["errors"] == {}, context
    assert result["acked"] == result["sent"], context
    # Every acked message, counted once for each member of its room (3 per room).
    assert result["expected_deliveries"] == result["acked"] * (CLIENTS // ROOMS), context
    assert result["lost"] == 0, context
    assert result["dropped"] == {}, context
    assert result["latency_ms"]["n"] > 0, context


def test_baseline_load_loses_nothing(redis_url: str, layer_prefix: str, tmp_path: Path) -> None:
    from bench.servers import spawn

    env = server_env(REDIS_URL=redis_url, CHANNEL_LAYER_PREFIX=layer_prefix)
    server = spawn("baseline", env=env, log_dir=tmp_path)
    try:
        result = run_load(
            "--target", "baseline", "--url", server.url, "--server-pid", str(server.pid)
        )
    finally:
        server.stop()
    context = json.dumps(result) + "\n" + server.log()[-3000:]
    assert result["connected"] == CLIENTS, context
    assert result["sent"] >= CLIENTS * 3, context
    assert result["expected_deliveries"] == result["sent"] * (CLIENTS // ROOMS), context
    assert result["lost"] == 0, context
