"""The headless CLI: the contract that scripts and benchmarks rely on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from interviewer.cli import main
from interviewer.engine.moves import TurnKind
from tests.conftest import DATA, ROOT
from tests.helpers import run_cli

TURN_KINDS = {kind.value for kind in TurnKind}


def test_the_readme_names_every_turn_kind_the_json_can_carry():
    readme = (ROOT / "README.md").read_text()
    assert [kind for kind in sorted(TURN_KINDS) if f"`{kind}`" not in readme] == []


def _run_json(capsys, *extra: str, script: Path = DATA / "spam-strong.txt") -> dict:
    code = main(
        ["run", "--problem", "spam-filter", "--persona", "mentor", "--candidate", str(script), "--json", *extra]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_run_json_is_a_complete_graded_stored_interview(capsys):
    data = _run_json(capsys)
    assert isinstance(data["interview_id"], int)
    turns = data["turns"]
    assert [t["seq"] for t in turns] == list(range(1, len(turns) + 1))
    assert {t["role"] for t in turns} == {"interviewer", "candidate"}
    for turn in turns:
        assert isinstance(turn["text"], str)
        if turn["role"] == "interviewer":
            assert turn["kind"] in TURN_KINDS
        else:
            assert "kind" not in turn
    assert turns[0]["kind"] == "opening" and turns[-1]["kind"] == "wrap_up"
    card = data["scorecard"]
    assert card["grader"] == "offline-semantic"
    assert 1.0 <= card["overall"] <= 4.0 and card["recommendation"]
    candidate_text = {t["seq"]: t["text"] for t in turns if t["role"] == "candidate"}
    for dimension in card["dimensions"]:
        assert {"id", "score", "evidence", "rationale"} <= set(dimension)
        assert 1 <= dimension["score"] <= 4
        for item in dimension["evidence"]:
            assert item["quote"] in candidate_text[item["turn"]]
    # Stored: the same interview and scorecard come back from the database.
    assert main(["show", str(data["interview_id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["turns"] == turns
    assert shown["scorecard"] == card


def test_run_respects_minutes_and_max_turns(capsys):
    data = _run_json(capsys, "--max-turns", "3")
    assert sum(1 for t in data["turns"] if t["role"] == "candidate") == 3
    assert data["unused_candidate_messages"] > 0
    short = _run_json(capsys, "--minutes", "5")
    assert short["elapsed_minutes"] <= 5 + 3  # the closing exchange may run a little over


def test_run_accepts_json_lines_for_multiline_messages(tmp_path: Path, capsys):
    script = tmp_path / "c.txt"
    script.write_text(json.dumps({"text": "How many users?\nAnd what is the latency budget?"}) + "\nThanks\n")
    data = _run_json(capsys, script=script)
    assert data["turns"][1]["text"] == "How many users?\nAnd what is the latency budget?"
    assert "400 million" in data["turns"][2]["text"] and "50 ms" in data["turns"][2]["text"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('first line\n{"txt": "oops"}\n', ':2: a JSON line must be an object with a string "text"'),
        ("ok\n{not json\n", ":2: invalid JSON"),
        ("\n\n", "no candidate messages"),
    ],
)
def test_a_bad_candidate_file_names_file_and_line(tmp_path: Path, capsys, content: str, message: str):
    script = tmp_path / "bad.txt"
    script.write_text(content)
    assert main(["run", "--problem", "spam-filter", "--persona", "mentor", "--candidate", str(script)]) == 2
    err = capsys.readouterr().err
    assert str(script) in err and message in err
    assert main(["list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing half-created


def test_run_unknown_problem_is_a_clear_error(capsys):
    assert main(["run", "--problem", "nope", "--candidate", str(DATA / "spam-weak.txt")]) == 1
    assert "no problem with id 'nope'" in capsys.readouterr().err


def test_list_show_grade_export(tmp_path: Path, capsys):
    first = _run_json(capsys)["interview_id"]
    second = _run_json(capsys, script=DATA / "spam-weak.txt")["interview_id"]
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert listing.index(f"{second:>5}") < listing.index(f"{first:>5}")
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [second, first]
    assert rows[1]["overall"] > rows[0]["overall"]

    assert main(["grade", str(first), "--json"]) == 0
    regraded = json.loads(capsys.readouterr().out)
    assert main(["show", str(first), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["scorecards"]) == 2
    assert regraded["rubric_id"] == "ml-design"

    assert main(["show", str(first)]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"# Interview {first}: ") and "## Scorecard" in shown

    out = tmp_path / "x.md"
    assert main(["export", str(first), "--format", "md", "-o", str(out)]) == 0
    capsys.readouterr()
    assert "## Transcript" in out.read_text()
    assert main(["export", str(first), "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["interview_id"] == first and exported["events"]


def test_grade_with_an_unknown_rubric_or_interview(capsys):
    interview_id = _run_json(capsys, script=DATA / "spam-weak.txt")["interview_id"]
    assert main(["grade", str(interview_id), "--rubric", "nope"]) == 1
    assert "no rubric with id 'nope'" in capsys.readouterr().err
    assert main(["show", "999"]) == 1
    assert "no interview with id 999" in capsys.readouterr().err


def test_resume_refuses_an_ended_interview(capsys):
    interview_id = _run_json(capsys, script=DATA / "spam-weak.txt")["interview_id"]
    assert main(["resume", str(interview_id)]) == 1
    assert "has ended" in capsys.readouterr().err


_cli = partial(run_cli, timeout=60, input="")


def test_chat_line_by_line_then_end_and_grade(cli_env):
    result = _cli(
        ["chat", "--problem", "spam-filter", "--persona", "bar-raiser"],
        cli_env,
        input="How many users are there?\n/agenda\nI would start with logistic regression \\\nbecause it is cheap.\n/end\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "offline engine" in out
    assert "400 million" in out
    assert "Problem clarification" in out  # the agenda
    assert "Overall" in out and "Stored as interview 1" in out
    shown = json.loads(_cli(["show", "1", "--json"], cli_env).stdout)
    candidate = [t["text"] for t in shown["turns"] if t["role"] == "candidate"]
    assert candidate == ["How many users are there?", "I would start with logistic regression \nbecause it is cheap."]
    assert shown["status"] == "ended" and shown["scorecard"]


def test_chat_quit_leaves_it_resumable_and_resume_continues(cli_env):
    first = _cli(["chat", "--problem", "spam-filter"], cli_env, input="How many users are there?\n/quit\n")
    assert first.returncode == 0 and "interviewer resume 1" in first.stdout
    second = _cli(["resume", "1"], cli_env, input="What is the latency budget?\n/end\n")
    assert second.returncode == 0, second.stderr
    assert "50 ms" in second.stdout and "Overall" in second.stdout
    shown = json.loads(_cli(["show", "1", "--json"], cli_env).stdout)
    assert [t["text"] for t in shown["turns"] if t["role"] == "candidate"] == [
        "How many users are there?",
        "What is the latency budget?",
    ]


def test_no_command_starts_a_chat(cli_env):
    result = _cli([], cli_env, input="/quit\n")
    assert result.returncode == 0 and "Interview 1:" in result.stdout


def _with_import_times(args: list[str], cli_env) -> subprocess.CompletedProcess:
    """Run ``interviewer ARGS`` with ``-X importtime``: stderr lists every module it imported."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "interviewer", *args],
        capture_output=True,
        text=True,
        env=cli_env,
        cwd=ROOT,
    )


