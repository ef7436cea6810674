"""Gaps found by probing the engine with new messages, each checked after its fix.

Unlike ``tests/data/crisis_eval.tsv`` (written without looking at the engine, a
held-out measure), ``crisis_regressions.tsv`` holds messages that the engine got
wrong when they were tried, and the fixes' false-alarm checks: every line must come
out with exactly its labelled tier and at least its labelled categories and norms,
with the language hint and without it.
"""

from pathlib import Path

import pytest

from moderation.engine import assess, parse_eval_file
from moderation.engine.evaluation import EvalRow

FILE = Path(__file__).resolve().parents[1] / "data" / "crisis_regressions.tsv"


def _rows() -> list[EvalRow]:
    rows, errors = parse_eval_file(FILE)
    assert not errors, errors
    return rows


def test_the_file_is_well_formed() -> None:
    assert len(_rows()) >= 20


@pytest.mark.parametrize("hinted", [True, False], ids=["hint", "no-hint"])
@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r.line}-{r.lang}")
def test_each_message_gets_its_label(row: EvalRow, hinted: bool) -> None:
    lang = row.lang if hinted and row.lang != "mul" else None
    verdict = assess(row.text, lang=lang)
    assert verdict.tier is row.tier, row.text
    assert row.categories <= verdict.categories, row.text
    assert row.norms <= verdict.norms, row.text
