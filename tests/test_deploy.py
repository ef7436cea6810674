"""The deployment files: docker-compose.yml, the Dockerfile, deploy/nginx.conf, and the
production settings' start-up checks (see docs/operations.md).

Nothing here needs Docker: `docker-compose config` validates offline, and the start-up
checks run `manage.py` in a subprocess with a production environment.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
NGINX_CONF = REPO / "deploy" / "nginx.conf"

# Variables that change what settings.py does; each test starts without any of them.
SETTINGS_VARS = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "REDIS_URL",
    "CHANNEL_LAYER_PREFIX",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
    "PEERCHAT_VAR_DIR",
    "DJANGO_SETTINGS_MODULE",
)

DAPHNE_LIMIT = 131072


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def production_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The current environment without peerchat's variables, then ``values``."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARS}
    env["PEERCHAT_VAR_DIR"] = str(tmp_path / "var")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(values)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


# --- docker-compose ----------------------------------------------------------------------


def compose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run docker-compose on the repo's file with no .env and none of its variables set."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (v1) is not installed: cannot validate docker-compose.yml")
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in interpolated and not key.startswith(("COMPOSE_", "DOCKER_"))
    }
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [binary, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def services_of(config: str) -> dict[str, str]:
    """Split `docker-compose config` output into {service name: its indented block}.

    PyYAML is not a dependency, and v1 has no JSON output; its canonical YAML puts each
    service at two spaces under `services:`, which is all this needs.
    """
    services: dict[str, str] = {}
    inside = False
    name = None
    for line in config.splitlines():
        if not line.startswith(" "):
            inside = line.rstrip() == "services:"
            name = None
            continue
        if not inside:
            continue
        match = re.fullmatch(r"  ([A-Za-z0-9_.-]+):\s*", line)
        if match:
            name = match.group(1)
            services[name] = ""
        elif name is not None:
            services[name] += line + "\n"
    return services


def key_value(block: str, key: str) -> str | None:
    """The scalar value of ``key`` at the first nesting level of a service block."""
    match = re.search(rf"^    {re.escape(key)}: (.+)$", block, re.MULTILINE)
    return match.group(1).strip().strip("'\"") if match else None


def test_compose_file_validates_without_env_file(tmp_path: Path) -> None:
    result = compose(tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    assert "WARN" not in result.stderr.upper(), result.stderr
    assert result.stdout == ""


def test_compose_has_two_app_replicas_and_a_proxy(tmp_path: Path) -> None:
    result = compose(tmp_path)
    assert result.returncode == 0, result.stderr
    services = services_of(result.stdout)
    assert {"postgres", "redis", "migrate", "app1", "app2", "proxy", "purge"} <= set(services)

    app1, app2 = services["app1"], services["app2"]
    assert app1 == app2, "app1 and app2 must be identical replicas"
    assert key_value(app1, "image") == key_value(services["migrate"], "image")
    assert "command:" not in app1, "the replicas run the image's CMD (daphne with limits)"
    assert "condition: service_completed_successfully" in app1
    assert "DEBUG: '0'" in app1

    proxy = services["proxy"]
    assert (key_value(proxy, "image") or "").startswith("nginx:")
    assert "published: 80" in proxy or "80:80" in proxy
    assert "/etc/nginx/nginx.conf:ro" in proxy
    assert "deploy/nginx.conf" in proxy

    purge = services["purge"]
    assert "purge_expired" in purge and "86400" in purge


def test_compose_secrets_fail_closed_without_env(tmp_path: Path) -> None:
    """With nothing set, SECRET_KEY and ALLOWED_HOSTS are empty (start-up then fails)
    rather than a placeholder that would run in production."""
    result = compose(tmp_path)
    assert result.returncode == 0, result.stderr
    app = services_of(result.stdout)["app1"]
    assert "SECRET_KEY: ''" in app
    assert "ALLOWED_HOSTS: ''" in app


# --- Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        instruction, _, arguments = pending.partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_cmd() -> list[str]:
    cmds = [args for instruction, args in dockerfile_instructions() if instruction == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    argv = json.loads(cmds[-1])
    assert isinstance(argv, list), "CMD must be in exec form (a JSON list)"
    return [str(part) for part in argv]


def test_dockerfile_cmd_runs_daphne_with_frame_limits() -> None:
    from daphne.cli import CommandLineInterface
    from django.conf import settings

    argv = dockerfile_cmd()
    assert argv[0] == "daphne"
    # The installed daphne must accept every flag.
    args = CommandLineInterface().parser.parse_args(argv[1:])
    assert args.websocket_max_message_size == DAPHNE_LIMIT
    assert args.websocket_max_frame_size == DAPHNE_LIMIT
    assert args.proxy_headers is True
    assert (args.host, args.port) == ("0.0.0.0", 8000)
    assert args.application == "server.asgi:application"
    # Clients must get the app's readable `too_large` error before daphne drops them.
    app_limit = settings.PEERCHAT["MAX_FRAME_BYTES"]
    assert isinstance(app_limit, int) and app_limit < DAPHNE_LIMIT


def test_dockerfile_runs_unprivileged_without_baked_secret() -> None:
    instructions = dockerfile_instructions()
    names = [instruction for instruction, _ in instructions]
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11-slim")
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert names.index("USER") < names.index("CMD")
    assert ("EXPOSE", "8000") in instructions
    for instruction, args in instructions:
        if instruction in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args, f"{instruction} {args}"
    assert any(i == "RUN" and "pip install" in a and " ." in a for i, a in instructions)
    assert any(i == "RUN" and "collectstatic" in a for i, a in instructions)
    health = [args for instruction, args in instructions if instruction == "HEALTHCHECK"]
    assert health and "/healthz" in health[0] and "python" in health[0]


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env"} <= ignored


# --- nginx -------------------------------------------------------------------------------


def test_nginx_proxies_websockets_to_every_app_replica(tmp_path: Path) -> None:
    conf = NGINX_CONF.read_text()
    upstream = re.search(r"upstream peerchat \{(.*?)\}", conf, re.DOTALL)
    assert upstream, "no `upstream peerchat` block"
    servers = set(re.findall(r"^\s*server (app\d+):8000\b", upstream.group(1), re.MULTILINE))
    assert {"app1", "app2"} <= servers
    assert re.search(r"^\s*least_conn;", upstream.group(1), re.MULTILINE)

    websocket = re.search(r"location /ws/ \{(.*?)\}", conf, re.DOTALL)
    assert websocket, "no `location /ws/` block"
    assert "proxy_pass http://peerchat;" in websocket.group(1)
    assert re.search(r"proxy_read_timeout \d{4,}s;", websocket.group(1))
    for line in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header Host $host;",
    ):
        assert line in conf, line
    # daphne believes the first X-Forwarded-For entry: a client must not be able to set it.
    assert "$proxy_add_x_forwarded_for" not in conf

    if shutil.which("docker-compose"):
        result = compose(tmp_path, "--services")
        replicas = {name for name in result.stdout.split() if re.fullmatch(r"app\d+", name)}
        assert replicas == servers, "nginx's upstream and the compose replicas differ"


# --- production settings -----------------------------------------------------------------


def test_check_deploy_reports_no_issues(tmp_path: Path) -> None:
    env = production_env(
        tmp_path, DEBUG="0", SECRET_KEY=random_secret_key(), ALLOWED_HOSTS="peerchat.example.org"
    )
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_missing_secret_key_stops_start_up(tmp_path: Path, value: str | None) -> None:
    env = production_env(tmp_path, DEBUG="0", ALLOWED_HOSTS="peerchat.example.org")
    if value is not None:
        env["SECRET_KEY"] = value
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production (DEBUG=0)" in result.stderr, result.stderr


@pytest.mark.parametrize("value", [None, "", " , "], ids=["unset", "empty", "blank-items"])
def test_missing_allowed_hosts_stops_start_up(tmp_path: Path, value: str | None) -> None:
    env = production_env(tmp_path, DEBUG="0", SECRET_KEY=random_secret_key())
    if value is not None:
        env["ALLOWED_HOSTS"] = value
    result = manage(env, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set in production (DEBUG=0)" in result.stderr, result.stderr


# --- the image's CMD and HEALTHCHECK against a real daphne -------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.integration
def test_image_cmd_serves_and_healthcheck_passes(tmp_path: Path) -> None:
    """Start daphne with the Dockerfile's CMD in production mode (SQLite, in-memory layer)
    and run the Dockerfile's HEALTHCHECK command against it."""
    port = free_port()
    argv = dockerfile_cmd()
    argv = [part.replace("0.0.0.0", "127.0.0.1") for part in argv]
    argv[argv.index("--port") + 1] = str(port)
    daphne = Path(sys.executable).parent / "daphne"
    argv[0] = str(daphne) if daphne.exists() else (shutil.which("daphne") or "daphne")

    health = [args for name, args in dockerfile_instructions() if name == "HEALTHCHECK"]
    command = health[0].split(" CMD ", 1)[1]
    assert command.startswith("python ")
    command = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    env = production_env(
        tmp_path, DEBUG="0", SECRET_KEY=random_secret_key(), ALLOWED_HOSTS="peerchat.example.org"
    )
    log = tmp_path / "daphne.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log_file, stderr=log_file)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"daphne did not start:\n{log.read_text()}")
                time.sleep(0.1)

        # Plain requests are refused (unknown Host) or redirected to https ...
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
        # ... and the HEALTHCHECK command, which says what the proxy would, gets a 200.
        check = subprocess.run(
            ["sh", "-c", f"{sys.executable} {command.removeprefix('python ')}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
