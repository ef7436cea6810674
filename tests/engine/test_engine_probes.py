"""The blind probe sets: written without looking at the engine, measured, kept.

``crisis_probe_a.tsv`` was measured blind and then used to find and fix gaps;
``crisis_probe_b.tsv`` was written at the same time by someone else and measured
blind only after those fixes (see tests/data/README.md for both sets' first
numbers). Neither is the held-out set of the issue's floors
(``test_engine_eval.py``): these tests keep what was reached from sliding back.
"""

from pathlib import Path

import pytest

from moderation.engine import evaluate, parse_eval_file

DATA = Path(__file__).resolve().parents[1] / "data"

# Reached on each set when it was added, rounded down; raise them as the engine improves.
FLOORS = {
    "crisis_probe_a.tsv": {"recall_high_plus": 0.98, "recall_imminent": 0.98, "false_alarm": 0.01},
    "crisis_probe_b.tsv": {"recall_high_plus": 0.59, "recall_imminent": 0.6, "false_alarm": 0.02},
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
