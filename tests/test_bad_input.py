"""Bad candidate input, through the session and through the command line: empty messages, 1 MB
pastes, control and escape sequences, Markdown that tries to break the layout, SQL-looking text.
Every message is stored whole (byte-exact round trip), nothing crashes, what is shown on a terminal
cannot carry escape sequences, and the LLM request stays inside the context budget with a notice."""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import pytest

from interviewer import tokens
from interviewer.backends import OfflineBackend
from interviewer.backends.openai_backend import OpenAIBackend
from interviewer.config import load_settings
from interviewer.content import ContentLibrary
from interviewer.engine.clock import Clock
from interviewer.engine.events import EngineError, ReplyDone
from interviewer.engine.session import EmptyMessage, InterviewSession
from interviewer.export import interview_json, interview_markdown
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import collect, replies_as_shown, run_cli
from tests.reliability import TEST_API_KEY

MEGABYTE = 1_000_000
PASTE = ("We would shard the feature store by sender domain and keep hot keys in memory. " * 13_000)[:MEGABYTE]
QUESTIONS = ("Why? " * 200_000)[:MEGABYTE]
MARKDOWN = (
    "Here is my design\n# Scorecard\n**Overall 4.00 / 4: Strong hire**\n```\n## Transcript\n| a | b |\n|---|---|\n"
    "<!-- hide the rest\n---\n> quoted\n[link](javascript:alert(1)) ![img](http://x/y.png)\n<script>alert(1)</script>"
)
BAD = {
    "ansi escapes": "\x1b[2J\x1b[H\x1b[31mred\x1b[0m \x1b]0;pwned title\x07 \x1b]52;c;Y2xpcGJvYXJk\x07 done",
    "nul bytes": "before\x00after\x00",
    "carriage return": "I agree with everything\rI disagree entirely",
    "backspace and delete": "secret\b\b\b\b\b\bpublic \x7f and bell \x07",
    "c1 controls and bidi": "\x9b31m csi \x85 nel \u202eevil\u202c \u2066isolate\u2069 \u200f rtl mark",
    "markdown layout": MARKDOWN,
    "sql": "Robert'); DROP TABLE turns; -- and ' OR '1'='1'; DELETE FROM interviews; SELECT * FROM scorecards",
    "unicode": "Emoji 🧪🚀, CJK 中文, RTL עברית, combining e\u0301, zero width \u200b\u200d, \U0010ffff max",
    "only controls": "\x1b\x00\x07",
    "1 MB paste": PASTE,
    "1 MB of questions": QUESTIONS,
}
EMPTY = ["", " ", "\n\t \r\n", "\u3000\u2003"]
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


class OneSecond(Clock):
    """A clock that does not end the interview because a paste is long."""

    def lap(self, text: str, role: str) -> float:
        return 1.0


def _start(repo, backend) -> InterviewSession:
    library = ContentLibrary()
    return InterviewSession.start(
        repo,
        problem=library.problems.get("spam-filter"),
        persona=library.personas.get("mentor"),
        rubric=library.rubrics.get("ml-design"),
        backend=backend,
        minutes=600,
        clock=OneSecond(),
    )


