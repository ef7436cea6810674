"""Helpers for the integration tests: real daphne processes, real logins, websocket peers,
and a TCP proxy that can cut a daphne process off from PostgreSQL."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

REPO_ROOT = Path(__file__).resolve().parents[2]

Frame = dict[str, Any]

PASSWORD = "pw-for-integration-1"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str


@dataclass(frozen=True)
class Circle:
    """The room `circle` and its two peers; neither has accepted the norms yet."""

    slug: str
    room_id: int
    ada: Member
    bo: Member


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daphne_binary() -> str:
    """Return the daphne next to this interpreter (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "daphne"
    if beside.exists():
        return str(beside)
    found = shutil.which("daphne")
    if found is None:
        raise RuntimeError("daphne is not installed in this environment")
    return found


def database_url(settings_dict: Mapping[str, Any], *, host: str = "", port: int = 0) -> str:
    """Build a postgres:// URL for the database Django is connected to (host/port override)."""
    user = urllib.parse.quote(settings_dict.get("USER") or "", safe="")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = host or settings_dict.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        host = urllib.parse.quote(host, safe="")
    port = port or int(settings_dict.get("PORT") or 5432)
    name = urllib.parse.quote(str(settings_dict["NAME"]), safe="")
    return f"postgres://{auth}{host}:{port}/{name}"


# --- daphne --------------------------------------------------------------------------


@dataclass
class DaphneProcess:
    """One `daphne server.asgi:application` subprocess on 127.0.0.1."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def room_url(self, slug: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/rooms/{slug}/"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def health(self) -> int | None:
        """Return the status of GET /healthz, or None when nothing answers."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"{self.origin}/healthz", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def spawn_daphne(env: Mapping[str, str], log_dir: Path, *, max_message_bytes: int) -> DaphneProcess:
    """Start one daphne process on a free port; it logs (stdout and stderr) to a file."""
    port = free_port()
    log_path = log_dir / f"daphne-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                daphne_binary(),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--websocket-max-message-size",
                str(max_message_bytes),
                "server.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return DaphneProcess(port=port, process=process, log_path=log_path)


def wait_healthy(servers: list[DaphneProcess], timeout: float = 30.0) -> None:
    """Wait until every server answers GET /healthz with 200; raise with its log if not."""
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting:
        for server in list(waiting):
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"daphne on port {server.port} exited with {server.process.returncode}:\n"
                    + server.log()[-5000:]
                )
            if server.health() == 200:
                waiting.remove(server)
        if waiting and time.monotonic() > deadline:
            raise RuntimeError(
                f"daphne on port {waiting[0].port} did not answer /healthz with 200 "
                f"within {timeout:.0f}s (last: {waiting[0].health()}):\n" + waiting[0].log()[-5000:]
            )
        if waiting:
            time.sleep(0.05)


