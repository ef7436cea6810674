"""Open K idle websockets and report the daphne process's memory per connection.

    ulimit -n 65536   # the client and the server each hold one descriptor per socket
    .venv/bin/python bench/idle.py --target baseline --connections 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/idle.py --target peerchat --connections 10000 --rooms 500

Starts a fresh daphne for the target (or uses ``--url`` with ``--server-pid``), opens and
closes a few sockets to warm it up (imports, pools), reads VmRSS from
/proc/<pid>/status, opens ``--connections`` sockets (peerchat: each a different bench
user, ``--rooms`` rooms of equal size, through the full ``hello``; baseline: the
tutorial consumer), waits ``--settle`` seconds, reads VmRSS again and prints one JSON line:
``kib_per_connection`` = (after - before) / open sockets, and ``slope_kib_per_connection``
from a least-squares fit over the checkpoints taken every ``--step`` sockets. The client
keeps reading every socket (daphne's pings, presence frames) so nothing piles up in
server buffers. At most 20,000 sockets; every phase is time-bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.servers import Server, rss_kib, spawn  # noqa: E402


def slope(points: list[tuple[int, int]]) -> float | None:
    """Least-squares slope of RSS (KiB) over open sockets."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mean_x) * (p[1] - mean_y) for p in points) / sxx


class Idle:
    def __init__(self, args: argparse.Namespace, base: str) -> None:
        self.args = args
        self.base = base.rstrip("/")
        self.origin = Origin(self.base.replace("ws://", "http://", 1))
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.errors: dict[str, int] = {}
        self.frames = 0
        self.targets = self._targets()

    def _targets(self) -> list[tuple[str, dict[str, str]]]:
        args = self.args
        if args.target == "baseline":
            return [
                (f"{self.base}/ws/chat/idle{k % args.rooms}/", {})
                for k in range(args.connections + args.warmup)
            ]
        doc = json.loads(Path(args.users_file).read_text())
        peers = [c for c in doc["clients"] if c.get("role", "peer") == "peer"]
        if len(peers) < args.connections + args.warmup:
            raise SystemExit(
                f"{args.users_file} has {len(peers)} peers; need "
                f"{args.connections + args.warmup}: run bench/setup_users.py --prefix idle"
            )
        # setup_users.py puts user i in room i % rooms: rooms fill up evenly as we go.
        return [
            (f"{self.base}/ws/rooms/{c['room']}/", {"Cookie": f"sessionid={c['session']}"})
            for c in peers[: args.connections + args.warmup]
        ]

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def open_one(self, url: str, headers: dict[str, str]) -> ClientConnection | None:
        for attempt in range(1 + self.args.retries):
            if attempt:
                await asyncio.sleep(1.0)
            ws = await self.try_open(url, headers)
            if ws is not None:
                return ws
        return None

    async def try_open(self, url: str, headers: dict[str, str]) -> ClientConnection | None:
        try:
            ws = await connect(
                url,
                additional_headers=headers,
                origin=self.origin,
                open_timeout=60,
                close_timeout=5,
                ping_interval=None,
                max_size=2**24,
            )
        except InvalidStatus as error:
            self.error(f"http_{error.response.status_code}")
            return None
        except (OSError, TimeoutError, InvalidHandshake) as error:
            # InvalidMessage: daphne dropped a handshake the app did not accept within its
            # --websocket_connect_timeout (5 s), e.g. behind the one database thread.
            self.error(type(error).__name__)
            return None
        if self.args.target == "peerchat":
            try:
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            except ConnectionClosed as closed:
                self.error(f"close_{closed.rcvd.code if closed.rcvd else None}")
                return None
            except TimeoutError:
                self.error("hello_timeout")
                await ws.close()
                return None
            if first.get("type") != "hello":
                self.error(f"first_{first.get('type')}")
        return ws

    async def reader(self, ws: ClientConnection) -> None:
        try:
            async for _ in ws:
                self.frames += 1
        except ConnectionClosed:
            pass

    async def open_many(self, targets: list[tuple[str, dict[str, str]]], keep: bool) -> int:
        gate = asyncio.Semaphore(self.args.concurrency)
        opened = 0

        async def one(url: str, headers: dict[str, str]) -> None:
            nonlocal opened
            async with gate:
                ws = await self.open_one(url, headers)
            if ws is None:
                return
            opened += 1
            if keep:
                self.sockets.append(ws)
                self.readers.append(asyncio.create_task(self.reader(ws)))
            else:
                await ws.close()

        await asyncio.gather(*(one(url, headers) for url, headers in targets))
        return opened

    async def close_all(self) -> None:
        async def close(ws: ClientConnection) -> None:
            try:
                await asyncio.wait_for(ws.close(), 10)
            except (TimeoutError, ConnectionClosed, OSError):
                pass

        gate = asyncio.Semaphore(500)

        async def gated(ws: ClientConnection) -> None:
            async with gate:
                await close(ws)

        await asyncio.gather(*(gated(ws) for ws in self.sockets))
        for task in self.readers:
            task.cancel()


