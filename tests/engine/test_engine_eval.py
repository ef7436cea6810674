"""The evaluation: metrics on small rows, and the floors on the labelled set."""

from pathlib import Path

import pytest

from moderation.engine import Tier, Verdict, evaluate, parse_eval_file, parse_eval_lines

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "crisis_eval.tsv"


def test_metrics_count_what_they_say() -> None:
    rows, errors = parse_eval_lines(
        [
            "lang\texpected\ttext\ttags",
            "en\thigh+suicide\ta\t",
            "en\timminent+suicide\tb\t",
            "en\tnone\tc\thard_negative",
            "en\tnone+contact_info\td\tnorm",
            "de\tconcern+distress\te\thard_negative",
        ]
    )
    assert not errors
    predictions = [
        Verdict(tier=Tier.HIGH),
        Verdict(tier=Tier.HIGH),  # imminent predicted as high: counts for recall >= high only
        Verdict(tier=Tier.HIGH),  # a false alarm on a hard negative
        Verdict(tier=Tier.NONE, norms=frozenset({"contact_info"})),
        Verdict(tier=Tier.CONCERN),
    ]
    report = evaluate(rows, predictions)
    assert report.recall_high_plus == 1.0
    assert report.recall_imminent == 0.0
    assert report.hard_negative_false_alarm == 0.5
    assert report.norm_recall == 1.0
    assert report.per_tier["high"].precision == pytest.approx(1 / 3)
    assert report.per_language["en"].recall == 1.0


def test_without_tags_false_alarms_count_over_lines_below_high() -> None:
    rows, _ = parse_eval_lines(["en\tnone\ta", "en\tconcern+distress\tb", "en\thigh\tc"])
    report = evaluate(rows, [Verdict(tier=Tier.HIGH), Verdict(), Verdict(tier=Tier.HIGH)])
    assert report.hard_negative_basis == "lines expected below high"
    assert report.hard_negative_false_alarm == 0.5


def test_eval_set_meets_floors() -> None:
    if not EVAL_SET.exists():
        pytest.skip(f"{EVAL_SET} is not there yet (it is written separately)")
    rows, errors = parse_eval_file(EVAL_SET)
    assert not errors, errors[:5]
    report = evaluate(rows)
    assert report.recall_high_plus >= 0.95
    assert report.recall_imminent >= 0.85
    assert report.hard_negative_false_alarm <= 0.05
    assert report.norm_recall >= 0.9