# --- logging in ----------------------------------------------------------------------


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def login(origin: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """Log in through the real login form and return the `sessionid` cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(jar),
        _KeepRedirects(),
    )
    url = f"{origin}/accounts/login/"
    with opener.open(url, timeout=timeout) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "the login page has no CSRF token"
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(url, data=form, headers={"Referer": url})
    try:
        with opener.open(request, timeout=timeout) as response:
            raise AssertionError(
                f"logging in as {username} did not redirect (status {response.status})"
            )
    except urllib.error.HTTPError as error:
        assert error.code == 302, f"logging in as {username} answered {error.code}"
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert cookies.get("sessionid"), f"logging in as {username} set no session cookie"
    return str(cookies["sessionid"])


async def alogin(origin: str, username: str, password: str) -> str:
    return await asyncio.to_thread(login, origin, username, password)


# --- websocket peers -----------------------------------------------------------------


class Peer:
    """One websocket client in a room. Records every frame it reads, in order."""

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[Frame] = []
        self.hello: Frame | None = None

    @property
    def seqs(self) -> list[int]:
        """The seqs of every `message` frame read so far, in the order they came."""
        return [frame["seq"] for frame in self.frames if frame["type"] == "message"]

    async def send(self, frame: Frame) -> None:
        await self.ws.send(json.dumps(frame))

    async def collect_until(
        self,
        types: str | tuple[str, ...],
        *,
        where: Callable[[Frame], bool] | None = None,
        timeout: float = 5.0,
    ) -> list[Frame]:
        """Read frames until one of `types` (matching `where`) comes; return all read."""
        wanted = (types,) if isinstance(types, str) else types
        read: list[Frame] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    frame = json.loads(await self.ws.recv())
                    self.frames.append(frame)
                    read.append(frame)
                    if frame.get("type") in wanted and (where is None or where(frame)):
                        return read
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no {'/'.join(wanted)} frame within {timeout}s; "
                f"read {[f.get('type') for f in read]}: {read[-5:]}"
            ) from None

    async def receive_until(
        self,
        types: str | tuple[str, ...],
        *,
        where: Callable[[Frame], bool] | None = None,
        timeout: float = 5.0,
    ) -> Frame:
        """Read frames until one of `types` (matching `where`) comes; return that one."""
        return (await self.collect_until(types, where=where, timeout=timeout))[-1]

    async def enter(self) -> Frame:
        """Read `hello` and accept the room's norms if this member has not yet."""
        hello = await self.receive_until("hello")
        self.hello = hello
        if not hello["norms"]["accepted"]:
            version = hello["norms"]["version"]
            await self.send({"type": "norms.accept", "version": version})
            accepted = await self.receive_until("norms.accepted")
            assert accepted["version"] == version
        return hello

    async def barrier(self, timeout: float = 5.0) -> list[Frame]:
        """Ping and read up to the pong; return the frames read on the way."""
        await self.send({"type": "ping"})
        return await self.collect_until("pong", timeout=timeout)

    async def send_message(
        self, body: str, client_id: str | None = None, *, timeout: float = 10.0
    ) -> Frame:
        """Send a message and return its ack; wait and retry (same client_id) when rate-limited."""
        client_id = client_id or str(uuid.uuid4())
        frame = {"type": "message.send", "client_id": client_id, "body": body}
        async with asyncio.timeout(timeout):
            while True:
                await self.send(frame)
                reply = await self.receive_until(
                    ("ack", "error"),
                    where=lambda f: client_id in (f.get("client_id"), f.get("ref")),
                    timeout=timeout,
                )
                if reply["type"] == "ack":
                    return reply
                if reply["code"] == "rate_limited":
                    # A real client backs off as told and retries with the same client_id.
                    await asyncio.sleep(float(reply["retry_after"]))
                    continue
                raise AssertionError(f"{self.name}: sending {body!r} failed: {reply}")

    async def drop(self) -> None:
        """Cut the TCP connection without a closing handshake, like a lost network."""
        transport = self.ws.transport
        assert transport is not None
        transport.abort()
        await asyncio.wait_for(self.ws.wait_closed(), 5)

    async def close(self) -> None:
        await asyncio.wait_for(self.ws.close(), 5)


async def open_socket(
    server: DaphneProcess, slug: str, session_id: str | None, *, origin: str | None = None
) -> ClientConnection:
    """Open a websocket to a room the way a browser page on `origin` would."""
    headers = {"Cookie": f"sessionid={session_id}"} if session_id else {}
    return await connect(
        server.room_url(slug),
        additional_headers=headers,
        origin=origin or server.origin,  # type: ignore[arg-type]
        proxy=None,
        open_timeout=5,
        close_timeout=2,
    )


def names(members: list[Frame]) -> list[str]:
    return [member["name"] for member in members]


StartDaphne = Callable[..., list[DaphneProcess]]
OpenPeer = Callable[..., Awaitable[Peer]]


# --- a proxy in front of PostgreSQL --------------------------------------------------


class TcpProxy:
    """Forward 127.0.0.1:<port> to a target; `cut` closes every connection and refuses new
    ones until `restore`. Runs its own event loop in a thread so that it serves daphne
    while the test's loop (or a blocking fixture) is busy."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._cut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._transports.add(writer.transport)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.transport.abort()
            self._transports.discard(writer.transport)
            return
        self._transports.add(upstream_writer.transport)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )
        self._transports.discard(writer.transport)
        self._transports.discard(upstream_writer.transport)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
