"""The engine and storage never import the UI; storage does not depend on the engine."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import interviewer
import storage
from tests.conftest import ROOT


def _modules(package) -> list[str]:
    return [package.__name__] + [
        name
        for _, name, _ in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + ".")
        if ".migrations" not in name and not name.endswith("__main__")
    ]


def test_importing_every_engine_and_storage_module_loads_no_textual():
    modules = _modules(interviewer) + _modules(storage)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'tui')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert len(modules) > 20


def test_import_linter_contracts_hold():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout
