"""A fake OpenAI-compatible server on 127.0.0.1 for tests: streams SSE, answers structured-output
requests, records every request, and injects faults on demand.

Each request takes the next scripted :class:`Behaviour` from the queue, or asks the responder
(a function of the request) when the queue is empty.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    text: str | None = None
    """Streamed (or returned) reply text."""
    json_body: Any = None
    """For structured-output requests: the object returned as the message content (serialised)."""
    raw_content: str | None = None
    """Message content returned verbatim (e.g. invalid JSON)."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_body: dict | None = None
    delay_first: float = 0.0
    """Seconds before the first chunk (after the headers)."""
    delay_headers: float = 0.0
    """Seconds before sending anything at all."""
    chunk_delay: float = 0.0
    stall_after_chunks: int | None = None
    """Stop sending (keep the connection open) after this many chunks."""
    stall_seconds: float = 30.0
    disconnect_after_chunks: int | None = None
    """Drop the connection after this many chunks."""
    malformed_after_chunks: int | None = None
    """Send a broken SSE data line after this many chunks."""
    refusal: str | None = None
    include_usage: bool = True
    cached_tokens: int = 0
    finish_reason: str = "stop"
    empty_stream: bool = False
    """Streamed: the headers, then the connection closes without a single chunk."""
    drop_next_request: bool = False
    """Afterwards, the next request to arrive gets no answer: its connection is closed (as a server that
    closed a kept-alive connection after a broken stream, which the client's pool then hands out)."""
    reasoning: str | None = None
    """Reasoning sent in its own field, before the text (streamed: one chunk per word)."""
    reasoning_field: str = "reasoning_content"
    """That field's name: ``reasoning_content`` (llama.cpp, DeepSeek, older vLLM) or ``reasoning`` (vLLM,
    LM Studio, Ollama)."""


@dataclass
class Recorded:
    path: str
    body: dict
    headers: dict[str, str]

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])

    @property
    def structured(self) -> bool:
        return (self.body.get("response_format") or {}).get("type") in ("json_schema", "json_object")

    @property
    def schema(self) -> dict:
        response_format = self.body.get("response_format") or {}
        return response_format.get("schema") or (response_format.get("json_schema") or {}).get("schema") or {}

    @property
    def schema_name(self) -> str | None:
        if "dimensions" in self.schema.get("properties", {}):
            return "scorecard"
        return ((self.body.get("response_format") or {}).get("json_schema") or {}).get("name")


