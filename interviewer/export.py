"""An interview as data (JSON) and as a document (Markdown), for the CLI, exports and the TUI.

The Markdown is made for a terminal or a pager: every piece of it goes through :func:`display_safe`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interviewer.terminal import display_safe
from interviewer.vocabulary import INTERVIEWER, turn_tags

if TYPE_CHECKING:
    from interviewer.content.models import Rubric
    from storage import Repository
    from storage.models import Interview, Turn


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


def recommendation_reason(card: dict[str, Any], rubric: Rubric | None) -> str | None:
    """Why the card's recommendation reads as it does, by the rubric's bars (a higher overall can read lower
    when a dimension is under a bar's minimum). None without the rubric, or when it has changed since."""
    if rubric is None or rubric.id != card.get("rubric_id"):
        return None
    scores = {dimension["id"]: dimension["score"] for dimension in card["dimensions"]}
    if any(d.id not in scores for d in rubric.dimensions):
        return None
    if rubric.recommend(card["overall"], scores) != card["recommendation"]:
        return None
    return rubric.explain(card["overall"], scores)


def find_rubric(rubric_id: str) -> Rubric | None:
    """The rubric with this id from the content library, or None when it cannot be read."""
    from interviewer.content import ContentLibrary

    try:
        item = ContentLibrary().rubrics.items.get(rubric_id)
    except Exception:  # a reason is a nicety: an unreadable library only leaves it out
        return None
    return item.model if item is not None else None


def scorecard_markdown(card: dict[str, Any], rubric: Rubric | None = None) -> list[str]:
    """The card as Markdown; with the rubric it was graded by, also why the recommendation reads as it does."""
    lines = [
        f"**Overall {card['overall']:.2f} / 4: {card['recommendation']}** "
        f"(rubric `{card['rubric_id']}`, grader `{card['grader']}`)",
        "",
        *([f"**Flagged:** {card['disagreement']}", ""] if card.get("disagreement") else []),
    ]
    reason = recommendation_reason(card, rubric)
    if reason:
        lines += [reason, ""]
    lines += [
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
    lines += debrief_markdown(card.get("debrief") or [])
    if card.get("dropped_quotes"):
        lines += ["", f"_{card['dropped_quotes']} evidence quote(s) were dropped: not verbatim in the cited turn._"]
    return [display_safe(line) for line in lines]


DEBRIEF_HEADINGS = {
    "fact": "Facts of the spec you never asked for",
    "reference": "What a strong answer to this problem covers that you did not reach",
    "what_if": "What-ifs left unanswered",
}


def debrief_markdown(items: list[dict[str, Any]]) -> list[str]:
    """The debrief: what was left on the table, each with the moment it could have come up."""
    lines: list[str] = []
    for kind, heading in DEBRIEF_HEADINGS.items():
        mine = [item for item in items if item["kind"] == kind]
        if mine:
            lines += ["", f"**{heading}**", ""]
            lines += [f"- {' '.join(str(item['text']).split())} ({item['moment']})" for item in mine]
    return lines


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
    lines = ["## Scorecard", "", *scorecard_markdown(cards[-1].data, find_rubric(cards[-1].data["rubric_id"]))]
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
