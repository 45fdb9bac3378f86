"""The grader as an LLM: one structured-output request over the stored transcript (plus one retry)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import ValidationError

from interviewer import tokens
from interviewer.content.models import Problem, Rubric
from interviewer.grading.attempts import asks_about_the_interviewer, is_attempt
from interviewer.grading.base import Grader, GradingError
from interviewer.grading.offline import OfflineGrader
from interviewer.grading.scorecard import DimensionScore, Evidence, Scorecard, Transcript, finalize
from interviewer.llm import context, prompts
from interviewer.llm.client import Connection, LLMError, complete_json
from interviewer.text import is_question, is_substantive, sentences

UNEVIDENCED_CAP = 2
"""The highest score a dimension keeps when none of its evidence is design content from a credited turn."""
DISAGREE_OVERALL = 1.0
"""Overall scores this far apart from the offline grader's reading flag the grading."""
DISAGREE_DIMENSION = 2
"""As do two dimensions' scores this far apart."""


class LLMGrader(Grader):
    def __init__(self, connection: Connection, offline: Grader | None = None):
        self.connection = connection
        # The reading without an LLM: what a wild grading is checked against, and the debrief's source.
        self.offline = offline or OfflineGrader()
        self.settings = connection.settings
        self.name = self.settings.effective_grader_model
        self.requests: list[list[dict]] = []

    def messages(
        self, transcript: Transcript, rubric: Rubric, problem: Problem, unit: int
    ) -> tuple[list[dict], list[str]]:
        """The grading request, fitted to the grader's context without dropping any turn; it asks for
        quotes of at most ``unit`` characters (see :func:`prompts.grader_string_unit`)."""
        model = self.settings.effective_grader_model
        system = prompts.grader_system(rubric, problem)
        window = context.window(self.settings, model, self.settings.effective_grader_context)
        budget = window - self.settings.grader_max_tokens
        shortened: dict[int, str] = {}
        notes: list[str] = []

        def build() -> list[dict]:
            return [
                {"role": "system", "content": system},
                {
                    "role": "user",
                    "content": "Transcript:\n\n"
                    + prompts.numbered_transcript(transcript, shortened)
                    + "\n\n"
                    + prompts.grader_length_rule(unit),
                },
            ]

        messages = build()
        if tokens.count_messages(messages, model) <= budget:
            return messages, notes
        # First shorten the interviewer's turns (the candidate is graded), then the longest candidate turns.
        for turn in transcript.turns:
            if turn.role == "interviewer":
                shortened[turn.seq] = tokens.truncate_text(turn.text, 40, model)
        messages = build()
        if tokens.count_messages(messages, model) > budget:
            candidate = sorted(transcript.candidate_turns(), key=lambda t: -len(t.text))
            cap = 2_000
            while tokens.count_messages(messages, model) > budget and cap >= 50:
                for turn in candidate:
                    shortened[turn.seq] = tokens.truncate_text(turn.text, cap, model)
                messages = build()
                cap //= 2
        cut = sorted(t.seq for t in transcript.candidate_turns() if t.seq in shortened and shortened[t.seq] != t.text)
        notes.append(
            "The transcript was longer than the grader's context: interviewer turns were shortened"
            + (f", and candidate turns {', '.join(map(str, cut))} were cut to their opening part" if cut else "")
            + "; no turn was left out."
        )
        if tokens.count_messages(messages, model) > budget:
            reported = window < self.settings.effective_grader_context
            raise GradingError(
                f"the transcript does not fit the grader's context window ({window:,} tokens"
                + (", as the server reports it" if reported else "")
                + f") with {self.settings.grader_max_tokens:,} tokens left for the answer, even with every turn "
                "shortened; "
                + (
                    f"raise the window on the server ({context.HOW_TO_RAISE})"
                    if reported
                    else "set grader_context_window for a larger model"
                )
                + ", or lower grader_max_tokens"
            )
        return messages, notes

    async def grade(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        await asyncio.to_thread(context.learn_window, self.settings, self.settings.effective_grader_model)
        ids = [d.id for d in rubric.dimensions]
        problems: list[str] = []
        max_tokens, share = self.settings.grader_max_tokens, 1.0
        for attempt in range(2):  # one request, plus at most one retry on invalid output
            unit = prompts.grader_string_unit(len(ids), max_tokens, share)
            request, notes = self.messages(transcript, rubric, problem, unit)
            self.requests.append(request)
            try:
                data, _ = await complete_json(
                    self.connection.client,
                    self.settings,
                    model=self.settings.effective_grader_model,
                    messages=request,
                    schema_name="scorecard",
                    schema=prompts.grader_schema(ids, unit),
                    temperature=self.settings.grader_temperature,
                    max_tokens=max_tokens,
                    seconds=self.settings.grader_timeout,
                )
                dimensions, strengths, improvements = _check_grader_output(data, ids)
            except LLMError as exc:
                if exc.kind not in ("invalid", "protocol", "cut_off") or attempt == 1:
                    raise GradingError(f"grading failed: {exc}") from None
                problems.append(str(exc))
                if exc.kind == "cut_off":
                    share = 0.5  # the same request would run to the limit again: ask for half as much text
                continue
            except ValueError as exc:
                problems.append(str(exc))
                if attempt == 1:
                    raise GradingError(f"the grader's answer was invalid twice: {'; '.join(problems)}") from None
                continue
            if problems:
                notes.append(f"The first answer was invalid ({problems[0]}); the retry was used.")
            notes += await asyncio.to_thread(set_aside_off_stage, dimensions, rubric, transcript, self.offline)
            notes += hold_to_evidence(dimensions, rubric, transcript)
            card = finalize(
                interview_id=transcript.interview_id,
                rubric=rubric,
                grader=self.name,
                dimensions=dimensions,
                transcript=transcript,
                strengths=strengths,
                improvements=improvements,
                notes=notes,
            )
            reading = await self.offline.grade(transcript, rubric, problem)
            # What was left on the table comes from the offline reading, which knows the reference points met.
            card.debrief = reading.debrief
            return flag_disagreement(card, reading)
        raise GradingError("grading failed")  # not reached: the loop returns or raises


def _check_grader_output(data: object, ids: Sequence[str]) -> tuple[list[DimensionScore], list[str], list[str]]:
    """Validate what the grader said; servers may ignore the schema, so check everything."""
    if not isinstance(data, dict) or not isinstance(data.get("dimensions"), dict):
        raise ValueError('the answer has no "dimensions" object')
    graded = data["dimensions"]
    unknown = [key for key in graded if key not in ids]
    if unknown:
        raise ValueError(f"unknown dimension '{unknown[0]}'")
    missing = [i for i in ids if i not in graded]
    if missing:
        raise ValueError(f"no score for {', '.join(missing)}")
    scores = [_dimension_score(dimension_id, graded[dimension_id]) for dimension_id in ids]
    return scores, _feedback(data, "strengths"), _feedback(data, "improvements")


def _dimension_score(dimension_id: str, raw: object) -> DimensionScore:
    if isinstance(raw, dict) and isinstance(raw.get("score"), int) and not 1 <= raw["score"] <= 4:
        raise ValueError(f"score {raw['score']} for '{dimension_id}' is outside 1-4")
    if isinstance(raw, dict):
        raw = {**raw, "evidence": [e for e in raw.get("evidence", []) if isinstance(e, dict)][:3]}
    try:
        item = prompts.GradedDimension.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"]))
        raise ValueError(f"dimension '{dimension_id}' field {where}: {error['msg']}") from None
    return DimensionScore(
        id=dimension_id,
        score=item.score,
        rationale=item.rationale.strip() or "(no rationale given)",
        evidence=[Evidence(turn=e.turn, quote=e.quote) for e in item.evidence if e.quote.strip()],
    )


def _feedback(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'"{key}" is not a list of strings')
    return [v.strip() for v in value if v.strip()][:6]


def _design_content(quote: str, clarification: bool) -> bool:
    """A quote that says something about the design (or, for clarification, asks about the problem)."""
    if is_attempt(quote):
        return False
    parts = sentences(quote) or []
    if clarification and any(is_question(s.text) and not asks_about_the_interviewer(s.text) for s in parts):
        return True
    return any(is_substantive(s.text) and not is_question(s.text) for s in parts)


def set_aside_off_stage(
    dimensions: list[DimensionScore], rubric: Rubric, transcript: Transcript, reader: Grader
) -> list[str]:
    """Drop (in place) evidence that plainly works on another stage than its dimension judges, as the
    offline grader reads stages; :func:`hold_to_evidence` then lowers a score left without evidence."""
    quoted = [
        (stage, dimension, evidence)
        for dimension in dimensions
        if (stage := rubric.dimension(dimension.id).stage) is not None
        for evidence in dimension.evidence
    ]
    verdicts = reader.off_stage(transcript, [(stage, evidence) for stage, _, evidence in quoted])
    moved = [(dimension, evidence) for (_, dimension, evidence), off in zip(quoted, verdicts, strict=True) if off]
    for dimension, evidence in moved:
        dimension.evidence.remove(evidence)
    if not moved:
        return []
    where = sorted({dimension.id for dimension, _ in moved})
    return [
        f"{len(moved)} quote(s) were about another stage than the one they were given for and were set aside "
        f"({', '.join(where)})."
    ]


def hold_to_evidence(dimensions: list[DimensionScore], rubric: Rubric, transcript: Transcript) -> list[str]:
    """Keep only evidence that is design content from a credited turn (in place); a dimension scored above
    :data:`UNEVIDENCED_CAP` with none left comes down to it. Returns notes saying what was done."""
    flagged = set(transcript.flagged)
    said = {turn.seq: turn.text for turn in transcript.credited_turns()}
    written = {turn.seq: turn.text for turn in transcript.candidate_turns()}
    removed, capped = 0, []
    for dimension in dimensions:
        clarification = dimension.id == "clarification" or rubric.dimension(dimension.id).stage == "clarification"
        kept = [
            e
            for e in dimension.evidence
            if e.quote not in written.get(e.turn, "")  # never said: finalize() drops and counts it as such
            or (e.turn not in flagged and _design_content(e.quote, clarification))
        ]
        removed += len(dimension.evidence) - len(kept)
        dimension.evidence = kept  # a quote that is not verbatim stays for finalize() to drop and count
        if not any(e.quote in said.get(e.turn, "") for e in kept) and dimension.score > UNEVIDENCED_CAP:
            capped.append(f"{dimension.id} {dimension.score} → {UNEVIDENCED_CAP}")
            dimension.score = UNEVIDENCED_CAP
    notes = []
    if removed:
        notes.append(
            f"{removed} quote(s) were not design content from a credited turn (a note to the grader, a question "
            "about the interviewer, a flagged turn) and were dropped."
        )
    if capped:
        notes.append("Scores without evidence were lowered: " + ", ".join(capped) + ".")
    return notes


def flag_disagreement(card: Scorecard, offline: Scorecard) -> Scorecard:
    """Flag (and note) a grading whose scores disagree wildly with the offline grader's reading."""
    apart = [
        f"{mine.id} {mine.score} against {theirs.score}"
        for mine, theirs in zip(card.dimensions, offline.dimensions, strict=True)
        if abs(mine.score - theirs.score) >= DISAGREE_DIMENSION
    ]
    if abs(card.overall - offline.overall) < DISAGREE_OVERALL and len(apart) < 2:
        return card
    card.disagreement = (
        f"These scores disagree with the offline grader's reading of the same transcript (overall "
        f"{card.overall:.2f} against {offline.overall:.2f}" + (f"; {', '.join(apart)}" if apart else "") + "): "
        "read this grading with care, or grade again."
    )
    card.notes.append(card.disagreement)
    return card
