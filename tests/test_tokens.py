"""Token counting works with no network at all, and keeps requests inside a budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


def _offline(code: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", NO_NETWORK + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"INTERVIEWER_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        timeout=120,
    )


def test_encodings_load_from_disk_with_the_network_disabled(interviewer_home: Path):
    result = _offline(
        "from interviewer import tokens\n"
        "print(tokens.count_text('Design a spam filter.'), tokens.count_text('Design a spam filter.', 'gpt-4-0613'))\n",
        interviewer_home,
    )
    assert result.returncode == 0, result.stderr
    o200k, cl100k = map(int, result.stdout.split())
    assert o200k == 5 and cl100k == 5
    assert len(list((interviewer_home / "tiktoken-cache").iterdir())) == 2


def test_a_reply_counting_tokens_while_the_start_up_warm_up_still_loads_them_gets_the_right_count(
    interviewer_home: Path,
):
    """In a fresh process (nothing loaded yet): the backend's warm-up runs on a thread, as the app starts it,
    and a request is counted at the same moment; the count is the one a warm process gives."""
    result = _offline(
        "import threading\n"
        "from interviewer import tokens\n"
        "from interviewer.backends.openai_backend import OpenAIBackend\n"
        "from interviewer.config import load_settings\n"
        "backend = OpenAIBackend(load_settings(base_url='http://127.0.0.1:9/v1', model='gpt-4.1-mini'))\n"
        "warm_up = threading.Thread(target=backend.prepare)\n"
        "warm_up.start()\n"
        "messages = [{'role': 'system', 'content': 'You interview.'}, {'role': 'user', 'content': 'How many users?'}]\n"
        "cold = tokens.count_messages(messages, 'gpt-4.1-mini')\n"
        "warm_up.join()\n"
        "tokens._count.cache_clear()\n"
        "print(cold, tokens.count_messages(messages, 'gpt-4.1-mini'), backend.connection._client is not None)\n",
        interviewer_home,
    )
    assert result.returncode == 0, result.stderr
    cold, warm, client_ready = result.stdout.split()
    assert cold == warm and int(cold) > 10
    assert client_ready == "True"


def test_counts_match_tiktoken_reference_values(interviewer_home: Path):
    from interviewer import tokens

    encoding = tokens.get_encoding("o200k_base")
    assert encoding.encode("hello world") == [24912, 2375]
    assert tokens.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]


def test_message_counting_the_cookbook_way():
    from interviewer import tokens

    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}]
    content = sum(tokens.count_text(m["content"]) + tokens.count_text(m["role"]) for m in messages)
    assert tokens.count_messages(messages) == content + 3 * len(messages) + 3


def test_fit_messages_keeps_the_prefix_and_the_latest_turns():
    from interviewer import tokens

    system = {"role": "system", "content": "You are the interviewer. " * 20}
    history = [{"role": "user" if i % 2 else "assistant", "content": f"message {i} " + "word " * 40} for i in range(30)]
    messages = [system, *history]
    fitted, dropped = tokens.fit_messages(messages, 600)
    assert tokens.count_messages(fitted) <= 600
    assert fitted[0] == system and fitted[-2:] == history[-2:]
    assert dropped > 0 and f"{dropped} earlier message(s) left out" in fitted[1]["content"]
    same, none = tokens.fit_messages(messages, 100_000)
    assert same == messages and none == 0


def test_fit_messages_truncates_one_huge_message():
    from interviewer import tokens

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "paste " * 20_000}]
    fitted, _ = tokens.fit_messages(messages, 1_000)
    assert tokens.count_messages(fitted) <= 1_000
    assert fitted[-1]["content"].endswith("[…]")
