"""An interview as data (JSON) and as a document (Markdown), for the CLI, exports and the TUI."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from interviewer.vocabulary import INTERVIEWER, turn_tags

if TYPE_CHECKING:
    from storage import Repository
    from storage.models import Interview, Turn


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␛ for ESC, ␀ for NUL, ␍ for CR
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def display_safe(text: str) -> str:
    """Text as it may be shown on a terminal or in a document: control characters (escape sequences,
    NUL, carriage returns, backspaces) and bidirectional overrides become visible symbols, so stored
    text cannot move the cursor, recolour or retitle the terminal, or reorder what is shown. Newlines
    and tabs stay. The stored text (and the JSON export) keep every character."""
    return _UNSAFE.sub(_visible, text)


def turn_json(turn: Turn) -> dict[str, Any]:
    data: dict[str, Any] = {"seq": turn.seq, "role": turn.role, "text": turn.text}
    if turn.role == "interviewer":
        data["kind"] = turn.kind
        if turn.moves:
            data["moves"] = turn.moves
    if not turn.complete:
        data["complete"] = False
    data["elapsed_seconds"] = round(turn.elapsed_seconds, 1)
    return data


def interview_json(
    repo: Repository,
    interview_id: int,
    *,
    scorecard: dict | None = None,
    include_history: bool = True,
) -> dict[str, Any]:
    """The interview in the CLI's JSON contract: ``interview_id``, ``turns``, ``scorecard`` and context."""
    interview = repo.get_interview(interview_id)
    turns = repo.get_turns(interview_id)
    cards = repo.get_scorecards(interview_id)
    data: dict[str, Any] = {
        "interview_id": interview.id,
        "created_at": interview.created_at.isoformat(timespec="seconds") + "Z",
        "status": interview.status,
        "problem": {"id": interview.problem_id, "title": interview.title},
        "persona": {"id": interview.persona_id, "name": interview.persona.get("name")},
        "rubric": interview.rubric_id,
        "backend": interview.backend,
        "model": interview.model,
        "budget_minutes": interview.budget_minutes,
        "max_turns": interview.max_turns,
        "elapsed_minutes": round(interview.state.get("elapsed_seconds", 0.0) / 60.0, 1),
        "turns": [turn_json(t) for t in turns],
        "scorecard": scorecard if scorecard is not None else (cards[-1].data if cards else None),
    }
    if include_history:
        data["scorecards"] = [
            {"id": c.id, "created_at": c.created_at.isoformat(timespec="seconds") + "Z", **c.data} for c in cards
        ]
        data["annotations"] = [
            {"id": a.id, "turn": a.turn_seq, "text": a.text, "tag": a.tag} for a in repo.get_annotations(interview_id)
        ]
        data["events"] = [{"turn": e.turn_seq, "type": e.type, **e.payload} for e in repo.get_events(interview_id)]
    return data


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"


def scorecard_markdown(card: dict[str, Any]) -> list[str]:
    lines = [
        f"**Overall {card['overall']:.2f} / 4: {card['recommendation']}** "
        f"(rubric `{card['rubric_id']}`, grader `{card['grader']}`)",
        "",
        *([f"**Flagged:** {card['disagreement']}", ""] if card.get("disagreement") else []),
        "| Dimension | Score | Rationale |",
        "|---|---|---|",
    ]
    for dim in card["dimensions"]:
        rationale = dim["rationale"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {dim['name'] or dim['id']} | {dim['score']} | {rationale} |")
    lines.append("")
    for dim in card["dimensions"]:
        for item in dim["evidence"]:
            quote = " ".join(str(item["quote"]).split())  # one line, whatever the turn's layout
            lines.append(f"- {dim['name'] or dim['id']}, turn {item['turn']}: > {quote}")
    if card.get("strengths"):
        lines += ["", "**Strengths**", ""] + [f"- {s}" for s in card["strengths"]]
    if card.get("improvements"):
        lines += ["", "**To improve**", ""] + [f"- {s}" for s in card["improvements"]]
    if card.get("dropped_quotes"):
        lines += ["", f"_{card['dropped_quotes']} evidence quote(s) were dropped: not verbatim in the cited turn._"]
    return [display_safe(line) for line in lines]


def _turn_markdown(turn: Any, name: str, notes: list[str]) -> list[str]:
    who = name if turn.role == INTERVIEWER else "Candidate"
    tags = turn_tags(turn)
    suffix = f" _({', '.join(tags)})_" if tags else ""
    lines = [f"**{turn.seq}. {who}** [{_minutes(turn.elapsed_seconds)}]{suffix}", ""]
    lines += [f"> {line}" if line else ">" for line in display_safe(turn.text).splitlines() or [""]]
    for note in notes:
        lines += ["", f"📝 {note}"]
    lines.append("")
    return lines


def _scorecards_markdown(cards: list[Any]) -> list[str]:
    """The latest scorecard in full, and a line for each earlier grading."""
    if not cards:
        return []
    lines = ["## Scorecard", "", *scorecard_markdown(cards[-1].data)]
    if len(cards) > 1:
        lines += ["", "Earlier gradings:", ""]
        lines += [
            f"- {c.created_at:%Y-%m-%d %H:%M}: {c.overall:.2f} ({c.recommendation}), rubric `{c.rubric_id}`, "
            f"grader `{c.grader}`"
            for c in cards[:-1]
        ]
    return lines


def interview_markdown(repo: Repository, interview_id: int) -> str:
    interview: Interview = repo.get_interview(interview_id)
    turns = repo.get_turns(interview_id)
    notes: dict[int, list[str]] = {}
    for note in repo.get_annotations(interview_id):
        notes.setdefault(note.turn_seq, []).append(f"[{note.tag}] {note.text}" if note.tag else note.text)
    lines = [
        f"# Interview {interview.id}: {interview.title}",
        "",
        f"- Date: {interview.created_at:%Y-%m-%d %H:%M} UTC",
        f"- Interviewer: {interview.persona.get('name')} ({interview.persona_id})",
        f"- Backend: {interview.backend}" + (f" ({interview.model})" if interview.model else ""),
        f"- Length: {_minutes(interview.state.get('elapsed_seconds', 0.0))} of {interview.budget_minutes:g} min, "
        f"{len(turns)} turns, {interview.status}",
        "",
        "## Transcript",
        "",
    ]
    name = interview.persona.get("name", "Interviewer")
    for turn in turns:
        lines += _turn_markdown(turn, name, notes.get(turn.seq, []))
    lines += _scorecards_markdown(repo.get_scorecards(interview_id))
    return display_safe("\n".join(lines).rstrip() + "\n")
