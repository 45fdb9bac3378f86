"""Terminal safety: nothing the app shows can carry an escape sequence or be read as markup, whatever
its source (the model, a server's error text, a content file, the database), on every path: the
sanitiser itself, the CLI's stdout and stderr, the Markdown export, and the TUI's interview, replay and
scorecard screens (in tests/screens/test_hostile_text.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interviewer.export import interview_markdown
from interviewer.terminal import display_safe, json_text
from tests.conftest import ROOT
from tests.fakes.openai_server import Behaviour, FakeOpenAI
from tests.helpers import run_cli
from tests.reliability import llm_env

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click here\x1b]8;;\x1b\\"
HOSTILE = (
    f"Sure.{OSC52} \x1b[2J\x1b[H{OSC8} \x9b31mred \x85nel \x90dcs\x9c \x1bc [b]bold?[/b] "
    "[link](http://evil.example/x) \x1b]0;title\x1b\\ done"
)
"""Clipboard write, clear screen, a hidden link, 8-bit CSI, NEL and DCS, a terminal reset, Rich markup,
a Markdown link and a window title."""

OBEYED = re.compile(r"\x1b\]|\x1b\[2J|\x1bc|[\x07\x80-\x9f]")
"""What a terminal would obey if it reached it: any OSC (clipboard, links, titles), a clear or reset,
BEL, any C1 control."""

SHOWN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# ----------------------------------------------------------------------------- the sanitiser


def test_escape_sequences_are_removed_whole_and_lone_controls_shown():
    assert display_safe(HOSTILE) == (
        "Sure. click here red <U+0085>nel   [b]bold?[/b] [link](http://evil.example/x)  done"
    )
    assert display_safe("tab\tand\nnewline stay") == "tab\tand\nnewline stay"
    assert display_safe("lone \x1b\nnul \x00, cr \r, bs \b, del \x7f") == "lone ␛\nnul ␀, cr ␍, bs ␈, del ␡"
    assert display_safe("\u202eevil") == "<U+202E>evil"
    # An unterminated control string is not a sequence: its opener is shown, nothing is swallowed.
    assert display_safe("\x1b]52;c;abc and the rest") == "␛]52;c;abc and the rest"


@given(st.text(alphabet=st.sampled_from("\x1b\x07\x9b\x9c\x9d\x90[]\\;P_^X0-2Jcm a\n\t\r\x00\u202e"), max_size=60))
def test_nothing_a_terminal_obeys_survives_and_it_is_idempotent(text):
    safe = display_safe(text)
    assert not SHOWN.search(safe)
    assert display_safe(safe) == safe


def test_json_output_decodes_to_the_same_data_and_carries_no_control():
    data = {"text": HOSTILE + "\u2028\u202e\x7f", "nested": [HOSTILE]}
    text = json_text(data, indent=2)
    assert not SHOWN.search(text) and "\u2028" not in text
    assert json.loads(text) == data


def test_a_long_run_of_unterminated_openers_stays_fast():
    text = "\x1b]" * 200_000
    assert display_safe(text) == "␛]" * 200_000


# ----------------------------------------------------------------------------- the CLI


def hostile_interview(repo) -> int:
    library_interview = repo.create_interview(
        problem={"id": "p", "title": f"Title {OSC52}"},
        persona={"id": "q", "name": f"Q{OSC8}"},
        rubric={"id": "r"},
        backend="offline",
        budget_minutes=45,
    )
    interview = library_interview.id
    repo.add_turn(interview, "interviewer", HOSTILE, kind="opening")
    repo.add_turn(interview, "candidate", HOSTILE)
    repo.add_annotation(interview, 2, HOSTILE, tag=f"t{OSC52}")
    repo.add_scorecard(interview, **_card())
    return interview


def _card() -> dict:
    data = {
        "overall": 2.0,
        "recommendation": f"no hire{OSC52}",
        "rubric_id": "ml-design",
        "grader": f"g{OSC8}",
        "dimensions": [
            {
                "id": "d",
                "name": f"Dim{OSC52}",
                "score": 2,
                "rationale": HOSTILE,
                "evidence": [{"turn": 2, "quote": HOSTILE}],
            }
        ],
        "strengths": [HOSTILE],
        "improvements": [HOSTILE],
        "notes": [HOSTILE],
    }
    return {
        "rubric_id": "ml-design",
        "grader": data["grader"],
        "overall": 2.0,
        "recommendation": data["recommendation"],
        "data": data,
    }


def test_show_list_and_export_of_a_hostile_interview(repo, cli_env, tmp_path: Path):
    interview = str(hostile_interview(repo))
    for args in (["show", interview], ["list"], ["show", interview, "--json"], ["list", "--json"]):
        result = run_cli(args, cli_env)
        assert result.returncode == 0, result.stderr
        assert not SHOWN.search(result.stdout), (args, SHOWN.search(result.stdout))
    shown = run_cli(["show", interview, "--json"], cli_env)
    assert json.loads(shown.stdout)["turns"][0]["text"] == HOSTILE, "JSON keeps every character"
    markdown = interview_markdown(repo, int(interview))
    assert not SHOWN.search(markdown) and "click here" in markdown and "done" in markdown
    target = tmp_path / "x.md"
    assert run_cli(["export", interview, "-o", str(target)], cli_env).returncode == 0
    assert target.read_text(encoding="utf-8") == markdown


@pytest.mark.slow
def test_server_error_text_reaches_stderr_sanitised(cli_env, tmp_path: Path):
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    error = {"error": {"message": f"upstream says {OSC52}\x1b[2J{OSC8} \x9b2J and [b]markup[/b]"}}
    with FakeOpenAI(responder=lambda record: Behaviour(status=400, error_body=error)) as fake:
        env = llm_env(cli_env, fake.base_url, INTERVIEWER_MAX_RETRIES="0")
        result = run_cli(["run", "--problem", "spam-filter", "--candidate", str(script)], env)
        doctor = run_cli(["doctor"], env)
    assert result.returncode != 0
    assert "upstream says" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for stream in (result.stdout, result.stderr, doctor.stdout, doctor.stderr):
        assert not OBEYED.search(stream), OBEYED.search(stream)
        assert not SHOWN.search(stream)


def test_content_files_with_escapes_are_shown_sanitised(interviewer_home: Path, cli_env):
    personas = interviewer_home / "personas"
    personas.mkdir(exist_ok=True)
    mentor = (ROOT / "personas" / "mentor.toml").read_text(encoding="utf-8")
    hostile = mentor.replace('id = "mentor"', 'id = "evil"', 1)
    hostile = re.sub(r'(?m)^name = ".*"$', lambda _: 'name = "Evil\\u001b]52;c;cHduZWQ=\\u0007"', hostile, count=1)
    (personas / "evil.toml").write_text(hostile, encoding="utf-8")
    (personas / "broken.toml").write_text('id = "broken\x1b[2J"\nname = 3\x1b]0;t\x07\n', encoding="utf-8")
    for args in (["personas", "list"], ["personas", "show", "evil"], ["personas", "lint"]):
        result = run_cli(args, cli_env)
        assert "Traceback" not in result.stderr
        for stream in (result.stdout, result.stderr):
            assert not SHOWN.search(stream), (args, SHOWN.search(stream))
    listing = run_cli(["personas", "list"], cli_env)
    assert "evil" in listing.stdout and "broken.toml" in listing.stderr


def test_output_cut_short_by_its_reader_exits_quietly(cli_env):
    process = subprocess.Popen(
        [sys.executable, "-m", "interviewer", "problems", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    assert len(process.stdout.read(10)) == 10
    process.stdout.close()  # like `| head -c 10`
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 0
    assert errors == ""