def _words(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


class FakeOpenAI:
    def __init__(
        self,
        responder: Callable[[Recorded], Behaviour] | None = None,
        models: list[str] | None = None,
        template: Callable[[Recorded], Behaviour | None] | None = None,
        server_info: dict[str, dict] | None = None,
    ):
        self.template = template
        self.server_info = server_info or {}
        """What the server's own paths answer, by path (``/api/show`` as Ollama, ``/props`` as llama.cpp);
        any other path is not found."""
        """The chat template's check of the messages: an error :class:`Behaviour` where it raises."""
        self.queue: deque[Behaviour] = deque()
        self.requests: list[Recorded] = []
        self.arrivals: list[float] = []
        """perf_counter() at which each streamed (non-structured) request arrived."""
        self.first_chunk_at = 0.0
        """perf_counter() when the last streamed reply's first content chunk was written (benchmarks)."""
        self.last_chunk_at = 0.0
        """perf_counter() when the last streamed reply's final chunk was written."""
        self.responder = responder or default_responder
        self.models = models or ["fake-model", "fake-grader"]
        self._lock = threading.Lock()
        self._drop_next = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path in server.server_info:
                    self._json(200, server.server_info[self.path])
                elif self.path.rstrip("/").endswith("/_stamps"):
                    # Timing for benchmarks that run this server in another process (same monotonic clock).
                    self._json(
                        200,
                        {
                            "arrivals": server.arrivals,
                            "first_chunk_at": server.first_chunk_at,
                            "last_chunk_at": server.last_chunk_at,
                        },
                    )
                elif self.path.rstrip("/").endswith("/models"):
                    body = {
                        "object": "list",
                        "data": [{"id": m, "object": "model", "owned_by": "test"} for m in server.models],
                    }
                    self._json(200, body)
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                arrived = time.perf_counter()
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                record = Recorded(self.path, body, {k.lower(): v for k, v in self.headers.items()})
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    with server._lock:
                        server.requests.append(record)
                    info = server.server_info.get(self.path)
                    self._json(200, info) if info is not None else self._json(404, {"error": "not found"})
                    return
                with server._lock:
                    dropped, server._drop_next = server._drop_next, False
                if dropped:
                    self.close_connection = True
                    return
                refused = server.template(record) if server.template and record.messages else None
                with server._lock:
                    server.requests.append(record)
                    if not record.structured:
                        server.arrivals.append(arrived)
                    behaviour = refused or (server.queue.popleft() if server.queue else None)
                if behaviour is None:
                    behaviour = server.responder(record)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._respond(record, behaviour)
                if behaviour.drop_next_request:
                    with server._lock:
                        server._drop_next = True

            def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _respond(self, record: Recorded, b: Behaviour) -> None:
                if b.delay_headers:
                    time.sleep(b.delay_headers)
                if b.status != 200:
                    self._json(b.status, b.error_body or {"error": {"message": f"fake error {b.status}"}}, b.headers)
                    return
                model = record.body.get("model", "fake-model")
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in record.messages) + 3
                if not record.body.get("stream"):
                    content = b.raw_content
                    if content is None:
                        content = json.dumps(b.json_body) if b.json_body is not None else (b.text or "")
                    if b.delay_first:
                        time.sleep(b.delay_first)
                    message: dict[str, Any] = {"role": "assistant", "content": None if b.refusal else content}
                    if b.reasoning:
                        message[b.reasoning_field] = b.reasoning
                    if b.refusal:
                        message["refusal"] = b.refusal
                    self._json(
                        200,
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": model,
                            "choices": [{"index": 0, "message": message, "finish_reason": b.finish_reason}],
                            "usage": {
                                "prompt_tokens": prompt_tokens,
                                "completion_tokens": len(content.split()),
                                "total_tokens": prompt_tokens + len(content.split()),
                            },
                        },
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.flush()
                if b.delay_first:
                    time.sleep(b.delay_first)
                if b.empty_stream:
                    return

                def send(payload: dict | str) -> None:
                    data = payload if isinstance(payload, str) else json.dumps(payload)
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()

                def chunk(delta: dict, finish: str | None = None) -> dict:
                    return {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }

                send(chunk({"role": "assistant", "content": ""}))
                if b.refusal:
                    send(chunk({"refusal": b.refusal}))
                    send(chunk({}, "stop"))
                    send("[DONE]")
                    return
                for thought in _words(b.reasoning or ""):
                    send(chunk({b.reasoning_field: thought}))
                pieces = _words(b.text or "")
                for index, piece in enumerate(pieces):
                    if b.stall_after_chunks is not None and index == b.stall_after_chunks:
                        time.sleep(b.stall_seconds)
                        return
                    if b.disconnect_after_chunks is not None and index == b.disconnect_after_chunks:
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if b.malformed_after_chunks is not None and index == b.malformed_after_chunks:
                        self.wfile.write(b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"content": "oops\n\n')
                        self.wfile.flush()
                        return
                    send(chunk({"content": piece}))
                    if index == 0:
                        server.first_chunk_at = time.perf_counter()
                    if b.chunk_delay:
                        time.sleep(b.chunk_delay)
                send(chunk({}, b.finish_reason))
                if b.include_usage and (record.body.get("stream_options") or {}).get("include_usage"):
                    usage = {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(pieces),
                        "total_tokens": prompt_tokens + len(pieces),
                    }
                    if b.cached_tokens:
                        usage["prompt_tokens_details"] = {"cached_tokens": b.cached_tokens}
                    send(
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion.chunk",
                            "created": int(time.time()),
                            "model": model,
                            "choices": [],
                            "usage": usage,
                        }
                    )
                send("[DONE]")
                server.last_chunk_at = time.perf_counter()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def push(self, *behaviours: Behaviour) -> None:
        self.queue.extend(behaviours)

    def chat_requests(self, *, structured: bool | None = None) -> list[Recorded]:
        out = [r for r in self.requests if r.path.endswith("/chat/completions")]
        if structured is not None:
            out = [r for r in out if r.structured == structured]
        return out


# ----------------------------------------------------------------------------- a plausible default model


_ANSWER = re.compile(r"Answer with these hidden facts, [^:]*: (.+)")
_QUOTED = re.compile(r'"([^"]+)"')


