"""Keep compiled lexicon matchers on disk so an engine starts in a fraction of a second.

Compiling the lexicons into regular expressions takes seconds of pure-Python
work inside ``re`` (parsing and code generation), repeated by every process
that starts an engine. The result is deterministic, so it is cached:

* each lexicon file as parsed TOML, keyed by a hash of the file's bytes;
* the matcher's regex source, which lexicon rule each capture group stands
  for and the matcher's prefilter anchors, keyed by a hash of the rules and of
  this module's format version;
* the compiled ``re`` program (a list of integers), keyed by a hash of the
  source, the Python version and the ``_sre`` magic number, then loaded with
  ``_sre.compile`` exactly as ``re.compile`` would load it;
* the serialised Hyperscan database of a matcher's gate (see ``gate``), keyed by
  the matcher's rules, the gate's format and the Hyperscan version; Hyperscan
  refuses a database built for another version or CPU, which means a rebuild.

Anything unexpected (another Python, a corrupt or truncated file, an
unwritable directory) falls back to compiling; the cache can only make start-up
faster, never change a match. ``_sre`` validates a program before using it.
Point the cache at a directory that only the service account can write: a
planted file there could change what the engine matches.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import marshal
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT_VERSION = 12
"""Bump when the matcher's source layout changes, to ignore old entries."""

_SRE: Any = importlib.import_module("_sre")
_PARSER: Any = importlib.import_module("re._parser")
_COMPILER: Any = importlib.import_module("re._compiler")
_RUNTIME = f"{sys.version}|{getattr(_SRE, 'MAGIC', '')}|{getattr(_SRE, 'CODESIZE', '')}"


def default_cache_dir() -> Path | None:
    """Return ``$PEERCHAT_ENGINE_CACHE_DIR`` if set, else None (no cache).

    The cache is opt-in: a file planted in it could change what the engine matches,
    so only a directory that the service account alone can write should be named.
    """
    base = os.environ.get("PEERCHAT_ENGINE_CACHE_DIR", "").strip()
    return Path(base) if base else None


def digest(*parts: str) -> str:
    """Return a hex SHA-256 of ``parts``, separated so that ("ab", "c") != ("a", "bc")."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


class CompileCache:
    """A directory of cached matcher layouts and compiled regex programs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load_layout(self, key: str) -> dict[str, Any] | None:
        """Return the stored layout for ``key``, or None."""
        try:
            data = json.loads((self.directory / f"{key}.layout.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT_VERSION else None

    def store_layout(self, key: str, layout: dict[str, Any]) -> None:
        """Store ``layout`` for ``key``; failures are ignored."""
        payload = json.dumps({**layout, "format": FORMAT_VERSION}, ensure_ascii=False)
        self._write(f"{key}.layout.json", payload.encode("utf-8"))

    def load_blob(self, name: str) -> bytes | None:
        """Return the bytes stored under ``name``, or None."""
        try:
            return (self.directory / name).read_bytes()
        except OSError:
            return None

    def store_blob(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name``; failures are ignored."""
        self._write(name, data)

    def compile(self, source: str) -> re.Pattern[str]:
        """Return ``re.compile(source)``, reusing a stored program when there is one."""
        key = digest(_RUNTIME, source)
        path = self.directory / f"{key}.sre"
        try:
            stored = marshal.loads(path.read_bytes())
            pattern = _SRE.compile(source, *stored[:4], tuple(stored[4]))
            if isinstance(pattern, re.Pattern) and pattern.pattern == source:
                return pattern
        except Exception:  # any failure (missing, truncated, other build) means recompile
            pass
        parsed = _PARSER.parse(source, 0)
        code = _COMPILER._code(parsed, 0)
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        flags = int(parsed.state.flags)
        groups = int(parsed.state.groups) - 1
        # Opcodes are int subclasses; marshal stores plain ints only.
        program = [int(op) for op in code]
        pattern = _SRE.compile(source, flags, program, groups, groupindex, tuple(indexgroup))
        self._write(f"{key}.sre", marshal.dumps((flags, program, groups, groupindex, indexgroup)))
        assert isinstance(pattern, re.Pattern)
        return pattern

    def _write(self, name: str, data: bytes) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, self.directory / name)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            # A read-only or missing cache only costs start-up time.
            return
