"""Step the per-client rate up until p99 goes over the limit; then load at twice the rate.

    .venv/bin/python bench/sweep.py --target baseline --rates 0.5,1,2,3,4,6,8
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/sweep.py --target peerchat --rates 0.05,0.1,0.2,0.3,0.5

Starts one daphne process for the target (bench/servers.py; peerchat with
``bench.peerchat_settings``, i.e. the send-rate limit raised), runs ``bench/load.py`` once
per rate (a separate process each time, ``--duration`` seconds measured after
``--warmup``), and stops at the first rate that fails: p99 over ``--p99-ms``, any loss,
or fewer than 95 % of the deliveries the messages sent in the window call for. One
bisection step between the last pass and the first failure refines the saturating rate;
then one run at twice that rate measures loss under overload. Every run's JSON line goes
to ``--out`` (appended), then a summary line with ``"summary": true``. At most
``2 * len(rates) + 2`` runs (a failed run is retried once when other processes took more
than ``--contended`` cores during it; each run waits up to ``--quiet-wait`` s for the
machine to go quiet first); each is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.servers import Cluster, spawn_cluster  # noqa: E402


def expected_per_s(result: dict[str, Any]) -> float:
    """Deliveries/s the messages actually sent in the window call for (at low rates the
    random send phases make the sent count differ from rate x clients)."""
    members = result["offered_deliveries_per_s"] / (result["rate"] * result["clients"])
    return result["sent_per_s"] * members


def passes(result: dict[str, Any], p99_ms: float) -> bool:
    p99 = result["latency_ms"]["p99"]
    return (
        p99 is not None
        and p99 <= p99_ms
        and result["lost"] == 0
        and result["connected"] >= result["clients"]
        and result["deliveries_per_s"] >= 0.95 * expected_per_s(result)
        and not result["errors"]
    )


def busy_fraction(seconds: float) -> float:
    """Fraction of all cores busy over the next `seconds`."""

    def ticks() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4], sum(fields)

    busy0, total0 = ticks()
    time.sleep(seconds)
    busy1, total1 = ticks()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_quiet(threshold: float, bound: float) -> float:
    """Wait (at most `bound` seconds) until the machine is quiet; return the last reading.

    The machine may be shared (other people's test runs): a run that starts while the
    cores are busy measures the neighbours, not the server.
    """
    deadline = time.monotonic() + bound
    reading = busy_fraction(2.0)
    while reading > threshold and time.monotonic() < deadline:
        reading = busy_fraction(2.0)
    return reading


def run_load(args: argparse.Namespace, server: Cluster, rate: float, label: str) -> dict[str, Any]:
    quiet = wait_quiet(args.quiet_below, args.quiet_wait) if args.quiet_wait > 0 else None
    command = [
        sys.executable,
        str(REPO_ROOT / "bench" / "load.py"),
        "--target",
        args.target,
        "--url",
        server.url,
        "--clients",
        str(args.clients),
        "--rooms",
        str(args.rooms),
        "--rate",
        f"{rate:g}",
        "--duration",
        f"{args.duration:g}",
        "--warmup",
        f"{args.warmup:g}",
        *[arg for pid in server.pids for arg in ("--server-pid", str(pid))],
        "--label",
        label,
        "--users-file",
        args.users_file,
        *args.load_args,
    ]
    bound = 120 + args.duration + args.warmup + 300
    done = subprocess.run(command, capture_output=True, text=True, timeout=bound, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load.py failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["loadavg"] = os.getloadavg()
    result["busy_before"] = round(quiet, 3) if quiet is not None else None
    return result


def contended(result: dict[str, Any], limit: float) -> bool:
    return result.get("other_cpu") is not None and result["other_cpu"] > limit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["peerchat", "baseline"], required=True)
    parser.add_argument("--rates", required=True, help="comma-separated, ascending")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--p99-ms", type=float, default=100.0)
    parser.add_argument(
        "--processes", type=int, default=1, help="daphnes; more than one: behind nginx"
    )
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between runs")
    parser.add_argument(
        "--quiet-below", type=float, default=0.2, help="start a run when cores are this idle"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=90.0, help="max seconds to wait for quiet (0: no)"
    )
    parser.add_argument(
        "--contended", type=float, default=0.5, help="retry a failed run once if other_cpu >"
    )
    parser.add_argument("--users-file", default=str(REPO_ROOT / "bench" / "out" / "users.json"))
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "out" / "sweep.jsonl"))
    parser.add_argument("--profile", help="run daphne under py-spy; raw stacks to this file")
    parser.add_argument("--no-overload", action="store_true", help="skip the run at twice the rate")
    parser.add_argument("load_args", nargs="*", help="more bench/load.py options, after --")
    args = parser.parse_args(argv)
    rates = sorted(float(r) for r in args.rates.split(","))
    if len(rates) > 20:
        parser.error("at most 20 rates")
    if args.profile and args.processes > 1:
        parser.error("--profile profiles one daphne: use --processes 1")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    if args.target == "peerchat":
        if not os.environ.get("DATABASE_URL"):
            parser.error("peerchat needs DATABASE_URL (and REDIS_URL) like the server")
        setup = [
            sys.executable,
            str(REPO_ROOT / "bench" / "setup_users.py"),
            "--users",
            str(max(args.clients, args.rooms)),
            "--rooms",
            str(args.rooms),
            "--moderators",
            "--out",
            args.users_file,
        ]
        subprocess.run(setup, check=True, timeout=600)
    profile = Path(args.profile) if args.profile else None
    server = spawn_cluster(args.target, args.processes, profile=profile)
    results: list[dict[str, Any]] = []

    def record(result: dict[str, Any]) -> None:
        results.append(result)
        with out.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
        lat = result["latency_ms"]
        print(
            f"{result['label']:>14} rate={result['rate']:<6g} "
            f"deliveries/s={result['deliveries_per_s']:<8} "
            f"offered={result['offered_deliveries_per_s']:<8} "
            f"p50={lat['p50']} p99={lat['p99']} lost={result['lost']} "
            f"missed_live={result['missed_live']} errors={result['errors']} "
            f"server_cpu={result['server_cpu']} us/delivery={result['server_us_per_delivery']} "
            f"other_cpu={result['other_cpu']}",
            flush=True,
        )

    try:
        best: dict[str, Any] | None = None
        failed_rate = None
        for rate in rates:
            result = run_load(args, server, rate, f"{args.target}-step")
            record(result)
            if not passes(result, args.p99_ms) and contended(result, args.contended):
                time.sleep(args.pause)
                result = run_load(args, server, rate, f"{args.target}-retry")
                record(result)
            if not passes(result, args.p99_ms):
                failed_rate = rate
                break
            best = result
            time.sleep(args.pause)
        if best is not None and failed_rate is not None:
            middle = round((best["rate"] + failed_rate) / 2, 4)
            time.sleep(args.pause)
            result = run_load(args, server, middle, f"{args.target}-bisect")
            record(result)
            if passes(result, args.p99_ms):
                best = result
        overload = None
        if best is not None and not args.no_overload:
            time.sleep(args.pause)
            overload = run_load(args, server, 2 * best["rate"], f"{args.target}-2x")
            record(overload)
    finally:
        code = server.stop()
    summary = {
        "summary": True,
        "target": args.target,
        "clients": args.clients,
        "rooms": args.rooms,
        "processes": args.processes,
        "p99_limit_ms": args.p99_ms,
        "saturating_rate": best["rate"] if best else None,
        "deliveries_per_s": best["deliveries_per_s"] if best else None,
        "p99_ms": best["latency_ms"]["p99"] if best else None,
        "server_cpu": best["server_cpu"] if best else None,
        "overload": None
        if overload is None
        else {
            "rate": overload["rate"],
            "deliveries_per_s": overload["deliveries_per_s"],
            "offered_deliveries_per_s": overload["offered_deliveries_per_s"],
            "expected_deliveries": overload["expected_deliveries"],
            "missed_live": overload["missed_live"],
            "recovered_by_resume": overload["recovered_by_resume"],
            "lost": overload["lost"],
            "errors": overload["errors"],
            "p99_ms": overload["latency_ms"]["p99"],
        },
        "server_exit": code,
    }
    with out.open("a") as handle:
        handle.write(json.dumps(summary) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