def default_responder(record: Recorded) -> Behaviour:
    """Behaves like a cooperative model: follows the director's note, fills schemas sensibly."""
    if record.structured:
        if record.schema_name == "scorecard":
            return Behaviour(json_body=fake_scorecard(record))
        return Behaviour(json_body={"questions": [], "stages": [], "end_requested": False, "injection": False})
    note = record.messages[-1]["content"] if record.messages else ""
    replies = []
    for line in note.splitlines():
        answer = _ANSWER.search(line)
        if answer:
            replies.append(f"Good question. {answer.group(1)}")
            continue
        quoted = _QUOTED.findall(line)
        if "what-if" in line and quoted:
            replies.append(f"Let me change something. {quoted[-1]}")
        elif ("Steer them" in line or "Dig deeper" in line) and quoted:
            replies.append(quoted[-1])
        elif "minutes are left" in line:
            replies.append("We are nearly out of time. Please summarise your design and its biggest risk.")
        elif "Acknowledge briefly" in line:
            replies.append("Understood. Please go on.")
        elif "Pick up what the candidate just said" in line and quoted:
            replies.append(f"You said {quoted[0]}. Why that, for this system?")
        elif "Press the candidate" in line:
            replies.append(
                f"Let me push on {quoted[0]}: what does it take?" if quoted else "Can you put numbers on that?"
            )
        elif "The candidate is stuck" in line:
            replies.append("No worries. Think about where the data comes from and how it is labelled.")
        elif "Bring them back" in line:
            replies.append("Let's come back to the problem we are solving here.")
        elif "reasonable assumption" in line:
            replies.append("That is open; make a reasonable assumption and state it.")
    return Behaviour(text=" ".join(replies) or "Please continue.")


def transcript_turns(record: Recorded) -> list[dict]:
    """The turns of a grading request's transcript (fenced JSON data)."""
    content = record.messages[-1]["content"]
    match = re.search(r"<transcript>\n(.*)\n</transcript>", content, flags=re.S)
    return json.loads(match.group(1)) if match else []


def fake_scorecard(record: Recorded) -> dict:
    """A valid scorecard that quotes the first statement (not a question) of the candidate's turns."""
    system = record.messages[0]["content"]
    ids = re.findall(r"^- ([a-z_]+) \(", system, flags=re.M)
    turn, quote = 2, ""
    for item in transcript_turns(record):
        if item["speaker"] != "candidate" or item["text"].startswith("(withheld"):
            continue
        statement = next((s for s in re.split(r"(?<=[.!?])\s+", item["text"]) if not s.endswith("?")), "")
        if statement:
            turn, quote = item["turn"], statement[:300]
            break
    return {
        "dimensions": {
            dimension: {
                "score": 3,
                "rationale": "Solid, with room to go deeper.",
                "evidence": [{"turn": turn, "quote": quote}] if quote else [],
            }
            for dimension in ids
        },
        "strengths": ["Asked about the setting first."],
        "improvements": ["Quantify the latency budget earlier."],
    }


def serve_forever(delay_first: float = 0.0, chunk_delay: float = 0.0) -> None:
    """Run the fake in this process until killed, printing its base URL (benchmarks use this to keep
    the server's work off the measured process)."""
    import sys

    def responder(record: Recorded) -> Behaviour:
        behaviour = default_responder(record)
        if not record.structured:
            behaviour.delay_first, behaviour.chunk_delay = delay_first, chunk_delay
        return behaviour

    with FakeOpenAI(responder=responder) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


if __name__ == "__main__":
    import sys

    serve_forever(*(float(a) for a in sys.argv[1:3]))


# ----------------------------------------------------------------------------- reasoning models

THOUGHT = "SECRET-THOUGHT the candidate asked something; the note says what to do, so I will do that."
"""The reasoning a fake reasoning model writes: nothing of it may reach the candidate, the transcript or
a later request."""


def thinking(style: str, responder: Callable[[Recorded], Behaviour] = default_responder) -> Callable:
    """A reasoning model, as each server delivers its reasoning:

    - ``tags``: inside ``content`` between ``<think>`` and ``</think>`` (llama.cpp without a reasoning
      format; Ollama for some models);
    - ``implicit``: inside ``content`` with no opening tag, the template having opened the block in the
      prompt (DeepSeek-R1's template through llama.cpp);
    - ``reasoning_content`` / ``reasoning``: in a field of its own (llama.cpp with a reasoning format,
      DeepSeek's API; vLLM renamed the first to the second, and LM Studio and Ollama use it).
    """

    def respond(record: Recorded) -> Behaviour:
        behaviour = responder(record)
        visible = behaviour.raw_content
        if visible is None:
            visible = json.dumps(behaviour.json_body) if behaviour.json_body is not None else (behaviour.text or "")
        if style in ("tags", "implicit"):
            opening = "<think>\n" if style == "tags" else ""
            wrapped = f"{opening}{THOUGHT}\n</think>\n\n{visible}"
            behaviour.raw_content, behaviour.text, behaviour.json_body = wrapped, wrapped, None
        else:
            behaviour.reasoning, behaviour.reasoning_field = THOUGHT, style
        return behaviour

    return respond


