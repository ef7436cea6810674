"""The blind probe sets: written without looking at the engine, measured, kept.

Each set was measured blind, then (A and B) used to find and fix gaps; the next set
was written independently and measured blind only after those fixes (see
tests/data/README.md for every set's first numbers). None is the held-out set of
the issue's floors (``test_engine_eval.py``): these tests keep what was reached
from sliding back. Set C is still blind: fix its gaps only together with a new
blind set to measure the fixes on.
"""

from pathlib import Path

import pytest

from moderation.engine import evaluate, parse_eval_file

DATA = Path(__file__).resolve().parents[1] / "data"

# Reached on each set when it was added, rounded down; raise them as the engine improves.
FLOORS = {
    "crisis_probe_a.tsv": {"recall_high_plus": 0.98, "recall_imminent": 0.98, "false_alarm": 0.01},
    "crisis_probe_b.tsv": {"recall_high_plus": 0.98, "recall_imminent": 0.98, "false_alarm": 0.01},
    "crisis_probe_c.tsv": {"recall_high_plus": 0.55, "recall_imminent": 0.56, "false_alarm": 0.034},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_probe_sets_do_not_slide_back(name: str) -> None:
    rows, errors = parse_eval_file(DATA / name)
    assert not errors, errors[:5]
    assert len(rows) == 300
    report = evaluate(rows)
    floor = FLOORS[name]
    assert report.recall_high_plus >= floor["recall_high_plus"]
    assert report.recall_imminent >= floor["recall_imminent"]
    assert report.hard_negative_false_alarm <= floor["false_alarm"]


def test_everyday_chat_raises_no_alert_at_high_or_above() -> None:
    # 400 ordinary group-chat messages (check-ins, medication routines, therapy,
    # cooking, jokes, goodbyes before a holiday), written without looking at the engine.
    rows, errors = parse_eval_file(DATA / "everyday_chat.tsv")
    assert not errors, errors[:5]
    assert len(rows) == 400
    report = evaluate(rows)
    assert report.hard_negative_false_alarm == 0.0
