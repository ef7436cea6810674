"""Measure the engine against a labelled TSV file (see docs/moderation.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .types import CRISIS_CATEGORIES, NORMS, Tier, Verdict

_TIERS = {t.value: t for t in Tier}
_HEADER_FIRST = ("lang",)


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One labelled message."""

    line: int
    lang: str
    tier: Tier
    categories: frozenset[str]
    norms: frozenset[str]
    text: str
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ParseError:
    """A malformed line: its number and what is wrong with it."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_eval_lines(lines: Iterable[str]) -> tuple[list[EvalRow], list[ParseError]]:
    """Parse ``lang<TAB>expected<TAB>text[<TAB>tags]`` lines; collect errors, never raise."""
    rows: list[EvalRow] = []
    errors: list[ParseError] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if number == 1 and cols[0].strip().lower() in _HEADER_FIRST:
            continue
        if len(cols) < 3:
            errors.append(
                ParseError(number, f"expected at least 3 tab-separated columns, got {len(cols)}")
            )
            continue
        if len(cols) > 4:
            errors.append(ParseError(number, f"expected at most 4 columns, got {len(cols)}"))
            continue
        lang, expected, text = cols[0].strip(), cols[1].strip(), cols[2]
        tags = (
            frozenset(t.strip() for t in cols[3].split(",") if t.strip())
            if len(cols) == 4
            else frozenset()
        )
        if not lang:
            errors.append(ParseError(number, "empty language column"))
            continue
        parsed = _parse_expected(expected)
        if isinstance(parsed, str):
            errors.append(ParseError(number, parsed))
            continue
        tier, categories, norms = parsed
        rows.append(EvalRow(number, lang, tier, categories, norms, text, tags))
    return rows, errors


def _parse_expected(expected: str) -> tuple[Tier, frozenset[str], frozenset[str]] | str:
    if not expected:
        return "empty expected column"
    tier: Tier | None = None
    categories: set[str] = set()
    norms: set[str] = set()
    for label in expected.split("+"):
        label = label.strip().lower()
        if label in _TIERS:
            if tier is not None:
                return f"more than one tier in {expected!r}"
            tier = _TIERS[label]
        elif label in CRISIS_CATEGORIES:
            categories.add(label)
        elif label in NORMS:
            norms.add(label)
        else:
            return f"unknown label {label!r} in {expected!r}"
    return tier or Tier.NONE, frozenset(categories), frozenset(norms)


def parse_eval_file(path: Path) -> tuple[list[EvalRow], list[ParseError]]:
    """Read a labelled file; a file that cannot be read is reported as an error at line 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [ParseError(0, f"cannot read {path}: {exc}")]
    return parse_eval_lines(text.splitlines())


@dataclass(frozen=True, slots=True)
class PrecisionRecall:
    """Precision and recall with the counts behind them."""

    true_positives: int
    predicted: int
    expected: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "true_positives": self.true_positives,
            "predicted": self.predicted,
            "expected": self.expected,
        }


