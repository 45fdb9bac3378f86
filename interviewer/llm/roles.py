"""Messages in the form a chat template accepts.

The interviewer's request is a system prefix, the conversation, and the director's notes as system
messages placed where they were sent (the current one last). Many chat templates take that; others
raise: Mistral-family templates accept one leading system message and then require user and
assistant to alternate, starting with the user; Gemma's has no system role at all. For those the
system text travels inside user messages:

- ``first``: the leading system message stays; every later one is appended to the user message before
  it (a director's note follows the candidate's turn it answers), so a request is still the previous
  request plus new messages, byte for byte, and prompt caching keeps working;
- ``none``: the leading system message too becomes the start of the first user message.

Then messages of one role in a row are joined, and a conversation that opens with the interviewer
gets a short user message before it. What the candidate sees does not change.
"""

from __future__ import annotations

from typing import Any

OPENING = "(The candidate has joined the interview.)"
"""The user message before an interviewer's opening line, where the template needs the user first."""


def adapt(messages: list[dict[str, Any]], roles: str | None) -> list[dict[str, Any]]:
    """``messages`` as a template with these role rules takes them (``any`` or unknown: unchanged)."""
    if roles not in ("first", "none"):
        return messages
    out: list[dict[str, Any]] = []
    pending: list[str] = []  # system text waiting for the next user message
    for index, message in enumerate(messages):
        role, content = message["role"], message.get("content") or ""
        if role == "system":
            if index == 0 and roles == "first":
                out.append(message)
            elif out and out[-1]["role"] == "user":
                out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n\n{content}"}
            else:
                pending.append(content)
            continue
        if role == "user":
            content = "\n\n".join([*pending, content])
            pending = []
        elif pending or not out or out[-1]["role"] == "system":
            out.append({"role": "user", "content": "\n\n".join(pending) or OPENING})
            pending = []
        if out and out[-1]["role"] == role:
            out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n\n{content}"}
        else:
            out.append({**message, "content": content})
    if pending:
        out.append({"role": "user", "content": "\n\n".join(pending)})
    return out


def has_late_system(messages: list[dict[str, Any]]) -> bool:
    return any(m["role"] == "system" for m in messages[1:])


def rejected(text: str) -> bool:
    """Whether a server's error says the template refused the roles (Jinja's ``raise_exception`` text
    from Mistral and Gemma templates, as llama.cpp, vLLM and llama-cpp-python pass it on)."""
    lowered = text.lower()
    return "role" in lowered and any(
        word in lowered for word in ("alternate", "system", "not supported", "only user", "must be")
    )


def stricter(roles: str | None) -> str | None:
    """The next, stricter rule to try after a refusal; None when there is none left."""
    return {None: "first", "any": "first", "first": "none"}.get(roles)