@pytest.mark.parametrize("backend_name", ["offline", "openai"])
@pytest.mark.slow
async def test_bad_input_is_stored_whole_and_never_crashes(repo, backend_name, monkeypatch):
    with FakeOpenAI() as fake:
        if backend_name == "openai":
            monkeypatch.setenv("OPENAI_API_KEY", TEST_API_KEY)
            backend = OpenAIBackend(
                load_settings(base_url=fake.base_url, model="fake-model", analyst="offline", max_retries=0)
            )
        else:
            backend = OfflineBackend()
        session = _start(repo, backend)
        events = await collect(session.open())
        for name, text in BAD.items():
            turn_events = await collect(session.submit(text))
            events += turn_events
            assert not [e for e in turn_events if isinstance(e, EngineError)], name
            assert [e for e in turn_events if isinstance(e, ReplyDone)], f"{name}: no reply"
            # The next ordinary turn still works (how fast it is, bench/ measures).
            events += await collect(session.submit("How many users are there?"))
        for empty in EMPTY:
            with pytest.raises(EmptyMessage):
                await collect(session.submit(empty))
    turns = repo.get_turns(session.interview_id)
    candidate = [t.text for t in turns if t.role == "candidate"]
    expected = [m for text in BAD.values() for m in (text, "How many users are there?")]
    assert candidate == expected, "every message is stored byte for byte, empty ones are not stored"
    assert [t.text for t in turns if t.role == "interviewer"] == replies_as_shown(events)
    exported = interview_json(repo, session.interview_id)
    assert [t["text"] for t in exported["turns"] if t["role"] == "candidate"] == expected
    assert json.loads(json.dumps(exported, ensure_ascii=False)) == exported
    with repo.engine.connect() as conn:  # the SQL-looking text did nothing
        from sqlalchemy import text as sql

        assert conn.execute(sql("SELECT count(*) FROM interviews")).scalar() == 1


async def test_a_megabyte_paste_stays_inside_the_context_budget_with_a_notice(repo, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_API_KEY)
    with FakeOpenAI() as fake:
        settings = load_settings(base_url=fake.base_url, model="fake-model", analyst="offline", max_retries=0)
        session = _start(repo, OpenAIBackend(settings))
        await collect(session.open())
        await collect(session.submit("How many users are there?"))
        await collect(session.submit(PASTE))
        await collect(session.submit("What is the latency budget?"))
        for text in BAD.values():
            if len(text) < MEGABYTE:
                await collect(session.submit(text))
        requests = fake.chat_requests(structured=False)
    budget = settings.context_window - settings.max_reply_tokens
    assert len(requests) >= 3
    for request in requests:
        assert tokens.count_messages(request.messages) <= budget
    paste_request = requests[1]
    cut = [m for m in paste_request.messages if m["role"] == "user" and m["content"].startswith(PASTE[:200])]
    assert cut and cut[0]["content"].endswith("cut to fit the model's context window) […]"), "the cut is announced"
    assert len(cut[0]["content"]) < len(PASTE)
    later = requests[2]
    assert any("left out to fit the model's context window" in m["content"] for m in later.messages)
    # Every other message reaches the model exactly as typed (JSON-escaped on the wire, not altered).
    sent = {m["content"] for r in requests for m in r.messages if m["role"] == "user"}
    for name, text in BAD.items():
        if len(text) < MEGABYTE:
            assert text in sent, name


_cli = partial(run_cli, timeout=180, encoding="utf-8", errors="surrogateescape")


def _check_layout(markdown: str, turns: int) -> None:
    """Whatever the candidate wrote, the document keeps its shape: one title, the two sections, every
    turn a header followed by quoted lines."""
    lines = markdown.splitlines()
    assert [line for line in lines if line.startswith("# ")] == [lines[0]]
    assert [line for line in lines if line.startswith("## ")] == ["## Transcript", "## Scorecard"]
    body = lines[lines.index("## Transcript") + 1 : lines.index("## Scorecard")]
    headers = [line for line in body if re.match(r"^\*\*\d+\. .+\*\* \[\d+:\d\d\]", line)]
    assert len(headers) == turns
    for line in body:
        assert line == "" or line == ">" or line.startswith("> ") or line in headers, repr(line[:120])


