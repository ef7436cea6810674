"""Break a py-spy profile of daphne down into where the time goes per delivered message.

    .venv/bin/python bench/profile_report.py bench/out/profile-peerchat.txt \\
        --load-json bench/out/profile-peerchat-load.json

Reads py-spy's raw (collapsed) stacks (``py-spy record --format raw --threads``, as
bench/servers.py runs it), and prints:

- the CPU of each thread kind (the event loop, the thread that runs
  ``database_sync_to_async`` work, other threads);
- an exclusive breakdown: every sample goes to the first category in ``CATEGORIES`` whose
  pattern matches any frame of its stack, so the shares add up to 100 %;
- an inclusive list: the share of samples whose stack contains a given function.

With ``--load-json`` (the JSON line of the bench/load.py run made while profiling) it
also gives each category in microseconds of server CPU per delivered message.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path


def fn(names: str, path: str = "") -> str:
    """Regex for a frame of one of these functions or methods (py-spy writes methods as
    'Class.method (path)'), optionally only in files whose path matches `path`."""
    return rf"^(?:[\w<>]+\.)*(?:{names}) \((?:{path or '.*'})"


# (category, regex over one frame "function (path)"); a sample goes to the first
# category whose regex matches any frame of its stack, so order from the most specific.
CATEGORIES: list[tuple[str, str]] = [
    ("moderation engine (assess_window)", r"moderation/engine/"),
    ("flags and alerts (do_flag_message, flag_info)", r"moderation/alerts\.py"),
    ("moderation services (support, ladder, audit)", r"moderation/(services|audit|resources)"),
    ("writer context query (_previous_texts)", fn("_previous_texts")),
    (
        "database connect/close (DB_CONN_MAX_AGE=0)",
        fn(
            "connect|ensure_connection|close|_close|get_new_connection|init_connection_state|"
            "close_if_unusable_or_obsolete",
            ".*(django/db/backends|psycopg)",
        ),
    ),
    ("message send: SQL and ORM (check_send_message)", fn("check_send_message")),
    ("rate limit (take_token EVAL)", fn("acheck_send_rate|take_token")),
    ("resume / history (fetch_after)", fn("fetch_after|fetch_history|last_seq")),
    ("connect: access, hello, presence", fn("access_room|build_hello|ajoin_room|aleave_room")),
    (
        "aclose_old_connections per event (dispatch)",
        fn("aclose_old_connections|close_old_connections"),
    ),
    ("async_to_sync publish from the DB thread", fn("publish|apublish", "chat/events")),
    ("channel layer group_send", fn("group_send", "channels_redis")),
    (
        "channel layer receive (BZPOPMIN, msgpack)",
        fn("receive|receive_single|_brpop_with_clean|deserialize|_do_receiving", "channels_redis"),
    ),
    ("client frame parse (pydantic)", fn("parse_client_frame")),
    ("server frame encode (pydantic)", fn("to_text|model_dump_json")),
    (
        "websocket send (daphne/autobahn/twisted)",
        fn("sendMessage|sendFrame|sendData|serverSend|handle_reply|send", "(daphne|autobahn)"),
    ),
    (
        "websocket receive (daphne/autobahn/twisted)",
        fn("dataReceived|onMessage|processData|_dataReceived", "(autobahn|twisted|daphne)"),
    ),
    (
        "consumer plumbing (routing, middleware, await_many_dispatch)",
        r"channels/(routing|security|auth|middleware|sessions)",
    ),
    ("redis-py (other commands)", r"redis/asyncio"),
    ("asgiref thread hops (sync_to_async)", r"asgiref/"),
    ("asyncio / twisted event loop", r"(asyncio/|twisted/internet|daphne/server)"),
]

INCLUSIVE = [
    "AsyncConsumer.dispatch",
    "aclose_old_connections",
    "chat_frame",
    "RoomConsumer.receive",
    "asend_message",
    "check_send_message",
    "assess_window",
    "do_moderate_message",
    "do_flag_message",
    "flag_info",
    "send_support",
    "_earlier_send",
    "_check_may_post",
    "_previous_texts",
    "do_post_message",
    "ensure_connection",
    "close_old_connections",
    "execute (psycopg",
    "group_send",
    "receive_single",
    "take_token",
    "publish (chat/events.py)",
    "WebSocketProtocol.sendMessage",
    "async_to_sync",
    "model_dump_json",
    "validate_json",
    "refresh_presence",
]

FRAME = re.compile(r"^(?P<name>.+?) \((?P<path>[^:()]*)(:\d+)?\)$")


def simplify(frame: str) -> str:
    """'name (/long/path/site-packages/pkg/mod.py:12)' -> 'name (pkg/mod.py)'."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("path")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match.group('name')} ({path})"