async def measure(args: argparse.Namespace, base: str, pid: int) -> dict[str, Any]:
    idle = Idle(args, base)
    warm, targets = idle.targets[: args.warmup], idle.targets[args.warmup :]
    await idle.open_many(warm, keep=False)
    await asyncio.sleep(args.settle)
    before = rss_kib(pid)
    checkpoints: list[tuple[int, int]] = [(0, before)]
    started = time.monotonic()
    deadline = started + args.open_budget
    for start in range(0, len(targets), args.step):
        if time.monotonic() > deadline:
            idle.error("open_budget_exceeded")  # report what was reached
            break
        await idle.open_many(targets[start : start + args.step], keep=True)
        await asyncio.sleep(1.0)
        checkpoints.append((len(idle.sockets), rss_kib(pid)))
    open_s = time.monotonic() - started
    await asyncio.sleep(args.settle)
    after = rss_kib(pid)
    alive = sum(1 for ws in idle.sockets if ws.close_code is None)
    checkpoints.append((alive, after))
    fit = slope(checkpoints[1:]) if len(checkpoints) > 3 else slope(checkpoints)
    result = {
        "target": args.target,
        "connections": args.connections,
        "opened": len(idle.sockets),
        "alive_at_end": alive,
        "rooms": args.rooms,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": round((after - before) / alive, 2) if alive else None,
        "slope_kib_per_connection": round(fit, 2) if fit is not None else None,
        "checkpoints": checkpoints,
        "open_s": round(open_s, 1),
        "connections_per_s": round(len(idle.sockets) / open_s, 1) if open_s else None,
        "frames_received": idle.frames,
        "errors": idle.errors,
        "client_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    await idle.close_all()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["peerchat", "baseline"], default="peerchat")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--rooms", type=int, default=500, help="peerchat: rooms in the file")
    parser.add_argument("--users-file", default=str(REPO_ROOT / "bench" / "out" / "idle.json"))
    parser.add_argument("--url", help="use a running server (with --server-pid)")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes at once")
    parser.add_argument("--warmup", type=int, default=20, help="sockets opened and closed first")
    parser.add_argument("--step", type=int, default=1000, help="sockets between RSS readings")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="bound on the whole run")
    parser.add_argument(
        "--open-budget", type=float, default=1500.0, help="stop opening after this many s"
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed handshake")
    parser.add_argument("--no-setup", action="store_true", help="peerchat: reuse --users-file")
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= 20_000:
        parser.error("--connections must be 1..20000")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.connections + args.warmup + 1024)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < args.connections + 100:
        parser.error(f"raise the descriptor limit first: ulimit -n {args.connections + 1024}")

    if args.target == "peerchat" and not args.no_setup and not args.url:
        if not os.environ.get("DATABASE_URL"):
            parser.error("peerchat needs DATABASE_URL (and REDIS_URL) like the server")
        per_room = -(-(args.connections + args.warmup) // args.rooms)
        setup = [
            sys.executable,
            str(REPO_ROOT / "bench" / "setup_users.py"),
            "--prefix",
            "idle",
            "--users",
            str(per_room * args.rooms),
            "--rooms",
            str(args.rooms),
            "--out",
            args.users_file,
        ]
        subprocess.run(setup, check=True, timeout=900)

    server: Server | None = None
    if args.url:
        if not args.server_pid:
            parser.error("--url needs --server-pid")
        base, pid = args.url, args.server_pid
    else:
        server = spawn(args.target)
        base, pid = server.url, server.pid
    try:
        result = asyncio.run(asyncio.wait_for(measure(args, base, pid), args.timeout))
    finally:
        if server is not None:
            result_code = server.stop()
            if result_code not in (0, None, -15):
                print(server.log()[-3000:], file=sys.stderr)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
