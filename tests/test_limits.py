"""Limits on content: templates are filled by a formatter that takes only the documented fields (no
conversion, no format spec, no attribute or index), ``validate`` and ``lint`` reject the rest naming the
file and line, and every file (content files, ``--candidate``, ``validate``) is size-checked before it
is read, so a huge, sparse or endless file ends in one message."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from interviewer.backends import OfflineBackend
from interviewer.cli import main
from interviewer.content import ContentError, ContentLibrary, Persona, load_file
from interviewer.content.models import fill_template
from interviewer.engine.clock import ScriptedClock
from interviewer.engine.events import ReplyDone
from interviewer.engine.session import InterviewSession, SessionError
from interviewer.files import FileTooLarge, read_limited, read_stream_limited
from interviewer.script import ScriptError, read_candidate_script
from tests.conftest import ROOT
from tests.helpers import collect, run_cli

BAD_PLACEHOLDERS = ["{minutes:d}", "{name!x}", "{name!r}", "{name:>300000000}", "{name.__class__}", "{name[0]}"]
ZERO = Path("/dev/zero")
needs_dev_zero = pytest.mark.skipif(not ZERO.exists(), reason="no /dev/zero here")


# ----------------------------------------------------------------------------- templates


def test_fill_takes_only_plain_fields():
    assert (
        fill_template("Hi {name}, {minutes} min. {{literal}}", name="Maya", minutes=45) == "Hi Maya, 45 min. {literal}"
    )
    for bad in BAD_PLACEHOLDERS:
        filled = fill_template(f"Hi {bad}.", name="Maya", minutes=45)
        assert filled == f"Hi {bad}.", "left as written: not applied, not an error"
    assert fill_template("Hi {unknown}", name="x") == "Hi {unknown}"
    assert fill_template("unbalanced { brace", name="x") == "unbalanced { brace"


def _persona_file(folder: Path, placeholder: str) -> Path:
    text = (ROOT / "personas" / "mentor.toml").read_text(encoding="utf-8")
    text = text.replace('id = "mentor"', 'id = "tricky"', 1)
    assert "Hi, I'm {name}, thanks" in text
    text = text.replace("Hi, I'm {name}, thanks", f"Hi, I'm {placeholder}, thanks", 1)
    path = folder / "tricky.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _opening_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith("opening"))


@pytest.mark.parametrize("placeholder", BAD_PLACEHOLDERS)
def test_validate_and_lint_reject_a_conversion_a_format_spec_or_an_attribute(placeholder, tmp_path: Path, capsys):
    path = _persona_file(tmp_path, placeholder)
    where = f"{path}:{_opening_line(path)}: field 'lines.opening'"
    assert main(["personas", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert where in err and placeholder in err and err.count("\n") == 1
    assert main(["personas", "lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert where in err and placeholder in err
    with pytest.raises(ContentError):
        load_file(path, Persona)


def _bad_persona(placeholder: str) -> Persona:
    """A persona as an older version accepted it: validated once, with a template now refused."""
    good = ContentLibrary().personas.get("mentor")
    lines = good.lines.model_copy(update={"opening": f"Hi, I'm {placeholder}. {{prompt}}"})
    return good.model_copy(update={"lines": lines})


@pytest.mark.parametrize("placeholder", ["{minutes:d}", "{name!x}", "{name:>300000000}"])
async def test_a_stored_persona_with_a_bad_template_neither_crashes_nor_blows_up(placeholder, repo):
    library = ContentLibrary()
    session = InterviewSession.start(
        repo,
        problem=library.problems.get("spam-filter"),
        persona=_bad_persona(placeholder),
        rubric=library.rubrics.get("ml-design"),
        backend=OfflineBackend(),
        minutes=45,
        clock=ScriptedClock(),
    )
    opening = [e for e in await collect(session.open()) if isinstance(e, ReplyDone)]
    assert opening and placeholder in opening[0].text and len(opening[0].text) < 2_000
    # Resuming it validates the snapshot again: refused with a message, not a traceback.
    with pytest.raises(SessionError, match=r"interview \d+ cannot continue: its stored persona is not valid"):
        InterviewSession.load(repo, session.interview_id, session.backend)


# ----------------------------------------------------------------------------- size checks


def test_a_sparse_file_is_refused_from_its_size_without_reading_it(tmp_path: Path):
    sparse = tmp_path / "huge.toml"
    with sparse.open("wb") as handle:
        handle.truncate(3 * 1024**3)
    with pytest.raises(FileTooLarge) as caught:
        read_limited(sparse, 1000)
    assert caught.value.size == 3 * 1024**3, "known from the size, before any read"
    with pytest.raises(ContentError, match=r"file is 3,221,225,472 bytes; content files are limited to"):
        load_file(sparse, Persona)
    with pytest.raises(ScriptError, match=r"file is 3,221,225,472 bytes; the limit is"):
        read_candidate_script(sparse)


def test_a_stream_is_read_only_up_to_the_limit():
    assert read_stream_limited(io.BytesIO(b"x" * 10), 10) == b"x" * 10

    class Endless(io.RawIOBase):
        reads = 0

        def readinto(self, buffer):  # type: ignore[override]
            self.reads += 1
            buffer[:] = b"y" * len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(FileTooLarge):
        read_stream_limited(endless, 5_000_000)
    assert endless.reads <= 6


@needs_dev_zero
def test_dev_zero_and_a_directory_are_one_clear_error(tmp_path: Path):
    with pytest.raises(ContentError, match="more than 2,000,000 bytes"):
        load_file(ZERO, Persona)
    with pytest.raises(ScriptError, match="more than 50,000,000 bytes"):
        read_candidate_script(ZERO)
    with pytest.raises(ContentError, match="cannot read file: Is a directory"):
        load_file(tmp_path, Persona)


@needs_dev_zero
@pytest.mark.parametrize(
    "args",
    [
        ["personas", "validate", "/dev/zero"],
        ["problems", "lint", "/dev/zero"],
        ["run", "--problem", "spam-filter", "--candidate", "/dev/zero"],
    ],
)
def test_endless_files_through_the_cli(args, cli_env):
    result = run_cli(args, cli_env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert "/dev/zero" in result.stderr and "bytes" in result.stderr


def test_endless_stdin_for_candidate(cli_env):
    process = subprocess.Popen(
        [sys.executable, "-m", "interviewer", "run", "--problem", "spam-filter", "--candidate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        cwd=ROOT,
    )
    assert process.stdin is not None
    block = b"How many users are there?\n" * 40_000
    try:
        while process.poll() is None:
            process.stdin.write(block)
    except (BrokenPipeError, OSError):
        pass
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 2, err[-2000:]
    assert b"more than 50,000,000 bytes" in err and b"Traceback" not in err


def test_a_user_content_file_that_is_too_big_is_skipped_with_a_warning(interviewer_home: Path, cli_env):
    folder = interviewer_home / "personas"
    folder.mkdir(exist_ok=True)
    with (folder / "huge.toml").open("wb") as handle:
        handle.truncate(3 * 1024**3)
    result = run_cli(["personas", "list"], cli_env)
    assert result.returncode == 0 and "mentor" in result.stdout
    assert "huge.toml: file is 3,221,225,472 bytes" in result.stderr


def test_validate_names_a_file_it_cannot_read(tmp_path: Path, capsys):
    missing = tmp_path / "missing.toml"
    assert main(["personas", "validate", str(missing)]) == 2
    assert f"{missing}: cannot read file" in capsys.readouterr().err


def test_the_settings_file_is_size_checked_before_it_is_read(interviewer_home: Path, cli_env, tmp_path: Path):
    from interviewer.config import ConfigError, config_file, load_settings

    settings = config_file()
    settings.parent.mkdir(parents=True, exist_ok=True)
    with settings.open("wb") as handle:
        handle.truncate(3 * 1024**3)
    with pytest.raises(ConfigError, match=r"config.toml: file is 3,221,225,472 bytes; the limit is"):
        load_settings()
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    result = run_cli(["run", "--problem", "spam-filter", "--candidate", str(script)], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "3,221,225,472 bytes" in result.stderr
    if ZERO.exists():
        settings.unlink()
        settings.symlink_to(ZERO)
        with pytest.raises(ConfigError, match="not a regular file"):
            load_settings()
