"""Start and watch one daphne process for a bench run (peerchat or the baseline).

Used by bench/sweep.py, bench/idle.py and tests/test_bench_smoke.py. Everything binds to
127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The Makefile's DAPHNE_LIMITS, for both targets.
DAPHNE_LIMITS = ["--websocket-max-message-size", "131072", "--websocket-max-frame-size", "131072"]
APPS = {
    "peerchat": ("server.asgi:application", "bench.peerchat_settings"),
    "baseline": ("bench.baseline.asgi:application", "bench.baseline.settings"),
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_binary(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed in this environment")
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far (all its threads)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


@dataclass
class Server:
    target: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    pid: int  # the daphne process (a child of py-spy when profiled)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (py-spy then writes its profile), SIGKILL after `timeout`."""
        if self.process.poll() is None:
            if self.pid != self.process.pid:
                # Profiled: stop daphne; py-spy writes its file and exits after it.
                try:
                    os.kill(self.pid, 15)
                except ProcessLookupError:
                    pass
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def _ready(target: str, port: int) -> bool:
    if target == "peerchat":
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def spawn(
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    port: int = 0,
    log_dir: Path | None = None,
    settings_module: str | None = None,
    app: str | None = None,
    profile: Path | None = None,
    profile_rate: int = 100,
    timeout: float = 60.0,
) -> Server:
    """Start daphne for `target` and wait until it answers; raise with its log if not.

    `profile`: run daphne under `py-spy record` (raw collapsed stacks, all threads, GIL
    idle excluded) written to that path when the server stops.
    """
    default_app, default_settings = APPS[target]
    app = app or default_app
    port = port or free_port()
    log_dir = log_dir or REPO_ROOT / "bench" / "out"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"daphne-{target}-{port}.log"
    process_env = dict(os.environ if env is None else env)
    process_env.setdefault("DJANGO_SETTINGS_MODULE", settings_module or default_settings)
    if settings_module:
        process_env["DJANGO_SETTINGS_MODULE"] = settings_module
    if target == "peerchat" and "DEBUG" not in process_env:
        # Production mode, as deployed: DEBUG=1 would log every SQL statement of every
        # connection (CPU per message, and megabytes of memory with many sockets). The
        # key is the checkout's, which setup_users.py signed the sessions with.
        process_env |= {
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
        }
        process_env.setdefault("SECRET_KEY", (REPO_ROOT / "var" / "secret_key").read_text().strip())
    process_env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO_ROOT), process_env.get("PYTHONPATH", "")] if p
    )
    command = [venv_binary("daphne"), "-b", "127.0.0.1", "-p", str(port), *DAPHNE_LIMITS, app]
    if profile is not None:
        command = [
            venv_binary("py-spy"),
            "record",
            "--format",
            "raw",
            "--threads",
            "--rate",
            str(profile_rate),
            "--output",
            str(profile),
            "--",
            *command,
        ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(target, port, process, log_path, process.pid)
    deadline = time.monotonic() + timeout
    while not _ready(target, port):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop(5)
            raise RuntimeError(f"daphne ({target}) did not start:\n{server.log()[-5000:]}")
        time.sleep(0.1)
    if profile is not None:
        children = _children(process.pid)
        if not children:
            server.stop(5)
            raise RuntimeError("py-spy started no daphne child")
        server.pid = children[0]
    return server


# nginx in front of several daphnes, as deploy/nginx.conf does (least_conn, websocket
# upgrade), on loopback with a scratch prefix; bench-only.
NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 32768; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    map $http_upgrade $connection_upgrade {{ default upgrade; "" ""; }}
    upstream daphnes {{
        least_conn;
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://daphnes;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    """Several daphnes behind one nginx port (or a single daphne, with no proxy)."""

    servers: list[Server]
    proxy: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}" if self.proxy else self.servers[0].url

    @property
    def pids(self) -> list[int]:
        """Every server process: the daphnes, nginx's master and its worker."""
        pids = [s.pid for s in self.servers]
        if self.proxy is not None:
            pids += [self.proxy.pid, *_children(self.proxy.pid)]
        return pids

    def stop(self) -> int | None:
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            try:
                self.proxy.wait(10)
            except subprocess.TimeoutExpired:
                self.proxy.kill()
        codes = [s.stop() for s in self.servers]
        return next((c for c in codes if c), codes[0])


def spawn_cluster(target: str, processes: int, **spawn_args: object) -> Cluster:
    """Start `processes` daphnes; with more than one, put nginx in front of them."""
    servers: list[Server] = []
    try:
        for _ in range(processes):
            servers.append(spawn(target, **spawn_args))  # type: ignore[arg-type]
        if processes == 1:
            return Cluster(servers)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("--processes > 1 needs nginx (apt-get install nginx-light)")
        port = free_port()
        prefix = REPO_ROOT / "bench" / "out" / f"nginx-{port}"
        for sub in ("body", "proxy"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        upstreams = "\n".join(f"        server 127.0.0.1:{s.port};" for s in servers)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, servers=upstreams, port=port))
        proxy = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=(prefix / "stderr.log").open("wb"),
            stdin=subprocess.DEVNULL,
        )
        cluster = Cluster(servers, proxy, port)
        deadline = time.monotonic() + 10
        while not _ready(target, port):
            if proxy.poll() is not None or time.monotonic() > deadline:
                cluster.stop()
                raise RuntimeError(f"nginx did not start: {(prefix / 'stderr.log').read_text()}")
            time.sleep(0.1)
        return cluster
    except BaseException:
        for server in servers:
            server.stop(5)
        raise
