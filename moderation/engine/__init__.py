"""The moderation engine: pure Python, no Django.

Normalise a message, detect crisis language and norm breaches, return a
``Verdict``. Use the module-level ``assess``/``assess_window`` (a shared engine
with the bundled lexicons, loaded once on first use) or build an ``Engine``
from an ``EngineConfig``.
"""

from .engine import (
    Engine,
    EngineConfig,
    Reading,
    assess,
    assess_window,
    default_engine,
    load_engine,
    read,
)
from .evaluation import EvalReport, EvalRow, ParseError, evaluate, parse_eval_file, parse_eval_lines
from .lexicon import Lexicon, LexiconError, Rule, load_lexicon, load_lexicons
from .normalize import Normalised, normalise, normalise_light
from .types import CRISIS_CATEGORIES, NORMS, Span, Tier, Verdict

__all__ = [
    "CRISIS_CATEGORIES",
    "NORMS",
    "Engine",
    "EngineConfig",
    "EvalReport",
    "EvalRow",
    "Lexicon",
    "LexiconError",
    "Normalised",
    "ParseError",
    "Reading",
    "Rule",
    "Span",
    "Tier",
    "Verdict",
    "assess",
    "assess_window",
    "default_engine",
    "evaluate",
    "load_engine",
    "load_lexicon",
    "load_lexicons",
    "normalise",
    "normalise_light",
    "parse_eval_file",
    "parse_eval_lines",
    "read",
]
