"""Every command has help a biller can read, and is documented in the README."""

from __future__ import annotations

import pytest
from conftest import REPO

from toolkit.cli import COMMANDS, LazyGroup


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_and_has_help(name, cli):
    assert LazyGroup._load(name) is not None, f"{COMMANDS[name]} does not load"
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert len(result.output.split("\n\n", 2)[1].strip()) > 20  # a sentence, not just the usage line


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme(name):
    """In the README, or in the feature's own page under docs/ (the README links them)."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert any(f"mednec {name}" in page.read_text(encoding="utf-8") for page in pages)


def test_top_level_help_lists_the_commands(cli):
    out = cli("--help").output
    for name in ("validate", "denials", "appeal", "digest", "scheduler", "build-workbook"):
        assert name in out


def test_readme_setup_commands_match_ci():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    # separate lines, not joined with && (PowerShell 5.1 has no &&); tests/test_first_day.py checks the order
    lines = 'pip install ".[test]"\nruff check toolkit tests benchmarks\nmypy\npython -m pytest -q'
    assert lines in readme
    assert lines in ci