def test_help_is_quick_to_import(cli_env):
    result = _with_import_times(["--help"], cli_env)
    assert result.returncode == 0 and "usage: interviewer" in result.stdout
    imported = result.stderr
    for heavy in ("sqlalchemy", "pydantic", "textual", "openai", "tiktoken"):
        assert f" {heavy}\n" not in imported and f"| {heavy}" not in imported, heavy


def test_list_imports_the_database_layer_and_nothing_of_the_engine(cli_env, repo):
    """``interviewer list`` is the command run most often; it lists without loading settings, content or
    backends (and still lists what is stored)."""
    from interviewer.content import ContentLibrary

    library = ContentLibrary()
    repo.create_interview(
        problem=library.problems.get("spam-filter").model_dump(mode="json"),
        persona=library.personas.get("mentor").model_dump(mode="json"),
        rubric=library.rubrics.get("ml-design").model_dump(mode="json"),
        backend="offline",
        budget_minutes=45,
        state={"phase": "discussion"},
    )
    result = _with_import_times(["list"], cli_env)
    assert result.returncode == 0 and "spam-filter" in result.stdout
    imported = set(re.findall(r"^import time:.*\|\s*([\w.]+)$", result.stderr, re.M))
    assert "storage.repository" in imported
    for heavy in ("interviewer.config", "interviewer.content", "interviewer.backends", "pydantic_settings", "openai"):
        assert heavy not in imported, heavy