def thread_kind(stack: list[str]) -> str:
    joined = ";".join(stack)
    if "thread_handler (asgiref" in joined or "_worker (concurrent/futures" in joined:
        if "check_send_message" in joined or "django/db" in joined or "psycopg" in joined:
            return "worker threads (database_sync_to_async)"
        return "worker threads (other sync_to_async)"
    if "run (twisted" in joined or "run_forever" in joined or "mainLoop" in joined:
        return "event loop thread"
    return "other (py-spy could not place the thread)"


def load(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        body, _, count = line.rpartition(" ")
        frames = [simplify(f) for f in body.split(";") if f]
        frames = [f for f in frames if not f.startswith(("thread (", "process "))]
        stacks[tuple(frames)] += int(count)
    return stacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", help="py-spy raw output")
    parser.add_argument("--load-json", help="the bench/load.py JSON line of the profiled run")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=25, help="leaf functions to list")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    stacks = load(Path(args.profile))
    total = sum(stacks.values())
    if not total:
        raise SystemExit("no samples")
    compiled = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]
    exclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for stack, count in stacks.items():
        threads[thread_kind(list(stack))] += count
        leaves[stack[-1] if stack else "?"] += count
        chosen = "other"
        for name, pattern in compiled:
            if any(pattern.search(frame) for frame in stack):
                chosen = name
                break
        exclusive[chosen] += count
        joined = ";".join(stack)
        for key in INCLUSIVE:
            if key in joined:
                inclusive[key] += count

    deliveries = None
    profiled_seconds = total / args.rate  # CPU-seconds sampled (all threads)
    if args.load_json:
        result = json.loads(Path(args.load_json).read_text().strip().splitlines()[-1])
        # load.py --profile samples exactly the measurement window.
        deliveries = result["deliveries_per_s"] * result["duration"]

    def row(count: int) -> dict[str, float | None]:
        share = count / total
        per = share * profiled_seconds / deliveries * 1e6 if deliveries else None
        return {"share": round(100 * share, 1), "us_per_delivery": round(per, 1) if per else None}

    report = {
        "samples": total,
        "cpu_seconds_sampled": round(profiled_seconds, 1),
        "deliveries": deliveries,
        "us_per_delivery": round(profiled_seconds / deliveries * 1e6, 1) if deliveries else None,
        "threads": {k: row(v) for k, v in threads.most_common()},
        "exclusive": {k: row(v) for k, v in exclusive.most_common()},
        "inclusive": {k: row(v) for k, v in inclusive.most_common()},
        "top_leaves": {k: row(v) for k, v in leaves.most_common(args.top)},
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(
        f"{total} samples = {profiled_seconds:.1f} CPU-s"
        + (
            f"; {deliveries:.0f} deliveries; {report['us_per_delivery']} us/delivery"
            if deliveries
            else ""
        )
    )
    for section in ("threads", "exclusive", "inclusive", "top_leaves"):
        print(f"\n## {section}")
        for name, values in report[section].items():
            per = values["us_per_delivery"]
            print(f"{values['share']:6.1f} %  {'' if per is None else f'{per:8.1f} us'}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
