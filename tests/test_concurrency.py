"""A class on one database: 20 headless interviews at once (separate processes) against the fake LLM
server, all writing to one SQLite file (then to one PostgreSQL database), while a reader replays
them the whole time. No "database is locked", every turn present and in order."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import pytest

from interviewer.content import ContentLibrary
from interviewer.export import interview_json
from storage import Repository
from tests.conftest import DATA, ROOT
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Recorded, default_responder
from tests.fakes.zygote import Zygote
from tests.reliability import llm_env, pg_database, pg_url

pytestmark = pytest.mark.slow

WRITERS = 20
PG_URL, WHY_NOT = pg_url()


def _responder(record: Recorded) -> Behaviour:
    behaviour = default_responder(record)
    behaviour.chunk_delay = 0.004  # replies take a while, so the interviews overlap
    return behaviour


def _scripts(work: Path) -> list[tuple[str, list[str], Path]]:
    """One (problem, script, file) per writer; each script is its own, so a mixed-up turn would show."""
    base = [line for line in (DATA / "spam-strong.txt").read_text().splitlines() if line.strip()]
    problems = ContentLibrary().problems.ids()
    out = []
    for index in range(WRITERS):
        lines = [f"[writer {index}] {line}" for line in base[: 4 + index % 5]]
        path = work / f"script-{index}.txt"
        path.write_text("\n".join(lines) + "\n")
        out.append((problems[index % len(problems)], lines, path))
    return out


class Reader(threading.Thread):
    """Replays every interview (as ``interviewer show --json`` does) over and over while they run."""

    def __init__(self, url: str, scripts: dict[str, list[str]]):
        super().__init__(daemon=True)
        self.url = url
        self.scripts = scripts
        self.stop = threading.Event()
        self.replays = 0
        self.passes = 0
        self.partial_seen = 0
        self.errors: list[str] = []

    def run(self) -> None:
        repo = None
        try:
            while not self.stop.is_set():
                if repo is None:
                    try:
                        repo = Repository.open(self.url, run_migrations=False)
                        repo.list_interviews()
                    except Exception:  # the schema does not exist yet: the writers create it
                        if repo is not None:
                            repo.close()
                        repo = None
                        time.sleep(0.01)
                        continue
                for summary in repo.list_interviews(limit=1000):
                    self.check(interview_json(repo, summary.id))
                    self.replays += 1
                self.passes += 1
        except Exception as exc:  # a failure of the reader is a test failure
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            if repo is not None:
                repo.close()

    def check(self, data: dict) -> None:
        turns = data["turns"]
        assert [t["seq"] for t in turns] == list(range(1, len(turns) + 1)), f"gap in {data['interview_id']}"
        candidate = [t["text"] for t in turns if t["role"] == "candidate"]
        if candidate:
            writer = candidate[0].split("]")[0] + "]"
            script = self.scripts[writer]
            assert candidate == script[: len(candidate)], f"interview {data['interview_id']}: turns out of order"
            if len(candidate) < len(script):
                self.partial_seen += 1
        roles = [t["role"] for t in turns]
        assert not any(a == b == "candidate" for a, b in itertools.pairwise(roles))


def _class_on_one_database(url: str, label: str, cli_env: dict, work: Path) -> None:
    scripts = _scripts(work)
    by_writer = {lines[0].split("]")[0] + "]": lines for _, lines, _ in scripts}
    started = time.monotonic()
    with FakeOpenAI(responder=_responder) as fake, Zygote(cli_env, str(ROOT)) as zygote:
        env = llm_env(cli_env, fake.base_url, INTERVIEWER_BACKEND="openai", INTERVIEWER_DB_URL=url)
        reader = Reader(url, by_writer)
        reader.start()
        requests = [
            {
                "argv": [
                    "run",
                    "--problem",
                    problem,
                    "--persona",
                    ("mentor", "bar-raiser", "neutral")[i % 3],
                    "--candidate",
                    str(path),
                    "--json",
                    "--minutes",
                    "600",
                ],
                "env": env,
                "stdout": str(work / f"writer-{i}.out"),
                "stderr": str(work / f"writer-{i}.err"),
            }
            for i, (problem, _, path) in enumerate(scripts)
        ]
        answers = zygote.run_many(requests)
        reader.stop.set()
        reader.join(30)
    elapsed = time.monotonic() - started

    failures = []
    for i, answer in enumerate(answers):
        err = (work / f"writer-{i}.err").read_text()
        if answer["status"] != 0 or "locked" in err.lower() or "Traceback" in err:
            failures.append(f"writer {i}: exit {answer['status']}: {err.strip()[-500:]}")
    assert not failures, "\n".join(failures)
    assert not reader.errors, reader.errors

    repo = Repository.open(url, run_migrations=False)
    try:
        turns_total = 0
        ids = set()
        for i, (_, lines, _) in enumerate(scripts):
            data = json.loads((work / f"writer-{i}.out").read_text())
            ids.add(data["interview_id"])
            stored = interview_json(repo, data["interview_id"])
            assert stored["status"] == "ended" and stored["scorecard"] is not None
            assert [t["text"] for t in stored["turns"] if t["role"] == "candidate"] == lines
            assert stored["turns"] == data["turns"]
            assert stored["turns"][-1]["role"] == "interviewer"
            turns_total += len(stored["turns"])
        assert len(ids) == WRITERS == repo.count_interviews()
    finally:
        repo.close()
    print(
        f"\nconcurrency ({label}): {WRITERS} interviews held at once in separate processes, {turns_total} turns "
        f"all present and in order; the reader replayed {reader.replays} interviews in {reader.passes} passes "
        f"({reader.partial_seen} mid-interview), 0 lock errors; {elapsed:.1f} s"
    )
    assert reader.passes >= 3 and reader.partial_seen > 0, "the reader did not run alongside the writers"


def test_twenty_interviews_at_once_on_one_sqlite_file(swept, cli_env, interviewer_home: Path, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    url = f"sqlite:///{interviewer_home / 'class.db'}"  # a new file: the 20 first starts also race to create it
    _class_on_one_database(url, "SQLite", cli_env, work)


@pytest.mark.skipif(PG_URL is None, reason=WHY_NOT or "no PostgreSQL")
def test_twenty_interviews_at_once_on_one_postgresql_database(swept, cli_env, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    with pg_database(PG_URL) as url:
        _class_on_one_database(url, "PostgreSQL", cli_env, work)
