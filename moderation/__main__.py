"""Command line: ``python -m moderation scan`` and ``python -m moderation eval FILE.tsv``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from moderation.engine import Engine, EngineConfig, evaluate, parse_eval_file
from moderation.engine.cache import default_cache_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m moderation", description=__doc__)
    parser.add_argument("--lexicons", type=Path, help="lexicon directory (default: bundled)")
    sub = parser.add_subparsers(dest="command", required=True)

    scan = sub.add_parser("scan", help="assess one message per stdin line, print JSON lines")
    scan.add_argument("--lang", help="language hint (two-letter code)")
    scan.add_argument(
        "--details", action="store_true", help="also print the rules and method_detail"
    )

    ev = sub.add_parser("eval", help="precision and recall on a labelled TSV file")
    ev.add_argument("file", type=Path)
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--misses", action="store_true", help="list the lines the engine got wrong")
    ev.add_argument(
        "--no-hint", action="store_true", help="do not pass the lang column as a language hint"
    )

    args = parser.parse_args(argv)
    cache_dir = default_cache_dir()
    # The scan gates only speed up scanning (verdicts are the same); compiling them
    # costs seconds, which a one-off run without a compile cache would not win back.
    config = EngineConfig(
        lexicon_dir=args.lexicons, cache_dir=cache_dir, gated_scans=cache_dir is not None
    )
    engine = Engine(config)
    if args.command == "scan":
        return _scan(engine, args.lang, args.details)
    return _eval(
        engine, args.file, as_json=args.json, show_misses=args.misses, hint=not args.no_hint
    )


def _scan(engine: Engine, lang: str | None, details: bool) -> int:
    for line in sys.stdin:
        verdict = engine.assess(line.rstrip("\r\n"), lang=lang)
        data = verdict.to_dict()
        if not details:
            data = {k: data[k] for k in ("tier", "categories", "norms", "spans")}
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    return 0


def _eval(engine: Engine, path: Path, *, as_json: bool, show_misses: bool, hint: bool) -> int:
    rows, errors = parse_eval_file(path)
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    if not rows:
        print(f"{path}: no usable rows", file=sys.stderr)
        return 0 if errors and errors[0].line > 0 else (2 if errors else 0)
    predictions = [
        engine.assess(r.text, lang=r.lang if hint and len(r.lang) == 2 else None) for r in rows
    ]
    report = evaluate(rows, predictions)
    if as_json:
        data = report.to_dict()
        data["errors"] = [str(e) for e in errors]
        if not show_misses:
            data.pop("misses")
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(report.format_text(show_misses=show_misses))
        if errors:
            print(f"\n{len(errors)} malformed line(s) skipped (see stderr)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
