"""Regenerate or check the stored prefilter anchors of the bundled lexicons.

    python -m moderation.engine.anchors           # rewrite moderation/lexicons/anchors.json
    python -m moderation.engine.anchors --check   # exit 1 if it is out of date

Run it after editing a lexicon or the anchor extraction (``prefilter``). A stale
entry is never used (its key no longer matches), it only costs start-up time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .lexicon import ANCHORS_FILE, DEFAULT_LEXICON_DIR, anchors_document, load_lexicons


def render_anchors_file() -> str:
    """Return what ``anchors.json`` must contain for the bundled lexicons."""
    rules = [rule for lexicon in load_lexicons(DEFAULT_LEXICON_DIR) for rule in lexicon.rules]
    document = anchors_document(rules)
    # One rule per line, so that a lexicon edit changes only its rules' lines.
    lines = [
        f"    {json.dumps(rule_id)}: {json.dumps(entry, ensure_ascii=False)}"
        for rule_id, entry in document.pop("rules").items()
    ]
    head = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in document.items()]
    return "{\n" + "\n".join([*head, '  "rules": {', ",\n".join(lines), "  }"]) + "\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write ``anchors.json``, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(prog="python -m moderation.engine.anchors")
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    expected = render_anchors_file()
    try:
        current = ANCHORS_FILE.read_text("utf-8")
    except OSError:
        current = ""
    if args.check:
        if current != expected:
            print(f"{ANCHORS_FILE} is out of date: run python -m moderation.engine.anchors")
            return 1
        return 0
    if current != expected:
        ANCHORS_FILE.write_text(expected, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
