"""Real servers' quirks, one fake-server mode each, from what each server is documented (or reported in
its issue tracker) to do: reasoning output, role rules of chat templates, structured output, usage and
limits. Each mode runs a full interview and grading; each handling has a test that fails without it."""

from __future__ import annotations

import itertools
import json

import pytest

from interviewer import tokens
from interviewer.engine.events import EngineError, ReplyDone, Usage
from interviewer.grading import grade_interview
from interviewer.grading.base import GradingError
from interviewer.llm import capabilities, roles
from interviewer.llm.reasoning import ReasoningFilter, strip_reasoning
from tests.conftest import DATA
from tests.fakes.openai_server import (
    Behaviour,
    FakeOpenAI,
    alternating_roles,
    default_responder,
    no_system_role,
    rejects_max_tokens,
    rejects_stream_options,
    streamed_as_llama_cpp_python,
    thinking,
    without_stream_usage,
)
from tests.helpers import collect, play, run_cli
from tests.test_llm_fake import make_backend


def _lines(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


async def _interview_and_grading(repo, server: FakeOpenAI, **settings):
    backend = make_backend(server, **settings)
    session, events = await play(repo, _lines("spam-strong.txt")[:4], backend=backend)
    card = await grade_interview(repo, session.interview_id, backend.grader())
    await backend.aclose()
    return session, events, card


# ----------------------------------------------------------------------------- reasoning


def _filtered(pieces: list[str], tags: str | None = None) -> tuple[str, ReasoningFilter]:
    stream = ReasoningFilter(tags)
    shown = "".join(stream.feed(piece) for piece in pieces) + stream.finish()
    return shown, stream


@pytest.mark.parametrize(
    ("pieces", "tags", "shown", "learnt"),
    [
        (["<think>plan it</think>\n\nHello there."], None, "Hello there.", "tags"),
        (["<th", "ink>plan", " it</thi", "nk>Hel", "lo."], None, "Hello.", "tags"),  # tags split across chunks
        (["plan it</think>", "Hello."], None, "Hello.", "implicit"),  # no opening tag
        (["plan it", "</think>Hello."], "implicit", "Hello.", "implicit"),
        (["<think>plan it, then cut off at the token li"], None, "", "tags"),  # no closing tag
        (["Hello there.", " More."], None, "Hello there. More.", "none"),
        (["Hello there.", " More."], "none", "Hello there. More.", "none"),
        (["<THINK>\n\n</THINK>\n\nHi."], None, "Hi.", "tags"),  # an empty think block (qwen3 /no_think)
        (["2 < 3 and <b>bold</b>."], "none", "2 < 3 and <b>bold</b>.", "none"),
    ],
)
def test_the_reasoning_state_machine(pieces, tags, shown, learnt):
    text, stream = _filtered(pieces, tags)
    assert text == shown
    assert stream.learnt == learnt
    assert ("plan" in "".join(pieces)) == (stream.reasoning_chars > 0)


def test_a_model_known_to_stream_plainly_is_not_held_back():
    stream = ReasoningFilter("none")
    assert stream.feed("Hello there. ") == "Hello there. "
    held = ReasoningFilter(None)  # not known yet: held until a tag or the end decides
    assert held.feed("Hello there. ") == "" and held.finish() == "Hello there. "


def test_a_closing_tag_after_shown_text_is_reported_as_a_leak():
    stream = ReasoningFilter("none")
    assert stream.feed("plan it ") == "plan it "
    assert stream.feed("</think>Hello.") == "Hello."
    assert stream.leaked and stream.learnt == "implicit"


def test_strip_reasoning_of_a_whole_reply():
    assert strip_reasoning('<think>hmm</think>\n{"a": 1}') == ('{"a": 1}', 3)
    assert strip_reasoning('hmm</think>{"a": 1}') == ('{"a": 1}', 3)
    assert strip_reasoning('{"a": 1}') == ('{"a": 1}', 0)


@pytest.mark.parametrize("style", ["tags", "implicit", "reasoning_content", "reasoning"])
async def test_reasoning_never_reaches_the_candidate_the_transcript_or_the_next_request(repo, style):
    with FakeOpenAI(responder=thinking(style)) as server:
        session, events, card = await _interview_and_grading(repo, server, analyst="llm")
        requests = server.chat_requests()
    turns = repo.get_turns(session.interview_id)
    assert session.finished and all(t.complete for t in turns)
    for turn in turns:
        assert "SECRET-THOUGHT" not in turn.text and "think>" not in turn.text
    shown = [e for e in events if isinstance(e, ReplyDone)]
    assert shown and all("SECRET-THOUGHT" not in e.text for e in shown)
    assert not [e for e in events if isinstance(e, EngineError)]
    for request in requests:
        assert "SECRET-THOUGHT" not in json.dumps(request.messages)
    assert all(d.score == 3 for d in card.dimensions)  # the grader's JSON came after its reasoning
    assert "SECRET-THOUGHT" not in json.dumps([e.payload for e in repo.get_events(session.interview_id)])
    assert "SECRET-THOUGHT" not in json.dumps(repo.get_scorecards(session.interview_id)[-1].data)


async def test_a_reply_that_is_all_reasoning_is_asked_for_again_with_lower_effort(fake_server, repo):
    backend = make_backend(fake_server)
    session, _ = await play(repo, [], backend=backend, end=False)
    fake_server.push(Behaviour(text="", reasoning="thinking " * 200, finish_reason="length"))
    events = await collect(session.submit("How many users are there?"))
    done = next(e for e in events if isinstance(e, ReplyDone))
    assert done.complete and "400 million" in done.text
    first, retry = fake_server.chat_requests(structured=False)[-2:]
    assert "reasoning_effort" not in first.body and retry.body["reasoning_effort"] == "low"
    await backend.aclose()


async def test_a_reply_that_stays_all_reasoning_is_one_clear_error(fake_server, repo):
    backend = make_backend(fake_server)
    session, _ = await play(repo, [], backend=backend, end=False)
    empty = Behaviour(text="", reasoning="thinking " * 200, finish_reason="length")
    fake_server.push(empty, empty)
    events = await collect(session.submit("How many users are there?"))
    [error] = [e for e in events if isinstance(e, EngineError)]
    assert "characters of reasoning and no reply" in error.message and "max_reply_tokens" in error.message
    await backend.aclose()


async def test_a_grader_answer_that_is_all_reasoning_is_asked_for_again(fake_server, repo):
    backend = make_backend(fake_server)
    session, _ = await play(repo, ["How many users are there?"], backend=backend)

    def grader_after_one_empty(record):
        if record.structured and "reasoning_effort" not in record.body:
            return Behaviour(raw_content="", reasoning="thinking " * 50, finish_reason="length")
        return default_responder(record)

    fake_server.responder = grader_after_one_empty
    card = await grade_interview(repo, session.interview_id, backend.grader())
    # The fake grader's 3s, except where no design content backs a score (lowered to 2, and said so).
    lowered = " ".join(note for note in card.notes if note.startswith("Scores without evidence were lowered"))
    assert all(d.score == 3 or (d.score == 2 and f"{d.id} 3 → 2" in lowered) for d in card.dimensions)
    assert [r.body.get("reasoning_effort") for r in fake_server.chat_requests(structured=True)] == [None, "low"]
    await backend.aclose()


def test_what_is_learnt_about_a_model_is_kept_per_endpoint_and_model(interviewer_home):
    capabilities.learn("http://a/v1", "m", think="implicit")
    capabilities.learn("http://a/v1", "other", think="none")
    capabilities._known = None  # as a new process would read it
    assert capabilities.get("http://a/v1", "m").think == "implicit"
    assert capabilities.get("http://a/v1", "other").think == "none"
    assert capabilities.get("http://b/v1", "m").think is None
    assert (interviewer_home / "capabilities.json").exists()


# ----------------------------------------------------------------------------- role rules


def _turns(repo, session) -> list[tuple[str, str]]:
    return [(t.role, t.text) for t in repo.get_turns(session.interview_id)]


@pytest.mark.parametrize(
    ("template", "learnt"),
    [
        (alternating_roles, "first"),
        (no_system_role, "none"),
        (streamed_as_llama_cpp_python(alternating_roles), "first"),
        (streamed_as_llama_cpp_python(alternating_roles, dead_connection=True), "first"),
    ],
    ids=["mistral-llama.cpp", "gemma-vllm", "mistral-llama-cpp-python", "mistral-llama-cpp-python-dead-connection"],
)
async def test_a_strict_chat_template_gets_messages_it_accepts_and_the_candidate_sees_the_same(repo, template, learnt):
    with FakeOpenAI() as permissive:
        plain, _, plain_card = await _interview_and_grading(repo, permissive, analyst="llm")
    with FakeOpenAI(template=template) as strict:
        session, events, card = await _interview_and_grading(repo, strict, analyst="llm")
        requests = strict.chat_requests()
    assert session.finished and not [e for e in events if isinstance(e, EngineError)]
    assert _turns(repo, session) == _turns(repo, plain)  # what the candidate sees does not change
    assert [d.score for d in card.dimensions] == [d.score for d in plain_card.dimensions]
    assert capabilities.get(strict.base_url, "fake-model").roles == learnt
    accepted = [r for r in requests if template(r) is None]
    refused = [r for r in requests if template(r) is not None]
    for model in ("fake-model", "fake-grader"):  # learnt once per model, not per request
        assert len([r for r in refused if r.body["model"] == model]) <= 2
    voice = [r for r in accepted if r.body.get("stream")]
    assert len(voice) >= 3
    for request in voice:
        assert "Director's note" in request.messages[-1]["content"] and request.messages[-1]["role"] == "user"
    for earlier, later in itertools.pairwise(voice):
        assert later.messages[: len(earlier.messages)] == earlier.messages, "byte-stable for prompt caching"


def test_folding_notes_keeps_each_request_a_prefix_of_the_next():
    system = {"role": "system", "content": "PREFIX"}
    history = [
        {"role": "assistant", "content": "Hello, tell me about it."},
        {"role": "user", "content": "How many users?"},
        {"role": "system", "content": "Director's note 1"},
        {"role": "assistant", "content": "A billion."},
        {"role": "user", "content": "Latency?"},
    ]
    first = [system, *history[:2], {"role": "system", "content": "Director's note 1"}]
    second = [system, *history, {"role": "system", "content": "Director's note 2"}]
    for rule in ("first", "none"):
        a, b = roles.adapt(first, rule), roles.adapt(second, rule)
        assert b[: len(a)] == a
        body = [m for m in b if m["role"] != "system"]
        assert [m["role"] for m in body] == ["user", "assistant", "user", "assistant", "user"]
        assert b[-1] == {"role": "user", "content": "Latency?\n\nDirector's note 2"}
    assert roles.adapt(second, "first")[0] == system and roles.adapt(second, "first")[1]["content"] == roles.OPENING
    assert roles.adapt(second, "none")[0] == {"role": "user", "content": "PREFIX"}
    assert roles.adapt(second, "any") is second


@pytest.fixture
def fake_server():
    with FakeOpenAI() as server:
        yield server


# ----------------------------------------------------------------------------- structured output


def test_json_in_an_answer_is_repaired_where_models_commonly_break_it():
    from interviewer.llm.client import parse_json

    assert parse_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json('Here is the JSON:\n{"a": [1, 2,], "b": "x",}\nHope it helps.') == {"a": [1, 2], "b": "x"}
    assert parse_json('{"a": "line\nbreak"}') == {"a": "line\nbreak"}
    with pytest.raises(json.JSONDecodeError):
        parse_json("no JSON here")


def _no_response_format(record):
    """A server that takes no response_format: vLLM's 400 for a schema feature it lacks, LM Studio's 400
    for json_object; its model then wraps the JSON in prose and a fence, with a trailing comma."""
    kind = (record.body.get("response_format") or {}).get("type")
    if kind == "json_schema":
        return Behaviour(status=400, error_body={"object": "error", "message": "json_schema: $ref is not supported"})
    if kind == "json_object":
        return Behaviour(status=400, error_body={"error": "'response_format.type' must be 'json_schema' or 'text'"})
    if "matching this JSON schema" in record.messages[0]["content"]:
        if "dimensions" in record.messages[0]["content"] and "Transcript" in record.messages[-1]["content"]:
            from tests.fakes.openai_server import fake_scorecard

            body = json.dumps(fake_scorecard(record))
        else:
            body = json.dumps({"questions": [], "stages": [], "end_requested": False, "injection": False})
        return Behaviour(raw_content=f"Sure, here it is:\n```json\n{body[:-1]},}}\n```")
    return default_responder(record)


async def test_a_server_without_response_format_gets_the_schema_in_the_prompt_and_the_answer_repaired(repo):
    with FakeOpenAI(responder=_no_response_format) as server:
        session, events, card = await _interview_and_grading(repo, server, analyst="llm")
        second = await grade_interview(repo, session.interview_id, make_backend(server).grader())
        structured = [r for r in server.chat_requests() if "stream" not in r.body]
    assert session.finished and not [e for e in events if isinstance(e, EngineError)]
    assert all(d.score == 3 for d in card.dimensions) and second.overall == card.overall
    assert capabilities.get(server.base_url, "fake-grader").structured == "prompt"
    formats = [
        (r.body.get("response_format") or {}).get("type") for r in structured if r.body["model"] == "fake-grader"
    ]
    assert formats == ["json_schema", "json_object", None, None]  # learnt once, then asked for in the prompt


# ----------------------------------------------------------------------------- usage and limits


@pytest.mark.parametrize(
    ("template", "responder", "check"),
    [
        (rejects_stream_options, None, lambda body: "stream_options" not in body),
        (rejects_max_tokens, None, lambda body: "max_tokens" not in body and body["max_completion_tokens"] > 0),
        (None, without_stream_usage, lambda body: True),
    ],
    ids=["azure-stream-options", "openai-max-completion-tokens", "lm-studio-no-stream-usage"],
)
async def test_parameters_a_server_rejects_are_learnt_and_usage_is_estimated_where_none_is_sent(
    repo, template, responder, check
):
    with FakeOpenAI(template=template, responder=responder) as server:
        session, events, card = await _interview_and_grading(repo, server, analyst="llm")
        requests = server.chat_requests()
    assert session.finished and not [e for e in events if isinstance(e, EngineError)]
    assert all(d.score == 3 for d in card.dimensions)
    accepted = [r for r in requests if template is None or template(r) is None]
    assert len(requests) - len(accepted) <= 3, "learnt once per model"
    assert all(check(r.body) for r in accepted)
    usage = [e for e in events if isinstance(e, Usage)]
    assert usage and all(u.prompt_tokens > 0 and u.completion_tokens > 0 for u in usage)
    if template is rejects_stream_options or responder is without_stream_usage:
        assert all(u.estimated for u in usage), "counted locally, labelled as an estimate"


# ----------------------------------------------------------------------------- doctor


def test_doctor_prints_each_capability_and_stores_it_for_the_interviews(cli_env, interviewer_home):
    import subprocess
    import sys

    from tests.conftest import ROOT

    with FakeOpenAI(responder=thinking("implicit", _no_response_format), template=alternating_roles) as server:
        env = dict(cli_env, OPENAI_BASE_URL=server.base_url, INTERVIEWER_MODEL="fake-model")
        env["INTERVIEWER_GRADER_MODEL"] = "fake-model"
        result = subprocess.run(
            [sys.executable, "-m", "interviewer", "doctor"], capture_output=True, text=True, env=env, cwd=ROOT
        )
    out = result.stdout
    assert "a tiny request answered" in out and "SECRET-THOUGHT" not in out, out + result.stderr
    assert "replies start inside reasoning" in out
    assert "one leading system message" in out
    assert "structured output: prompt" in out
    stored = json.loads((interviewer_home / "capabilities.json").read_text())
    assert stored[f"{server.base_url} fake-model"] == {
        "think": "implicit",
        "roles": "first",
        "structured": "prompt",
        "context": 0,  # the server does not say
    }
    assert "context window: 128,000 tokens (the context_window setting; the server does not report one)" in out
    assert "Traceback" not in result.stderr


def test_doctor_warns_when_ollamas_context_is_too_small_for_an_interview(cli_env, interviewer_home):
    show = {"/api/show": {"parameters": "stop <|im_end|>", "model_info": {"qwen3.context_length": 40960}}}
    with FakeOpenAI(server_info=show) as server:
        env = dict(cli_env, OPENAI_BASE_URL=server.base_url, INTERVIEWER_MODEL="fake-model")
        result = run_cli(["doctor"], env)
    assert "context window: 4,096 tokens (the server reports 4,096" in result.stdout, result.stdout
    assert "num_ctx" in result.stdout and "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- the context window

_LONG_TURN = (
    "I would keep a sender reputation table keyed by domain, refreshed hourly from user reports, and feed "
    "it to a gradient boosted model next to the text features, because reputation moves faster than text. "
) * 12


@pytest.mark.parametrize(
    ("info", "window"),
    [
        (
            {
                "/api/show": {
                    "parameters": "num_ctx 3072\nstop <|im_end|>",
                    "model_info": {"qwen2.context_length": 32768},
                }
            },
            3072,
        ),
        ({"/api/show": {"parameters": "stop <|im_end|>", "model_info": {"llama.context_length": 131072}}}, 4096),
        ({"/props": {"default_generation_settings": {"n_ctx": 2560}}}, 2560),
    ],
    ids=["ollama-num-ctx", "ollama-default", "llama.cpp-props"],
)
async def test_the_servers_context_window_is_learnt_warned_about_once_and_kept(repo, info, window):
    from interviewer.engine.events import Notice

    with FakeOpenAI(server_info=info) as server:
        backend = make_backend(server, max_reply_tokens=200)  # the context_window setting stays at 128k
        session, events = await play(repo, [_LONG_TURN] * 5, backend=backend, end=False)
        sent = server.chat_requests(structured=False)
    assert capabilities.get(server.base_url, "fake-model").context == window
    warnings = [e.message for e in events if isinstance(e, Notice) and "context window is" in e.message]
    assert len(warnings) == 1 and f"{window:,} tokens" in warnings[0], warnings
    assert repo.get_events(session.interview_id, "notice"), "the warning is stored with the interview"
    assert sent and max(tokens.count_messages(r.messages, "fake-model") for r in sent) <= window - 200
    assert not [e for e in events if isinstance(e, EngineError)]


async def test_a_server_that_does_not_say_is_asked_once_and_the_setting_stands(repo):
    with FakeOpenAI() as server:
        await play(repo, ["How many users are there?"], backend=make_backend(server), end=False)
        await play(repo, ["How many users are there?"], backend=make_backend(server), end=False)
        asked = [r for r in server.requests if r.path.endswith("/api/show")]
    assert capabilities.get(server.base_url, "fake-model").context == 0  # stored: the server does not say
    assert len(asked) == 1


@pytest.mark.parametrize(("num_ctx", "fits"), [(4096, True), (2048, False)])
async def test_grading_keeps_inside_the_servers_window_or_says_how_to_raise_it(repo, num_ctx, fits):
    show = {"/api/show": {"parameters": f"num_ctx {num_ctx}", "model_info": {"qwen2.context_length": 32768}}}
    with FakeOpenAI(server_info=show) as server:
        backend = make_backend(server, grader_max_tokens=800)  # grader_context_window unset: 128k
        session, _ = await play(repo, [_LONG_TURN] * 4, backend=backend)
        if fits:
            card = await grade_interview(repo, session.interview_id, backend.grader())
            graded = server.chat_requests(structured=True)[-1]
            assert card.dimensions and tokens.count_messages(graded.messages, "fake-grader") <= num_ctx - 800
        else:
            with pytest.raises(GradingError, match=f"{num_ctx:,} tokens, as the server reports it.*num_ctx"):
                await grade_interview(repo, session.interview_id, backend.grader())
    assert capabilities.get(server.base_url, "fake-grader").context == num_ctx