def test_chat_folds_replies_at_word_boundaries_to_the_terminal_width(cli_env):
    env = {**cli_env, "COLUMNS": "40"}
    result = _cli(["chat", "--problem", "spam-filter", "--persona", "bar-raiser"], env, input="/quit\n")
    assert result.returncode == 0, result.stderr
    opening = json.loads(_cli(["show", "1", "--json"], cli_env).stdout)["turns"][0]["text"]
    start = result.stdout.index("\nDev: ") + 1
    block = result.stdout[start : result.stdout.index("\n\n", start)]
    assert max(len(line) for line in block.splitlines()) <= 39
    # Every word whole: the folded lines hold the reply's words, in order, none cut in two.
    assert block.split() == ["Dev:", *opening.split()]
    # The rest (the header, the commands' help, the goodbye) is folded the same way.
    assert max(len(line) for line in result.stdout.splitlines()) <= 39
    assert "/quit leaves it to resume later" in " ".join(result.stdout.split())


def test_resume_shows_the_interview_so_far(cli_env):
    first = _cli(["chat", "--problem", "spam-filter"], cli_env, input="How many users are there?\n/quit\n")
    assert first.returncode == 0, first.stderr
    second = _cli(["resume", "1"], cli_env, input="/quit\n")
    assert second.returncode == 0, second.stderr
    so_far = second.stdout[second.stdout.index("The interview so far") :]
    assert "you: How many users are there?" in so_far
    assert "400 million" in so_far  # the interviewer's answer from before


def test_grade_warns_when_the_interview_is_still_in_progress(capsys):
    import asyncio

    from interviewer.services import open_repository
    from tests.helpers import play

    repo = open_repository()
    session, _ = asyncio.run(play(repo, ["How many users are there?"], end=False))
    repo.close()
    assert main(["grade", str(session.interview_id)]) == 0
    captured = capsys.readouterr()
    assert f"interview {session.interview_id} is still in progress" in captured.err
    assert "Overall" in captured.out
    ended = _run_json(capsys, script=DATA / "spam-weak.txt")["interview_id"]
    assert main(["grade", str(ended)]) == 0
    assert "still in progress" not in capsys.readouterr().err


def test_export_creates_the_folder_it_writes_into(tmp_path: Path, capsys):
    interview_id = _run_json(capsys, script=DATA / "spam-weak.txt")["interview_id"]
    out = tmp_path / "new" / "dir" / "x.md"
    assert main(["export", str(interview_id), "-o", str(out)]) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    assert "## Transcript" in out.read_text()


def test_doctor_fails_the_openai_backend_without_a_key(cli_env):
    result = _cli(["doctor", "--backend", "openai"], cli_env)
    assert result.returncode == 1
    assert "FAIL  endpoint https://api.openai.com/v1 needs an API key, and OPENAI_API_KEY is not set" in result.stdout
    assert "ok    endpoint" not in result.stdout


def test_the_printed_scorecard_says_why_the_recommendation_reads_as_it_does(capsys):
    data = _run_json(capsys, script=DATA / "spam-weak.txt")
    assert main(["show", str(data["interview_id"])]) == 0
    shown = capsys.readouterr().out
    assert f"{data['scorecard']['recommendation'].capitalize()}: the overall" in shown
