"""Every test gets its own INTERVIEWER_HOME (config, data, database) in a temp dir, and no LLM endpoint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

_ENV_TO_CLEAR = (
    "INTERVIEWER_DB_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
)


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the whole run: the built-in content is embedded once, not once per test."""
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(autouse=True)
def interviewer_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedding_cache: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("INTERVIEWER_HOME", str(home))
    monkeypatch.setenv("INTERVIEWER_CACHE_DIR", str(embedding_cache))
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def library():
    from interviewer.content import ContentLibrary

    return ContentLibrary()


@pytest.fixture
def repo(interviewer_home: Path):
    from interviewer.services import open_repository

    repository = open_repository()
    yield repository
    repository.close()


@pytest.fixture
def cli_env(interviewer_home: Path) -> dict[str, str]:
    """Environment for running the CLI in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k not in _ENV_TO_CLEAR}
    env["INTERVIEWER_HOME"] = str(interviewer_home)
    env["INTERVIEWER_CACHE_DIR"] = os.environ["INTERVIEWER_CACHE_DIR"]
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def python() -> str:
    return sys.executable


@pytest.fixture
def swept(tmp_path: Path):
    """Afterwards, nothing the test left in its folder (databases, exports, logs) holds the test API key."""
    yield tmp_path
    from tests.reliability import files_with_key

    _, found = files_with_key([tmp_path])
    assert not found, f"the test API key is stored in {found[:5]}"
