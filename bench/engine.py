"""Micro-benchmark of the moderation engine: load time and per-message ``assess`` time.

Run from the repository root::

    .venv/bin/python bench/engine.py            # 20 000 messages, seed 7
    .venv/bin/python bench/engine.py --json     # machine-readable

Messages are generated from a seed: mostly ordinary peer-support chat in the ten
languages, with crisis messages, idioms and contact details mixed in, 10 to 500
characters long. All languages are loaded and no language hint is passed, as in
a mixed room. Not a test: numbers depend on the machine (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.engine import Engine, EngineConfig

# Ordinary chat, written for this benchmark, so that the common case is measured.
PLAIN = {
    "en": [
        "hey everyone, how was your week?",
        "therapy went ok today, we talked about my sleep",
        "thanks for sharing that, it really helps to hear",
        "I tried the breathing exercise and it kind of worked",
        "does anyone else find mornings the hardest part?",
        "my GP changed my meds again, feeling a bit foggy",
        "I went for a walk with my sister and that was nice",
        # " at " and a full stop: what wakes the spelled-out e-mail check.
        "I was at work all day. my boss was nice for once",
        "we met at the park. it was good to get out",
    ],
    "de": [
        "hallo zusammen, wie war eure Woche?",
        "heute war ein schwieriger Tag in der Arbeit",
        "danke, dass du das geteilt hast",
        "ich habe mit meiner Therapeutin über Schlaf geredet",
    ],
    "fr": [
        "salut tout le monde, ça va cette semaine ?",
        "la séance de thérapie s'est plutôt bien passée",
        "merci d'avoir partagé ça, ça m'aide",
    ],
    "es": [
        "hola a todos, ¿qué tal la semana?",
        "hoy hablé con mi psicóloga sobre el sueño",
        "gracias por compartirlo, me ayuda mucho",
    ],
    "it": [
        "ciao a tutti, com'è andata la settimana?",
        "oggi la terapia è andata abbastanza bene",
    ],
    "pl": ["cześć wszystkim, jak minął wam tydzień?", "dzisiaj terapia poszła całkiem dobrze"],
    "cs": ["ahoj všichni, jak se máte tento týden?", "dnes jsem mluvila s terapeutkou o spánku"],
    "ro": ["salut tuturor, cum a fost săptămâna?", "azi am vorbit cu terapeuta despre somn"],
    "nl": ["hoi allemaal, hoe was jullie week?", "vandaag ging de therapie best goed"],
    "pt": ["olá a todos, como foi a semana?", "hoje a terapia correu bastante bem"],
}

CRISIS = [
    "I just want to die",
    "I'm going to kill myself tonight, I have the pills",
    "ich will nicht mehr leben",
    "je veux mourir",
    "ya no quiero vivir",
    "voglio farla finita",
    "chcę umrzeć",
    "už nechci žít",
    "vreau să mor",
    "ik wil dood",
    "quero morrer",
    "k1ll mys3lf",
    "I cut myself again last night",
    "my dad hits me",
]

TRICKY = [
    "this homework is killing me lol",
    "je suis morte de rire",
    "me muero de risa",
    "ich lach mich tot",
    "have you watched 13 Reasons Why?",
    "call 116 123 if you need to talk",
    "call me on 07700 900123",
    "my insta is jane.doe99",
    "see https://example.org/help",
    "you idiot",
    "WHY DOES NOBODY EVER LISTEN TO ME",
]


def make_messages(count: int, seed: int) -> list[str]:
    """Return ``count`` messages of 10 to 500 characters, reproducibly from ``seed``."""
    rng = random.Random(seed)
    languages = list(PLAIN)
    messages = []
    for _ in range(count):
        lang = rng.choice(languages)
        target = int(min(500, max(10, rng.lognormvariate(4.3, 0.8))))
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < target:
            roll = rng.random()
            if roll < 0.06:
                parts.append(rng.choice(CRISIS))
            elif roll < 0.12:
                parts.append(rng.choice(TRICKY))
            else:
                parts.append(rng.choice(PLAIN[lang]))
        messages.append(" ".join(parts)[:500])
    return messages


REFERENCE_TEXT = "hey everyone, how was your week? therapy went ok today " * 8
REFERENCE_PATTERN = re.compile(r"\b(?:th|we|to)\w+")


def reference_us() -> float:
    """Time a fixed piece of Python and ``re`` work that has nothing to do with the engine.

    The machines this runs on differ in speed by 2x from day to day: divide the engine's
    numbers by this one to compare runs taken on different machines.
    """
    best = float("inf")
    for _ in range(200):
        started = time.thread_time_ns()
        counts: dict[str, int] = {}
        for word in REFERENCE_TEXT.split():
            counts[word] = counts.get(word, 0) + 1
        REFERENCE_PATTERN.findall(REFERENCE_TEXT)
        best = min(best, (time.thread_time_ns() - started) / 1000)
    return best


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--ungated", action="store_true", help="scan without the Hyperscan gates (for comparison)"
    )
    args = parser.parse_args()
    gated = not args.ungated

    # Without a cache the matchers compile on first use; prepare() compiles them all.
    started = time.perf_counter()
    # Older engines have no gated_scans option: pass it only to turn the gates off.
    options: dict[str, Any] = {} if gated else {"gated_scans": False}
    lazy = Engine(EngineConfig(**options))
    load_lazy = time.perf_counter() - started
    started = time.perf_counter()
    lazy.prepare()
    prepare = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        Engine(EngineConfig(cache_dir=Path(cache), **options))
        load_cold = time.perf_counter() - started
        started = time.perf_counter()
        engine = Engine(EngineConfig(cache_dir=Path(cache), **options))
        load_warm = time.perf_counter() - started

    messages = make_messages(args.messages, args.seed)
    for text in messages[:2000]:
        engine.assess(text)  # warm the fold tables and the allocator

    wall: list[float] = []
    cpu: list[float] = []
    flagged: list[bool] = []
    started = time.perf_counter()
    for text in messages:
        t0 = time.perf_counter_ns()
        c0 = time.thread_time_ns()
        verdict = engine.assess(text)
        cpu.append((time.thread_time_ns() - c0) / 1000)
        wall.append((time.perf_counter_ns() - t0) / 1000)
        flagged.append(verdict.is_crisis)
    total = time.perf_counter() - started
    plain = [t for t, f in zip(wall, flagged, strict=True) if not f]
    crisis = [t for t, f in zip(wall, flagged, strict=True) if f]

    result = {
        "gated": gated,
        "reference_us": round(reference_us(), 1),
        "messages": len(messages),
        "mean_length": round(statistics.fmean(len(m) for m in messages), 1),
        "load_lazy_s": round(load_lazy, 3),
        "prepare_s": round(prepare, 3),
        "load_cold_s": round(load_cold, 3),
        "load_warm_s": round(load_warm, 3),
        "median_us": round(statistics.median(wall), 1),
        "p99_us": round(percentile(wall, 0.99), 1),
        "cpu_median_us": round(statistics.median(cpu), 1),
        "cpu_p99_us": round(percentile(cpu, 0.99), 1),
        "messages_per_s": round(len(messages) / total),
        "share_flagged": round(len(crisis) / len(messages), 3),
        "plain_median_us": round(statistics.median(plain), 1) if plain else None,
        "flagged_median_us": round(statistics.median(crisis), 1) if crisis else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
