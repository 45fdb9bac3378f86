"""The README opens with the two commands, and CI runs the test one."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)[:2]


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    main, tests = _commands()
    assert readme.index(main) < readme.index("## ")
    assert main.endswith("interviewer") and "pip install" in main
    assert "pytest" in tests and "[test]" in tests


def test_ci_runs_the_readme_test_command():
    _, tests = _commands()
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()