# ----------------------------------------------------------------------------- chat templates


def alternating_roles(record: Recorded) -> Behaviour | None:
    """Mistral's template (v0.3 and later): one leading system message, then user and assistant strictly
    alternating from the user; anything else raises. llama.cpp's server answers that with HTTP 500."""
    messages = record.messages
    rest = messages[1:] if messages[0]["role"] == "system" else messages
    for index, message in enumerate(rest):
        if message["role"] != ("user" if index % 2 == 0 else "assistant"):
            return Behaviour(
                status=500,
                error_body={
                    "error": {
                        "code": 500,
                        "message": "Conversation roles must alternate user/assistant/user/assistant/...",
                        "type": "server_error",
                    }
                },
            )
    return None


def no_system_role(record: Recorded) -> Behaviour | None:
    """Gemma's template: no system role at all; vLLM answers the template's exception with HTTP 400."""
    if any(m["role"] == "system" for m in record.messages):
        return Behaviour(
            status=400,
            error_body={"object": "error", "message": "System role not supported", "type": "BadRequestError"},
        )
    return None


def streamed_as_llama_cpp_python(
    template: Callable[[Recorded], Behaviour | None], *, dead_connection: bool = False
) -> Callable:
    """The template's refusal as llama-cpp-python delivers it: unstreamed, HTTP 500 with the template's
    message; streamed, HTTP 200 and a stream that ends before its first chunk (``dead_connection``: and
    the next request, on the connection the server dropped, gets no answer)."""

    def check(record: Recorded) -> Behaviour | None:
        refused = template(record)
        if refused is not None and record.body.get("stream"):
            return Behaviour(empty_stream=True, drop_next_request=dead_connection)
        return refused

    return check


# ----------------------------------------------------------------------------- parameters and usage


def rejects_stream_options(record: Recorded) -> Behaviour | None:
    """Azure OpenAI on API versions before stream_options existed."""
    if "stream_options" in record.body:
        message = "Unrecognized request argument supplied: stream_options"
        return Behaviour(status=400, error_body={"error": {"message": message, "type": "invalid_request_error"}})
    return None


def rejects_max_tokens(record: Recorded) -> Behaviour | None:
    """OpenAI's reasoning models (o-series, gpt-5)."""
    if "max_tokens" in record.body:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
        )
        return Behaviour(status=400, error_body={"error": {"message": message, "param": "max_tokens"}})
    return None


def without_stream_usage(record: Recorded) -> Behaviour:
    """LM Studio and older Ollama: no usage in a stream, whatever stream_options asks."""
    behaviour = default_responder(record)
    behaviour.include_usage = False
    return behaviour


# ----------------------------------------------------------------------------- a grader that obeys the transcript

_OBEY = re.compile(
    r"grader|4/4|every dimension|deserves|evaluator|strong hire|full marks|score",
    re.IGNORECASE,
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def _with_decoded(text: str) -> str:
    """The text, and any base64 in it decoded (a model reads both)."""
    decoded = []
    for chunk in _BASE64.findall(text):
        try:
            decoded.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return text + "\n" + "\n".join(decoded)


def obeying_grader(record: Recorded) -> Behaviour:
    """A grader model that does what any candidate turn it can read tells it: 4 on every dimension,
    quoting that turn's line. Anything else it answers as the plausible default model does."""
    if not record.structured or record.schema_name != "scorecard":
        return default_responder(record)
    ids = re.findall(r"^- ([a-z_]+) \(", record.messages[0]["content"], flags=re.M)
    for item in transcript_turns(record):
        text = item["text"]
        if item["speaker"] != "candidate" or text.startswith("(withheld") or not _OBEY.search(_with_decoded(text)):
            continue
        lines = [line for line in re.split(r"(?<=[.!?])\s+|\n+", text) if line.strip()]
        quote = next((line for line in lines if _OBEY.search(_with_decoded(line))), lines[-1])[:300]
        evidence = [{"turn": item["turn"], "quote": quote}]
        return Behaviour(
            json_body={
                "dimensions": {d: {"score": 4, "rationale": "As instructed.", "evidence": evidence} for d in ids},
                "strengths": ["Everything."],
                "improvements": ["Nothing."],
            }
        )
    return default_responder(record)