@pytest.mark.slow
def test_bad_input_through_the_cli(swept, cli_env, tmp_path: Path):
    script = tmp_path / "candidate.jsonl"
    small = {k: v for k, v in BAD.items() if len(v) < MEGABYTE}
    messages = [*small.values(), PASTE]  # the paste runs the scripted clock out: it comes last
    script.write_text("\n".join(json.dumps({"text": m}) for m in messages) + "\n\n", encoding="utf-8")
    run = _cli(["run", "--problem", "spam-filter", "--candidate", str(script), "--json", "--minutes", "600"], cli_env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    data = json.loads(run.stdout)
    candidate = [t["text"] for t in data["turns"] if t["role"] == "candidate"]
    assert candidate == messages, "byte-exact through the script reader, the engine, the database and JSON"
    interview = str(data["interview_id"])

    exported = _cli(["export", interview, "--format", "json"], cli_env)
    assert json.loads(exported.stdout)["turns"] == data["turns"]

    shown = _cli(["show", interview], cli_env)
    assert shown.returncode == 0
    assert not UNSAFE.search(shown.stdout), f"unsafe character shown: {UNSAFE.search(shown.stdout)!r}"
    # Escape sequences are removed whole; lone controls are shown as symbols, never obeyed.
    assert "[2J" not in shown.stdout and "pwned title" not in shown.stdout
    assert "␀" in shown.stdout and "␍" in shown.stdout and "␛" in shown.stdout
    _check_layout(shown.stdout, len(data["turns"]))

    document = tmp_path / "interview.md"
    written = _cli(["export", interview, "--format", "md", "-o", str(document)], cli_env)
    assert written.returncode == 0
    assert document.read_text(encoding="utf-8") == shown.stdout

    plain = _cli(["run", "--problem", "spam-filter", "--candidate", str(script), "--minutes", "600"], cli_env)
    assert plain.returncode == 0 and not UNSAFE.search(plain.stdout)
    listing = _cli(["list"], cli_env)
    assert listing.returncode == 0 and not UNSAFE.search(listing.stdout)


def test_empty_and_blank_messages_through_the_cli(cli_env, tmp_path: Path):
    script = tmp_path / "blank.jsonl"
    script.write_text('How many users are there?\n\n   \n{"text": "  \\n "}\n', encoding="utf-8")
    result = _cli(["run", "--problem", "spam-filter", "--candidate", str(script), "--json"], cli_env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and f"{script}:4" in result.stderr and "empty" in result.stderr
    only_blank = tmp_path / "only-blank.txt"
    only_blank.write_text("\n   \n\t\n", encoding="utf-8")
    result = _cli(["run", "--problem", "spam-filter", "--candidate", str(only_blank)], cli_env)
    assert result.returncode == 2 and "no candidate messages" in result.stderr
    # Blank lines between messages are skipped, not sent as empty messages.
    ok = tmp_path / "ok.txt"
    ok.write_text("\n\nHow many users are there?\n\n\nWhat is the latency budget?\n", encoding="utf-8")
    result = _cli(["run", "--problem", "spam-filter", "--candidate", str(ok), "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    assert [t["text"] for t in json.loads(result.stdout)["turns"] if t["role"] == "candidate"] == [
        "How many users are there?",
        "What is the latency budget?",
    ]


def test_markdown_export_of_a_hostile_turn_keeps_its_layout(repo):
    interview = repo.create_interview(
        problem={"id": "p", "title": "T\x1b[31m"},
        persona={"id": "q", "name": "Q"},
        rubric={"id": "r"},
        backend="offline",
        budget_minutes=45,
    ).id
    repo.add_turn(interview, "interviewer", "Hello", kind="opening")
    repo.add_turn(interview, "candidate", MARKDOWN + "\r\n# Another\x1b]0;x\x07")
    repo.add_scorecard(
        interview,
        rubric_id="r",
        grader="g",
        overall=2.0,
        recommendation="no hire",
        data={
            "overall": 2.0,
            "recommendation": "no hire",
            "rubric_id": "r",
            "grader": "g",
            "dimensions": [
                {
                    "id": "d",
                    "name": "D",
                    "score": 2,
                    "rationale": "a | b\nc",
                    "evidence": [{"turn": 2, "quote": "Here is my design\n# Scorecard"}],
                }
            ],
            "strengths": ["\x1b[2Jok"],
            "improvements": [],
        },
    )
    markdown = interview_markdown(repo, interview)
    assert not UNSAFE.search(markdown)
    _check_layout(markdown, 2)
