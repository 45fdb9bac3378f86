"""The wheel carries the content files and runs a headless interview from a fresh venv."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    [built] = out.glob("interviewer-*.whl")
    return built


def test_the_wheel_contains_the_content(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "personas/mentor.toml",
        "problems/spam-filter.toml",
        "rubrics/ml-design.toml",
        "storage/migrations/env.py",
        "storage/migrations/versions/0001_initial.py",
        "interviewer/cli/__init__.py",
        "tui/__init__.py",
    ):
        assert expected in names, expected
    assert not [n for n in names if n.startswith("tests/")]


def test_a_fresh_venv_runs_a_headless_interview_from_the_wheel(wheel: Path, tmp_path: Path, interviewer_home: Path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], check=True)
    # Dependencies come from this test environment (no network); the project itself only from the wheel.
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {"INTERVIEWER_HOME": str(interviewer_home), "PATH": f"{env_dir / 'bin'}:/usr/bin:/bin"}
    result = subprocess.run(
        [
            str(env_dir / "bin" / "interviewer"),
            "run",
            "--problem",
            "spam-filter",
            "--persona",
            "mentor",
            "--candidate",
            str(DATA / "spam-strong.txt"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["scorecard"]["overall"] >= 3.0
    assert (
        str(env_dir)
        in subprocess.run(
            [str(python), "-c", "import interviewer; print(interviewer.__file__)"],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
        ).stdout
    )
    listed = subprocess.run(
        [str(env_dir / "bin" / "interviewer"), "personas", "list"], capture_output=True, text=True, env=env, cwd=workdir
    )
    assert "mentor" in listed.stdout and "bar-raiser" in listed.stdout
