"""Websocket load generator for peerchat and the Channels-tutorial baseline.

Opens ``--clients`` sockets spread round-robin over ``--rooms`` rooms; once all are in,
every client sends ``--rate`` messages a second (open loop: on a fixed schedule with a
random phase, never waiting for acks) for ``--warmup`` + ``--duration`` seconds. Bodies
are ordinary peer-support sentences, so that peerchat's moderation engine sees what it
sees in production (digits or odd tokens would be held as contact details). peerchat
echoes the ``client_id`` in every ``message`` frame, so the harness keeps a
client_id -> (send time, room) map; in baseline mode the run tag, sender, number and send
time ride at the front of the body. Send times are ``time.monotonic_ns()`` (one clock
for the whole machine), so every receiver computes send-to-receive latency itself.

``--crisis-every K`` makes every K-th message of each sender a crisis sentence (tier
``high``: delivered and flagged) and ``--moderators`` adds one moderator socket per room
(logins made with ``setup_users.py --moderators``): it times send -> ``flag`` /
``flag.update`` for those messages (``crisis_alert_ms``).

Then it drains (waits for outstanding acks and deliveries, at most ``--drain`` seconds)
and, for peerchat, every client still connected sends a final ``resume`` from its first
gap: a message is **lost** when it was acked (stored) but reached a member who stayed
connected neither live nor through ``resume``.
In baseline mode (the tutorial protocol: ``{"message": ...}`` both ways, no ack, no seq)
loss is the expected deliveries (sent x members still connected) minus those received.

Prints one JSON line (see bench/README.md for the fields). Every phase has a time
bound; the whole run stops by itself. Logins for peerchat come from the file that
bench/setup_users.py writes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_USERS = REPO_ROOT / "bench" / "out" / "users.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
NS = 1_000_000_000

# What members write: plain, benign sentences with no digits, links or names.
BODIES = [
    "Today was a bit better than yesterday, I managed to go for a short walk in the park.",
    "Thanks for sharing that, it helps to hear I am not the only one who feels this way.",
    "I tried the breathing exercise someone mentioned last week and it helped me sleep.",
    "Work has been stressful but I am learning to take small breaks in the afternoon.",
    "Does anyone else find that mornings are the hardest part of the day for them?",
    "I made soup with my sister on the weekend and we laughed a lot, which felt good.",
    "Sending good thoughts to everyone here, you are all so kind and patient with me.",
    "I am going to try journaling again tonight before bed and see if it calms my mind.",
]
# Tier `high` crisis language (delivered and flagged under the default room policy).
CRISIS_BODIES = [
    "I keep thinking about killing myself lately and it scares me a bit.",
    "I don't want to be alive anymore, everything feels pointless.",
]


# --- measurements ----------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """Nearest-rank p50/p95/p99/max of a list of milliseconds."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[min(n - 1, max(0, int(p * n + 0.999999) - 1))], 2)

    return {"n": n, "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": rank(1.0)}


def process_cpu(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def processes_cpu(pids: list[int]) -> float | None:
    """CPU seconds of all server processes (several daphnes and a proxy), None if gone."""
    times = [process_cpu(pid) for pid in pids]
    return None if not times or None in times else sum(t for t in times if t is not None)


def process_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def redis_pid() -> int | None:
    """The local redis-server's pid, to tell its CPU apart from everything else's."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    return int(entry.name)
            except OSError:
                continue
    return None


def start_profiler(args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """Attach py-spy to the server for exactly the measurement window (--profile)."""
    if not args.profile:
        return None
    if not args.server_pid:
        raise SystemExit("--profile needs --server-pid")
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [
        str(py_spy if py_spy.exists() else "py-spy"),
        "record",
        "--pid",
        str(args.server_pid[0]),
        "--duration",
        str(max(1, int(args.duration))),
        "--rate",
        str(args.profile_rate),
        "--format",
        "raw",
        "--threads",
        "--nonblocking",
        "--output",
        args.profile,
    ]
    if args.profile_gil:
        command.append("--gil")
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )


def code_state() -> str | None:
    """HEAD plus a hash of the uncommitted product changes: the tree may move between runs."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "chat", "server", "moderation", "accounts"],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+{hashlib.sha1(diff).hexdigest()[:10]}" if diff else head


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the run ---------------------------------------------------------------------------


class Run:
    """Shared state of one run: schedule, counters, and what each room was sent."""

    def __init__(self, args: argparse.Namespace, room_count: int) -> None:
        self.args = args
        self.peerchat = args.target == "peerchat"
        self.tag = "b" + uuid.uuid4().hex[:8]
        self.window_start = 0
        self.window_end = 0
        self.send_end = 0
        # peerchat: client_id -> (send time, room) of every message sent; pending: not
        # answered yet (no ack, no error)
        self.sent_at: dict[str, tuple[int, int]] = {}
        self.pending: set[str] = set()
        self.crisis_ids: set[str] = set()
        self.crisis_ms: list[float] = []
        self.crisis_seen: set[str] = set()
        self.room_keys: list[set[Any]] = [set() for _ in range(room_count)]
        self.latencies: list[float] = []
        self.ack_ms: list[float] = []
        self.deliveries_in_window = 0
        self.deliveries = 0
        self.duplicates = 0
        self.unknown_deliveries = 0  # our tag, but neither acked nor sent (peerchat)
        self.sent = 0
        self.sent_in_window = 0
        self.acked = 0
        self.held = 0
        self.failed_sends = 0
        self.errors: Counter[str] = Counter()
        self.connect_errors: Counter[str] = Counter()
        self.frames: Counter[str] = Counter()
        self.max_lag_ns = 0

    def in_window(self, t: int) -> bool:
        return self.window_start <= t < self.window_end


class Client:
    def __init__(
        self,
        run: Run,
        idx: int,
        room: int,
        url: str,
        headers: dict[str, str],
        *,
        moderator: bool = False,
    ) -> None:
        self.run = run
        self.moderator = moderator
        self.idx = idx
        self.room = room
        self.url = url
        self.headers = headers
        self.ws: ClientConnection | None = None
        self.connected = False
        self.close_code: int | None = None
        self.live: set[Any] = set()
        self.resumed: set[Any] = set()
        self.resuming = False
        self.resumed_event = asyncio.Event()
        self.resume_ok = True
        self.start_seq = 0
        self.reader_task: asyncio.Task[None] | None = None

    # connecting -----------------------------------------------------------------------

    async def open(self) -> None:
        run = self.run
        origin = Origin(http_origin(self.url))
        try:
            self.ws = await connect(
                self.url,
                additional_headers=self.headers,
                origin=origin,
                open_timeout=30,
                close_timeout=5,
                ping_interval=None,  # daphne pings the client; the client answers
                max_size=2**24,
            )
        except InvalidStatus as error:
            run.connect_errors[f"http_{error.response.status_code}"] += 1
            return
        except (OSError, TimeoutError, InvalidHandshake) as error:
            # e.g. InvalidMessage: daphne dropped a handshake the application did not
            # accept within --websocket_connect_timeout (5 s by default).
            run.connect_errors[type(error).__name__] += 1
            return
        if run.peerchat:
            try:
                hello = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
                if hello.get("type") != "hello":
                    run.connect_errors[f"first_frame_{hello.get('type')}"] += 1
                    await self.ws.close()
                    return
                self.start_seq = int(hello["last_seq"])
                if not hello["norms"]["accepted"]:
                    await self.ws.send(
                        json.dumps({"type": "norms.accept", "version": hello["norms"]["version"]})
                    )
                    while json.loads(await asyncio.wait_for(self.ws.recv(), 30)).get("type") != (
                        "norms.accepted"
                    ):
                        pass
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                run.connect_errors[f"close_{code}"] += 1
                return
            except TimeoutError:
                run.connect_errors["hello_timeout"] += 1
                await self.ws.close()
                return
        self.connected = True
        self.reader_task = asyncio.create_task(self.reader())

    # receiving ------------------------------------------------------------------------

    async def reader(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                self.on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            self.connected = False
            self.close_code = self.ws.close_code

    def on_frame(self, raw: str | bytes) -> None:
        now = time.monotonic_ns()
        run = self.run
        data = json.loads(raw)
        if run.peerchat:
            kind = data.get("type")
            if kind == "message":
                entry = run.sent_at.get(data.get("client_id", ""))
                if entry is None or data.get("seq") is None:
                    run.frames["message.other"] += 1
                    return
                self.on_message(now, entry[0], data["seq"])
            elif kind == "ack":
                self.on_ack(now, data)
            elif kind == "error":
                run.errors[data.get("code", "?")] += 1
                ref = data.get("ref")
                if ref in run.pending:
                    run.pending.discard(ref)
                    run.failed_sends += 1
            elif kind == "resumed":
                self.resumed_event.set()
            elif kind in ("flag", "flag.update"):
                run.frames[kind] += 1
                self.on_flag(now, data)
            else:
                run.frames[str(kind)] += 1
        else:
            body = data["message"]
            if not body.startswith(run.tag):
                run.frames["message.other"] += 1
                return
            _, sender, number, sent_ns = body.split(" ", 4)[:4]
            self.on_message(now, int(sent_ns), (int(sender), int(number)))

    def on_message(self, now: int, sent: int, key: Any) -> None:
        run = self.run
        if self.resuming:
            self.resumed.add(key)
            return
        if key in self.live:
            run.duplicates += 1
            return
        self.live.add(key)
        run.deliveries += 1
        if run.in_window(sent):
            run.latencies.append((now - sent) / 1e6)
        if run.in_window(now):
            run.deliveries_in_window += 1

    def on_flag(self, now: int, data: dict[str, Any]) -> None:
        run = self.run
        client_id = ((data.get("flag") or {}).get("message") or {}).get("client_id")
        if client_id not in run.crisis_ids or client_id in run.crisis_seen:
            return
        run.crisis_seen.add(client_id)
        sent = run.sent_at[client_id][0]
        if run.in_window(sent):
            run.crisis_ms.append((now - sent) / 1e6)

    def on_ack(self, now: int, data: dict[str, Any]) -> None:
        run = self.run
        client_id = data["client_id"]
        if client_id not in run.pending:
            return
        run.pending.discard(client_id)
        sent, room = run.sent_at[client_id]
        if run.in_window(sent):
            run.ack_ms.append((now - sent) / 1e6)
        if data.get("status", "visible") == "visible" and data.get("seq") is not None:
            run.acked += 1
            run.room_keys[room].add(int(data["seq"]))
        else:
            run.held += 1

    # sending --------------------------------------------------------------------------

    async def sender(self, start: int) -> None:
        run = self.run
        assert self.ws is not None
        interval = NS / run.args.rate
        due = start + random.random() * interval
        number = 0
        while due < run.send_end and self.connected:
            now = time.monotonic_ns()
            if due > now:
                await asyncio.sleep((due - now) / NS)
                now = time.monotonic_ns()
            else:
                run.max_lag_ns = max(run.max_lag_ns, now - int(due))
            crisis = run.args.crisis_every > 0 and number % run.args.crisis_every == (
                self.idx % run.args.crisis_every
            )
            body = random.choice(CRISIS_BODIES if crisis else BODIES)
            if run.peerchat:
                client_id = str(uuid.uuid4())
                text = json.dumps({"type": "message.send", "client_id": client_id, "body": body})
                run.sent_at[client_id] = (now, self.room)
                run.pending.add(client_id)
                if crisis:
                    run.crisis_ids.add(client_id)
            else:
                text = json.dumps({"message": f"{run.tag} {self.idx} {number} {now} {body}"})
            try:
                await self.ws.send(text)
            except ConnectionClosed:
                if run.peerchat:
                    run.pending.discard(client_id)
                break
            if not run.peerchat:
                run.room_keys[self.room].add((self.idx, number))
            run.sent += 1
            if run.in_window(now):
                run.sent_in_window += 1
            number += 1
            due += interval

    # resuming -------------------------------------------------------------------------

    async def resume(self) -> None:
        """Ask for everything after the first seq this client did not get live."""
        if not self.connected or self.ws is None:
            return
        # From the first seq after hello this client did not get live, up to the highest
        # seen or acked: a message whose ack came late is covered too.
        acked = self.run.room_keys[self.room]
        top = max(max(acked, default=self.start_seq), max(self.live, default=self.start_seq))
        first_gap = self.start_seq + 1
        while first_gap <= top and first_gap in self.live:
            first_gap += 1
        after = first_gap - 1
        self.resuming = True
        try:
            await self.ws.send(json.dumps({"type": "resume", "after_seq": max(0, after)}))
            await asyncio.wait_for(self.resumed_event.wait(), self.run.args.resume_timeout)
        except (ConnectionClosed, TimeoutError):
            self.resume_ok = False
            self.run.errors["resume_failed"] += 1

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except (TimeoutError, ConnectionClosed, OSError):
                pass
        if self.reader_task is not None:
            self.reader_task.cancel()


def http_origin(ws_url: str) -> str:
    parts = urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"


def make_clients(run: Run, args: argparse.Namespace) -> list[Client]:
    """Client k goes to room k % rooms (peerchat: the next unused login of that room)."""
    base = args.url.rstrip("/")
    clients = []
    if not run.peerchat:
        for k in range(args.clients):
            room = k % args.rooms
            clients.append(Client(run, k, room, f"{base}/ws/chat/bench{room}/", {}))
        return clients
    doc = json.loads(Path(args.users_file).read_text())
    slugs = doc["rooms"][: args.rooms]
    if len(slugs) < args.rooms:
        raise SystemExit(f"{args.users_file} has {len(doc['rooms'])} rooms, not {args.rooms}")
    logins: dict[str, list[dict[str, Any]]] = {slug: [] for slug in slugs}
    moderators: dict[str, dict[str, Any]] = {}
    for login in doc["clients"]:
        if login["room"] not in logins:
            continue
        if login.get("role", "peer") == "peer":
            logins[login["room"]].append(login)
        else:
            moderators.setdefault(login["room"], login)
    for k in range(args.clients):
        room = k % args.rooms
        pool = logins[slugs[room]]
        if not pool:
            raise SystemExit(
                f"not enough logins in {slugs[room]} for {args.clients} clients: "
                "run bench/setup_users.py with more --users"
            )
        login = pool.pop(0)
        headers = {"Cookie": f"sessionid={login['session']}"}
        clients.append(Client(run, k, room, f"{base}/ws/rooms/{slugs[room]}/", headers))
    if args.moderators:
        for room, slug in enumerate(slugs):
            login = moderators.get(slug)
            if login is None:
                raise SystemExit(f"no moderator login for {slug}: setup_users.py --moderators")
            headers = {"Cookie": f"sessionid={login['session']}"}
            url = f"{base}/ws/rooms/{slug}/"
            clients.append(Client(run, len(clients), room, url, headers, moderator=True))
    return clients


async def wait_until(predicate: Any, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


def drained(run: Run, clients: list[Client]) -> bool:
    if run.pending:
        return False
    return all(run.room_keys[c.room] <= c.live for c in clients if c.connected)


async def execute(args: argparse.Namespace) -> dict[str, Any]:
    run = Run(args, args.rooms)
    clients = make_clients(run, args)
    limit = asyncio.Semaphore(args.connect_concurrency)

    async def open_one(client: Client) -> None:
        for attempt in range(1 + args.connect_retries):
            if attempt:
                await asyncio.sleep(1.0)
            async with limit:
                await client.open()
            if client.connected:
                return

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(open_one(c) for c in clients)), args.connect_timeout)
    connect_s = time.monotonic() - started
    present = [c for c in clients if c.connected]
    await asyncio.sleep(args.settle)

    start = time.monotonic_ns() + NS // 10
    run.window_start = start + int(args.warmup * NS)
    run.window_end = run.window_start + int(args.duration * NS)
    run.send_end = run.window_end
    senders = [asyncio.create_task(c.sender(start)) for c in present if not c.moderator]

    # Resource use over the measurement window only.
    await asyncio.sleep(max(0.0, (run.window_start - time.monotonic_ns()) / NS))
    redis = redis_pid()
    profiler = start_profiler(args)
    cpu0, sys0 = own_cpu(), system_ticks()
    server0 = processes_cpu(args.server_pid)
    redis0 = process_cpu(redis) if redis else None
    await asyncio.sleep(max(0.0, (run.window_end - time.monotonic_ns()) / NS))
    cpu1, sys1 = own_cpu(), system_ticks()
    server1 = processes_cpu(args.server_pid)
    redis1 = process_cpu(redis) if redis else None
    await asyncio.wait_for(asyncio.gather(*senders, return_exceptions=True), 30)
    if profiler is not None:
        await asyncio.to_thread(profiler.wait, 60)

    drain_started = time.monotonic()
    await wait_until(lambda: drained(run, clients), args.drain, 0.25)
    drain_s = time.monotonic() - drain_started

    stayed = [c for c in present if c.connected]
    resume_s = None
    if run.peerchat:
        # Acks still outstanding after the drain: give them the resume timeout to arrive.
        await wait_until(lambda: not run.pending, args.resume_timeout, 0.25)
        resume_started = time.monotonic()
        gate = asyncio.Semaphore(20)

        async def resume_one(client: Client) -> None:
            async with gate:
                await client.resume()

        await asyncio.wait_for(
            asyncio.gather(*(resume_one(c) for c in stayed)), 4 * args.resume_timeout + 60
        )
        resume_s = round(time.monotonic() - resume_started, 2)

    expected = missed_live = lost = recovered = unverified = 0
    for client in stayed:
        keys = run.room_keys[client.room]
        expected += len(keys)
        not_live = keys - client.live
        missed_live += len(not_live)
        lost_here = not_live - client.resumed
        if client.resume_ok:
            lost += len(lost_here)
        else:
            # Its resume did not finish in time: these may still have been on their way.
            unverified += len(lost_here)
        recovered += len(not_live) - len(lost_here)
        if run.peerchat:
            run.unknown_deliveries += len(client.live - keys)

    rss = [process_rss_kib(pid) for pid in args.server_pid]
    server_rss = sum(r for r in rss if r is not None) if rss and None not in rss else None
    dropped = Counter(str(c.close_code) for c in present if c not in stayed)
    extensions = sorted(
        {type(e).__name__ for c in present if c.ws is not None for e in c.ws.protocol.extensions}
    )
    await asyncio.wait_for(asyncio.gather(*(c.close() for c in clients)), 30)

    members = Counter(c.room for c in present)
    offered = sum(args.rate * members[c.room] for c in present if not c.moderator)
    busy = sys1[0] - sys0[0]
    total = sys1[1] - sys0[1]
    window_s = args.duration
    cores = os.cpu_count() or 1
    server_cpu = (server1 - server0) / window_s if server0 is not None and server1 else None
    redis_cpu = (redis1 - redis0) / window_s if redis0 is not None and redis1 else None
    # Cores busy with anything but this harness, the server and Redis: PostgreSQL, and
    # whatever else runs on the machine (other people's tests) competing for the cores.
    other_cpu = None
    if total and server_cpu is not None:
        other_cpu = busy / total * cores - (cpu1 - cpu0) / window_s - server_cpu - (redis_cpu or 0)
    return {
        "target": args.target,
        "url": args.url,
        "clients": args.clients,
        "connected": len(present),
        "rooms": args.rooms,
        "rate": args.rate,
        "warmup": args.warmup,
        "duration": args.duration,
        "moderators": sum(1 for c in present if c.moderator),
        "crisis_every": args.crisis_every,
        "sent": run.sent,
        "sent_per_s": round(run.sent_in_window / window_s, 3),
        "acked": run.acked if run.peerchat else None,
        "unacked": len(run.pending) if run.peerchat else None,
        "failed_sends": run.failed_sends,
        "held": run.held,
        "offered_deliveries_per_s": round(offered, 1),
        "deliveries_per_s": round(run.deliveries_in_window / window_s, 1),
        "latency_ms": percentiles(run.latencies),
        "ack_ms": percentiles(run.ack_ms) if run.peerchat else None,
        "crisis_sent": len(run.crisis_ids),
        "crisis_alerted": len(run.crisis_seen),
        "crisis_alert_ms": percentiles(run.crisis_ms) if args.moderators else None,
        "errors": dict(run.errors),
        "connect_errors": dict(run.connect_errors),
        "dropped": dict(dropped),
        "expected_deliveries": expected,
        "missed_live": missed_live,
        "recovered_by_resume": recovered,
        "lost": lost,
        "unverified": unverified,
        "duplicates": run.duplicates,
        "unacked_delivered": run.unknown_deliveries,
        "other_frames": dict(run.frames),
        "sender_lag_ms_max": round(run.max_lag_ns / 1e6, 1),
        "client_cpu": round((cpu1 - cpu0) / window_s, 3),
        "server_cpu": round(server_cpu, 3) if server_cpu is not None else None,
        "server_us_per_delivery": round(server_cpu / run.deliveries_in_window * window_s * 1e6)
        if server_cpu and run.deliveries_in_window
        else None,
        "redis_cpu": round(redis_cpu, 3) if redis_cpu is not None else None,
        "other_cpu": round(other_cpu, 3) if other_cpu is not None else None,
        "server_rss_kib": server_rss,
        "system_cpu_busy": round(busy / total, 3) if total else None,
        "cores": cores,
        "extensions": extensions,
        "connect_s": round(connect_s, 2),
        "drain_s": round(drain_s, 2),
        "resume_s": resume_s,
        "tag": run.tag,
        "code": code_state(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000", help="server base URL")
    parser.add_argument("--target", choices=["peerchat", "baseline"], default="peerchat")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per client")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds sent, not measured")
    parser.add_argument("--drain", type=float, default=10.0, help="max seconds to wait after")
    parser.add_argument("--settle", type=float, default=0.5, help="pause after connecting")
    parser.add_argument(
        "--resume-timeout", type=float, default=60.0, help="max seconds for one resume"
    )
    parser.add_argument(
        "--crisis-every", type=int, default=0, help="every K-th message is crisis language"
    )
    parser.add_argument(
        "--moderators", action="store_true", help="one moderator socket per room (peerchat)"
    )
    parser.add_argument("--users-file", default=str(DEFAULT_USERS), help="peerchat logins")
    parser.add_argument("--connect-concurrency", type=int, default=20)
    parser.add_argument(
        "--connect-retries", type=int, default=2, help="retries of a failed connect (counted)"
    )
    parser.add_argument("--connect-timeout", type=float, default=120.0)
    parser.add_argument(
        "--server-pid",
        type=int,
        action="append",
        default=[],
        help="daphne pid: report its CPU and RSS (repeat for several; --profile: the first)",
    )
    parser.add_argument("--label", default="", help="copied into the output")
    parser.add_argument("--profile", help="py-spy the server over the window, raw stacks here")
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples/s")
    parser.add_argument(
        "--profile-gil", action="store_true", help="sample only the GIL holder (CPU)"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rooms < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("clients, rooms, rate and duration must be positive")
    if args.clients > 20_000 or args.rate * args.clients > 50_000:
        parser.error("refusing more than 20,000 clients or 50,000 messages/s")
    if args.moderators and args.target != "peerchat":
        parser.error("--moderators is for peerchat")
    if args.duration + args.warmup > 600:
        parser.error("keep a run under 10 minutes")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bound = args.connect_timeout + args.warmup + args.duration + args.drain + 240
    result = asyncio.run(asyncio.wait_for(execute(args), bound))
    if args.label:
        result["label"] = args.label
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
