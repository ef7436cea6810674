"""Profile one daphne under one bench/load.py run: py-spy raw stacks + the load's JSON line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/profile_run.py --target peerchat --rate 0.05 --name peerchat
    .venv/bin/python bench/profile_report.py bench/out/profile-peerchat.txt \\
        --load-json bench/out/profile-peerchat-load.json

Starts daphne, runs bench/load.py once with ``--profile``: load.py attaches
``py-spy record --format raw --threads --nonblocking`` (``--gil`` with ``--gil``: only the
thread holding the GIL, i.e. Python CPU time; without it, wall time of every thread not
idle) for exactly the measurement window, after the connections and the warmup.
``--app`` / ``--settings`` / ``--env K=V`` profile a
what-if variant (bench/variant_asgi.py, bench/variant_settings.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.servers import spawn  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["peerchat", "baseline"], default="peerchat")
    parser.add_argument("--name", required=True, help="output: bench/out/profile-NAME.*")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--app")
    parser.add_argument("--settings")
    parser.add_argument("--env", action="append", default=[], help="K=V for daphne")
    parser.add_argument("--no-profile", action="store_true", help="just the load run")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--gil", action="store_true", help="py-spy --gil: CPU, not wall")
    parser.add_argument("load_args", nargs="*", help="more bench/load.py options, after --")
    args = parser.parse_args(argv)
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    profile = None if args.no_profile else out / f"profile-{args.name}.txt"
    server = spawn(args.target, env=env, app=args.app, settings_module=args.settings)
    try:
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
            f"{args.rate:g}",
            "--warmup",
            f"{args.warmup:g}",
            "--duration",
            f"{args.duration:g}",
            "--server-pid",
            str(server.pid),
            "--label",
            args.name,
            *(["--profile", str(profile)] if profile else []),
            *(["--profile-gil"] if args.gil else []),
            *args.load_args,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.duration + 600, check=False
        )
    finally:
        server.stop(60)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    line = done.stdout.strip().splitlines()[-1]
    (out / f"profile-{args.name}-load.json").write_text(line + "\n")
    with (out / "variants.jsonl").open("a") as handle:
        handle.write(line + "\n")
    result = json.loads(line)
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "label",
                    "rate",
                    "deliveries_per_s",
                    "offered_deliveries_per_s",
                    "latency_ms",
                    "ack_ms",
                    "lost",
                    "missed_live",
                    "server_cpu",
                    "server_us_per_delivery",
                    "other_cpu",
                )
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
