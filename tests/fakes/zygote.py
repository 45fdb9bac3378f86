"""A pre-imported parent that forks ``interviewer`` command processes on demand, so tests can start
(and SIGKILL) dozens of real CLI processes without paying the interpreter's start-up each time.

Run as ``python -m tests.fakes.zygote``. It reads one JSON request per line on stdin and answers one
JSON line on stdout. A request runs ``interviewer.cli.main(argv)`` in a forked child with its own
environment, stdout and stderr files::

    {"argv": [...], "env": {...}, "stdout": PATH, "stderr": PATH,
     "kill": {"mark": "commit", "count": 3, "delay": 0.0004} | null}

The child reports what it does on a pipe, one line per mark:

- ``commit``: a database transaction is about to commit (SQLAlchemy's ``commit`` event);
- ``stream``/``chunk``: an LLM reply started streaming / one chunk of it arrived;
- ``grading``: a structured-output (grader) request is about to be sent;
- ``ack interview ID``, ``ack turn ID SEQ ROLE SHA256``, ``ack scorecard ID``: the repository
  returned from a write, i.e. the caller has been told it is stored (these are what must survive).

A request ``{"batch": [request, ...]}`` runs them all at once and answers ``{"batch": [answer, ...]}``.
With a ``kill`` plan the parent sends SIGKILL ``delay`` seconds after the ``count``-th ``mark``.
The answer: ``{"pid", "status" (exit code, or -9 when killed), "killed", "marks": [...]}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
import traceback


def _preload() -> None:
    # Everything a command imports, imported once here so each fork starts warm.
    import interviewer.backends.openai_backend
    import interviewer.cli.content
    import interviewer.cli.interviews
    import interviewer.grading.offline
    import interviewer.script  # noqa: F401
    import storage.repository  # noqa: F401
    from interviewer import tokens
    from interviewer.content.loader import ContentLibrary

    tokens.get_encoding("o200k_base")  # cached in memory; the children inherit it
    ContentLibrary().problems  # noqa: B018  (warms pydantic's validators)


def _install_hooks(write) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    import interviewer.llm.analyst as analyst_module
    import interviewer.llm.grader as grader_module
    import interviewer.llm.voice as voice_module
    from storage.repository import Repository

    event.listen(Engine, "commit", lambda conn: write("commit"))

    original_add_turn = Repository.add_turn
    original_create = Repository.create_interview
    original_scorecard = Repository.add_scorecard

    def add_turn(self, interview_id, role, text, **kwargs):
        turn = original_add_turn(self, interview_id, role, text, **kwargs)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        write(f"ack turn {interview_id} {turn.seq} {role} {digest}")
        return turn

    def create_interview(self, **kwargs):
        row = original_create(self, **kwargs)
        write(f"ack interview {row.id}")
        return row

    def add_scorecard(self, interview_id, **kwargs):
        card = original_scorecard(self, interview_id, **kwargs)
        write(f"ack scorecard {interview_id}")
        return card

    Repository.add_turn = add_turn  # type: ignore[method-assign]
    Repository.create_interview = create_interview  # type: ignore[method-assign]
    Repository.add_scorecard = add_scorecard  # type: ignore[method-assign]

    original_stream = voice_module.stream_chat
    original_json = grader_module.complete_json

    async def stream_chat(*args, **kwargs):
        write("stream")
        async for piece in original_stream(*args, **kwargs):
            write("chunk")
            yield piece

    async def complete_json(*args, **kwargs):
        if kwargs.get("schema_name") == "scorecard":
            write("grading")
        return await original_json(*args, **kwargs)

    voice_module.stream_chat = stream_chat  # type: ignore[assignment]
    grader_module.complete_json = complete_json  # type: ignore[assignment]
    analyst_module.complete_json = complete_json  # type: ignore[assignment]


def _child(request: dict, mark_fd: int) -> None:
    def write(line: str) -> None:
        os.write(mark_fd, (line + "\n").encode())

    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    code = 99
    try:
        _install_hooks(write)
        from interviewer.cli import main

        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a traceback is a failure the test reports
        traceback.print_exc()
        code = 98
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _spawn(request: dict) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(request, write_fd)
    os.close(write_fd)
    return pid, read_fd


def _run_many(requests: list[dict]) -> list[dict]:
    """Fork every request's child at once, follow their marks (killing where planned), wait for all."""
    import selectors

    children = []
    selector = selectors.DefaultSelector()
    for request in requests:
        pid, read_fd = _spawn(request)
        child = {"pid": pid, "plan": request.get("kill"), "marks": [], "seen": 0, "killed": False, "buffer": b""}
        children.append(child)
        selector.register(read_fd, selectors.EVENT_READ, child)
    open_fds = len(children)
    while open_fds:
        for key, _ in selector.select():
            child = key.data
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
                continue
            child["buffer"] += data
            *lines, child["buffer"] = child["buffer"].split(b"\n")
            plan = child["plan"]
            for raw in lines:
                line = raw.decode()
                child["marks"].append(line)
                if plan and not child["killed"] and line == plan["mark"]:
                    child["seen"] += 1
                    if child["seen"] == plan["count"]:
                        if plan.get("delay"):
                            time.sleep(plan["delay"])
                        os.kill(child["pid"], signal.SIGKILL)
                        child["killed"] = True
    answers = []
    for child in children:
        _, status = os.waitpid(child["pid"], 0)
        code = os.waitstatus_to_exitcode(status)
        answers.append(
            {
                "pid": child["pid"],
                "status": code,
                "killed": child["killed"] and code == -signal.SIGKILL,
                "marks": child["marks"],
            }
        )
    return answers


def main() -> None:
    _preload()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            answer = {"batch": _run_many(request["batch"])} if "batch" in request else _run_many([request])[0]
        except Exception as exc:  # report, keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


class Zygote:
    """The test side: start the zygote once, then :meth:`run` commands through it."""

    def __init__(self, env: dict[str, str], cwd: str):
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=cwd,
            text=True,
        )
        ready = json.loads(self.process.stdout.readline() or "{}")
        if "ready" not in ready:
            raise RuntimeError("the zygote did not start")

    def run(self, argv: list[str], env: dict[str, str], stdout: str, stderr: str, kill: dict | None = None) -> dict:
        request = {"argv": argv, "env": env, "stdout": stdout, "stderr": stderr, "kill": kill}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def run_many(self, requests: list[dict]) -> list[dict]:
        """Run several commands at once (each a dict of :meth:`run`'s arguments); answers in order."""
        batch = [
            {"argv": r["argv"], "env": r["env"], "stdout": r["stdout"], "stderr": r["stderr"], "kill": r.get("kill")}
            for r in requests
        ]
        self.process.stdin.write(json.dumps({"batch": batch}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["batch"]

    def close(self) -> None:
        if not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    main()