@dataclass(frozen=True, slots=True)
class Miss:
    """A row whose prediction disagrees with its label on a gate metric."""

    line: int
    lang: str
    expected: str
    predicted: str
    text: str


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The numbers of one evaluation run."""

    rows: int
    per_tier: dict[str, PrecisionRecall]
    per_language: dict[str, PrecisionRecall]
    per_norm: dict[str, PrecisionRecall]
    recall_high_plus: float
    recall_imminent: float
    hard_negative_false_alarm: float
    hard_negative_basis: str
    hard_negatives: int
    norm_recall: float
    misses: tuple[Miss, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        return {
            "rows": self.rows,
            "gates": {
                "recall_high_plus": round(self.recall_high_plus, 4),
                "recall_imminent": round(self.recall_imminent, 4),
                "hard_negative_false_alarm": round(self.hard_negative_false_alarm, 4),
                "hard_negative_basis": self.hard_negative_basis,
                "hard_negatives": self.hard_negatives,
                "norm_recall": round(self.norm_recall, 4),
            },
            "per_tier": {k: v.to_dict() for k, v in self.per_tier.items()},
            "per_language_high_plus": {k: v.to_dict() for k, v in self.per_language.items()},
            "per_norm": {k: v.to_dict() for k, v in self.per_norm.items()},
            "misses": [
                {"line": m.line, "lang": m.lang, "expected": m.expected, "predicted": m.predicted}
                for m in self.misses
            ],
        }

    def format_text(self, *, show_misses: bool = False) -> str:
        """Return a human-readable report."""
        out = [f"rows: {self.rows}", "", "gate metrics:"]
        out.append(f"  recall high+imminent (predicted >= high): {self.recall_high_plus:.3f}")
        out.append(f"  recall imminent as imminent:              {self.recall_imminent:.3f}")
        out.append(
            f"  high-or-above false alarms on {self.hard_negative_basis} "
            f"({self.hard_negatives}): {self.hard_negative_false_alarm:.3f}"
        )
        out.append(f"  norm recall:                              {self.norm_recall:.3f}")
        out.append("")
        out.append("per tier (exact tier):       precision  recall   n")
        for name, pr in self.per_tier.items():
            out.append(f"  {name:<26} {pr.precision:9.3f} {pr.recall:7.3f} {pr.expected:4d}")
        out.append("")
        out.append("per language (high+imminent): precision  recall   n")
        for name, pr in self.per_language.items():
            out.append(f"  {name:<26} {pr.precision:9.3f} {pr.recall:7.3f} {pr.expected:4d}")
        out.append("")
        out.append("per norm:                     precision  recall   n")
        for name, pr in self.per_norm.items():
            out.append(f"  {name:<26} {pr.precision:9.3f} {pr.recall:7.3f} {pr.expected:4d}")
        if show_misses and self.misses:
            out.append("")
            out.append("misses:")
            for m in self.misses:
                out.append(
                    f"  line {m.line} [{m.lang}] expected {m.expected}, got {m.predicted}: {m.text}"
                )
        return "\n".join(out)


def evaluate(rows: Sequence[EvalRow], predictions: Sequence[Verdict] | None = None) -> EvalReport:
    """Score ``rows``; predictions default to the default engine's ``assess`` per row."""
    if predictions is None:
        from .engine import default_engine

        engine = default_engine()
        predictions = [
            engine.assess(r.text, lang=r.lang if len(r.lang) == 2 else None) for r in rows
        ]
    if len(predictions) != len(rows):
        raise ValueError("one prediction per row is needed")

    tier_counts: dict[str, list[int]] = {t.value: [0, 0, 0] for t in Tier}
    lang_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    norm_counts: dict[str, list[int]] = {n: [0, 0, 0] for n in sorted(NORMS)}
    high_expected = high_hit = imminent_expected = imminent_hit = 0
    norm_expected = norm_hit = 0
    any_tags = any(r.tags for r in rows)
    negatives = false_alarms = 0
    misses: list[Miss] = []

    for row, verdict in zip(rows, predictions, strict=True):
        predicted = verdict.tier
        counts = tier_counts[row.tier.value]
        counts[2] += 1
        tier_counts[predicted.value][1] += 1
        if predicted == row.tier:
            counts[0] += 1

        lang = lang_counts[row.lang]
        exp_high = row.tier >= Tier.HIGH
        pred_high = predicted >= Tier.HIGH
        lang[1] += pred_high
        lang[2] += exp_high
        lang[0] += exp_high and pred_high
        missed = False
        if exp_high:
            high_expected += 1
            high_hit += pred_high
            missed = not pred_high
        if row.tier is Tier.IMMINENT:
            imminent_expected += 1
            imminent_hit += predicted is Tier.IMMINENT
            missed = missed or predicted is not Tier.IMMINENT

        is_negative = "hard_negative" in row.tags if any_tags else row.tier < Tier.HIGH
        if is_negative:
            negatives += 1
            false_alarms += pred_high
            missed = missed or pred_high

        for norm in sorted(NORMS):
            n = norm_counts[norm]
            n[1] += norm in verdict.norms
            n[2] += norm in row.norms
            n[0] += norm in verdict.norms and norm in row.norms
        for norm in row.norms:
            norm_expected += 1
            if norm in verdict.norms:
                norm_hit += 1
            else:
                missed = True
        if missed:
            misses.append(
                Miss(
                    row.line,
                    row.lang,
                    "+".join([row.tier.value, *sorted(row.categories), *sorted(row.norms)]),
                    "+".join(
                        [predicted.value, *sorted(verdict.categories), *sorted(verdict.norms)]
                    ),
                    row.text,
                )
            )

    def pr(c: list[int]) -> PrecisionRecall:
        return PrecisionRecall(c[0], c[1], c[2])

    return EvalReport(
        rows=len(rows),
        per_tier={k: pr(v) for k, v in tier_counts.items()},
        per_language={k: pr(v) for k, v in sorted(lang_counts.items())},
        per_norm={k: pr(v) for k, v in norm_counts.items()},
        recall_high_plus=high_hit / high_expected if high_expected else 1.0,
        recall_imminent=imminent_hit / imminent_expected if imminent_expected else 1.0,
        hard_negative_false_alarm=false_alarms / negatives if negatives else 0.0,
        hard_negative_basis="hard negatives" if any_tags else "lines expected below high",
        hard_negatives=negatives,
        norm_recall=norm_hit / norm_expected if norm_expected else 1.0,
        misses=tuple(misses),
    )
