"""The command line, run as users run it: ``python -m moderation ...`` in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
        env=env,
    )


def test_scan_writes_one_json_object_per_line() -> None:
    result = run("scan", stdin="I want to die tonight\nhello everyone\ncall 07700 900123\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["tier"] for line in lines] == ["imminent", "none", "none"]
    assert lines[0]["categories"] == ["suicide"]
    assert lines[2]["norms"] == ["contact_info"]
    assert set(lines[0]) == {"tier", "categories", "norms", "spans"}
    start, end, category = lines[0]["spans"][0]
    assert "I want to die tonight"[start:end] and category == "suicide"


def test_scan_accepts_a_language_hint() -> None:
    result = run("scan", "--lang", "de", stdin="ich will sterben\n")
    assert json.loads(result.stdout)["tier"] == "high"


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "set.tsv"
    path.write_text(
        "lang\texpected\ttext\ttags\n"
        "en\thigh+suicide\tI want to die\t\n"
        "en\timminent+suicide\tI took 30 pills\t\n"
        "en\tnone\tthis homework is killing me\thard_negative,idiom\n"
        "en\tnone+contact_info\tcall me on 07700 900123\tnorm\n"
        "de\thigh+suicide\tich will sterben\t\n",
        encoding="utf-8",
    )
    return path


def test_eval_prints_the_gate_metrics(labelled: Path) -> None:
    result = run("eval", str(labelled))
    assert result.returncode == 0, result.stderr
    assert "recall high+imminent (predicted >= high): 1.000" in result.stdout
    assert "per language" in result.stdout


def test_eval_json_reports_per_tier_and_per_language(labelled: Path) -> None:
    result = run("eval", str(labelled), "--json")
    data = json.loads(result.stdout)
    assert data["rows"] == 5
    assert data["gates"]["recall_imminent"] == 1.0
    assert data["gates"]["hard_negative_false_alarm"] == 0.0
    assert data["gates"]["norm_recall"] == 1.0
    assert set(data["per_language_high_plus"]) == {"en", "de"}


def test_eval_reports_malformed_lines_and_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(
        "en\thigh+suicide\tI want to die\n"
        "en\tsevere\tunknown tier\n"
        "only one column\n"
        "en\thigh+concern\ttwo tiers\n",
        encoding="utf-8",
    )
    result = run("eval", str(path))
    assert result.returncode == 0
    assert "line 2: unknown label 'severe'" in result.stderr
    assert "line 3: expected at least 3 tab-separated columns" in result.stderr
    assert "line 4: more than one tier" in result.stderr
    assert "rows: 1" in result.stdout


def test_eval_of_a_missing_file_is_an_error_message(tmp_path: Path) -> None:
    result = run("eval", str(tmp_path / "nope.tsv"))
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


def test_engine_imports_without_django() -> None:
    code = (
        "import sys\n"
        "import moderation.engine as e\n"
        "e.assess('I want to die')\n"
        "assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# "je" is "I" in French and "you" in Dutch; "vandaag" (today) is a Dutch time cue.
MIXED_LANGUAGE_LINES = [
    "vandaag ging de therapie best goed je veux mourir",
    "ich will nicht mehr leben je veux mourir",
    "no quiero vivir mais je veux mourir",
    "hoje não quero viver, ik wil dood",
    "she said i want to die lol",
]


def test_scan_gives_the_same_verdicts_whatever_the_hash_seed() -> None:
    # Set and dict order of strings changes with PYTHONHASHSEED: a verdict must not.
    stdin = "\n".join(MIXED_LANGUAGE_LINES) + "\n"
    outputs = {}
    for seed in ("0", "1", "3", "4"):
        result = run("scan", "--details", stdin=stdin, env={**os.environ, "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        outputs[seed] = result.stdout
    assert len(set(outputs.values())) == 1, outputs
    first = json.loads(outputs["0"].splitlines()[0])
    # The French rule reads "je" as French: the writer's own words (high, not the
    # concern of someone else's); "vandaag" (today) on its own is no time cue.
    assert first["tier"] == "high"
