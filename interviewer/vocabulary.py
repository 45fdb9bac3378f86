"""How the product names things to the user, in one place: the TUI (live and replay), the CLI and
the exports all read these, so the same turn never reads "steer: data" in one view and "steered" in
another. Stage ids and names live in :mod:`interviewer.stages`; turn and move kinds in
:mod:`interviewer.engine.moves`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from interviewer.stages import STAGE_BY_ID

CANDIDATE = "candidate"
INTERVIEWER = "interviewer"
ROLES = (CANDIDATE, INTERVIEWER)

TURN_KIND_LABELS: dict[str, str] = {
    "opening": "",
    "answer": "answer",
    "probe": "probe",
    "what_if": "what-if",
    "redirect": "redirect",
    "wrap_up": "wrap-up",
    "deflect": "deflected",
    "acknowledge": "",
    "clarify": "clarify",
    "refocus": "refocus",
    "follow_up": "follow-up",
    "hint": "hint",
}
"""The tag an interviewer turn of each kind carries; "" for kinds that need none."""

INCOMPLETE = "incomplete"

DEPTH_NAMES = ("not yet", "mentioned", "discussed", "deep")
"""Coverage depth 0-3 of a stage, as the agenda shows it."""
DEPTH_MARKS = ("○", "◔", "◑", "●")


def turn_kind_label(kind: str | None) -> str:
    if not kind:
        return ""
    return TURN_KIND_LABELS.get(kind, kind.replace("_", "-"))


def stage_label(stage: str | None) -> str:
    """A stage's name as it reads inside a sentence or a tag ("data", "iteration & safety")."""
    if stage is None or stage not in STAGE_BY_ID:
        return "the design"
    return STAGE_BY_ID[stage].name.lower()


def depth_name(depth: int) -> str:
    return DEPTH_NAMES[max(0, min(depth, len(DEPTH_NAMES) - 1))]


def depth_mark(depth: int) -> str:
    return DEPTH_MARKS[max(0, min(depth, len(DEPTH_MARKS) - 1))]


def event_marker(event_type: str, payload: Mapping[str, Any]) -> str:
    """The tag an event puts on its turn, for a live event and a stored one alike; "" for none."""
    stage = payload.get("stage")
    match event_type:
        case "fact_revealed":
            return "fact revealed"
        case "what_if":
            return "what-if asked again" if payload.get("again") else "what-if"
        case "what_if_unanswered":
            return "what-if left unanswered"
        case "probe":
            return f"probe: {stage_label(stage)}" if stage else "probe"
        case "redirect":
            return f"steered to {stage_label(stage)}" if stage else "steered"
        case "guard":
            return "guarded"
        case "injection":
            return "injection deflected"
        case "cancelled":
            return "stopped"
        case "error":
            return "failed"
    return ""


def turn_tags(turn: Any, markers: Sequence[str] = ()) -> list[str]:
    """The tags a stored turn carries in the replay and the exports: its kind, the stages the analyst
    saw it work on, its events' ``markers``, and whether it finished."""
    tags = []
    label = turn_kind_label(turn.kind) if turn.role == INTERVIEWER else ""
    if label:
        tags.append(label)
    signals = ((turn.meta or {}).get("analysis") or {}).get("signals") or {}
    tags += [stage_label(stage) for stage in signals if stage in STAGE_BY_ID]
    tags += markers
    if not turn.complete:
        tags.append(INCOMPLETE)
    return tags
