"""Compare the moderation engine of another commit with this tree's, in one process.

Run from the repository root::

    .venv/bin/python bench/engine_ab.py cff26c1                 # 5,000 messages, best of 5
    .venv/bin/python bench/engine_ab.py cff26c1 --messages 2000 --passes 3 --json

The other commit's ``moderation`` package is extracted (``git archive``) into a
temporary directory as ``moderation_base`` and both engines are built, each with a
compile cache of its own. Every message of the ``bench/engine.py`` mix is then timed
with the base engine and with this tree's, one after the other, and keeps its best of
the passes. On a shared machine whose speed drifts from minute to minute (separate runs
of ``bench/engine.py`` may differ by half), the two versions are so measured under the
same conditions. Not a test: see bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import make_messages, percentile  # noqa: E402


def extract_base(revision: str, into: Path) -> None:
    """Write the ``moderation`` package of ``revision`` to ``into/moderation_base``."""
    archive = subprocess.run(
        ["git", "archive", revision, "moderation"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "moderation").rename(into / "moderation_base")


def best_times(
    functions: tuple[Callable[[str], Any], Callable[[str], Any]], texts: list[str], passes: int
) -> tuple[list[float], list[float]]:
    """Return, per text, the best time (µs) of each function, timed alternately.

    The side timed second runs with the text (and what the first run left in the
    CPU caches) warm, which is worth several per cent: the order flips at every pass.
    """
    best: tuple[list[float], list[float]] = (
        [float("inf")] * len(texts),
        [float("inf")] * len(texts),
    )
    clock = time.perf_counter_ns
    for number in range(passes):
        order = (0, 1) if number % 2 == 0 else (1, 0)
        for index, text in enumerate(texts):
            for side in order:
                function = functions[side]
                started = clock()
                function(text)
                elapsed = (clock() - started) / 1000
                if elapsed < best[side][index]:
                    best[side][index] = elapsed
    return best


def summary(times: list[float]) -> dict[str, float]:
    return {
        "median_us": round(statistics.median(times), 1),
        "p99_us": round(percentile(times, 0.99), 1),
        "mean_us": round(statistics.fmean(times), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the commit to compare with (e.g. a hash or main~3)")
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        base_dir = Path(scratch)
        extract_base(args.revision, base_dir)
        sys.path.insert(0, str(base_dir))
        engines = []
        for package in ("moderation_base", "moderation"):
            module = importlib.import_module(f"{package}.engine")
            cache = base_dir / f"cache-{package}"
            engines.append((module, module.Engine(module.EngineConfig(cache_dir=cache))))

        messages = make_messages(args.messages + 1000, args.seed)
        for text in messages[:1000]:  # warm the fold tables and the allocator
            for _, engine in engines:
                engine.assess(text)
        texts = messages[1000:]

        measured: dict[str, Callable[[Any, Any], Callable[[str], Any]]] = {
            "assess": lambda module, engine: engine.assess,
            "normalise": lambda module, engine: module.normalise,
            "norm_checks": lambda module, engine: engine._norms.check,
        }
        result: dict[str, Any] = {"revision": args.revision, "messages": len(texts)}
        for name, pick in measured.items():
            old, new = (pick(module, engine) for module, engine in engines)
            base, now = best_times((old, new), texts, args.passes)
            result[name] = {"base": summary(base), "now": summary(now)}

    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{len(texts)} messages, best of {args.passes}; base {args.revision} -> this tree")
    for name in measured:
        base, now = result[name]["base"], result[name]["now"]
        cells = ", ".join(f"{key[:-3]} {base[key]} -> {now[key]}" for key in base)
        print(f"{name:>12}: {cells} (µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
