"""The analyst as an LLM: a structured-output reading of each turn, run alongside the reply."""

from __future__ import annotations

from pydantic import ValidationError

from interviewer.content.models import Problem
from interviewer.engine.analyst import Analysis, Analyst, Question
from interviewer.engine.state import InterviewState
from interviewer.llm import prompts
from interviewer.llm.client import Connection, LLMError, complete_json, strict_schema

ANALYST_SCHEMA = strict_schema(prompts.AnalystOutput)
"""The analyst's answer schema: one model, so one schema, built at import."""

MAX_FACTS_PER_QUESTION = 2
"""A question the analyst maps to more facts than this is a fishing expedition: it answers none."""


class LLMAnalyst(Analyst):
    """A structured-output reading of the turn; runs concurrently with the reply.

    It reads text the candidate controls, so a message can talk it into claiming that every hidden
    fact was asked for. Its word only counts where it is plausible: a question it maps to more than two
    facts maps to none, a reading that calls the message an injection confirms nothing, and the session
    takes a fact from it only when the fast reading found the question near that fact
    (``Question.near``).
    """

    def __init__(self, connection: Connection, problem: Problem):
        self.connection = connection
        self.problem = problem
        self._fact_ids = {fact.id for fact in problem.facts}
        self._system = prompts.analyst_system(problem)

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        settings = self.connection.settings
        data, _ = await complete_json(
            self.connection.client,
            settings,
            model=settings.effective_analyst_model,
            messages=prompts.analyst_messages(self._system, text),
            schema_name="turn_analysis",
            schema=ANALYST_SCHEMA,
            temperature=0.0,
            max_tokens=600,
            seconds=settings.analyst_timeout,
        )
        try:
            output = prompts.AnalystOutput.model_validate(data)
        except ValidationError as exc:
            raise LLMError(
                f"the analyst's answer does not fit its schema: {exc.errors()[0]['msg']}", kind="invalid"
            ) from None
        analysis = Analysis(source="llm")
        for q in output.questions:
            # Counted as claimed: a claim of every fact, cut down to the known ones, is still a claim of every fact.
            claimed = tuple(dict.fromkeys(q.fact_ids))
            facts = tuple(f for f in claimed if f in self._fact_ids)
            fishing = output.injection or len(claimed) > MAX_FACTS_PER_QUESTION
            analysis.questions.append(Question(q.text, () if fishing else facts))
        analysis.depths = {s.stage: max(0, min(3, s.depth)) for s in output.stages}
        analysis.end_requested = output.end_requested
        analysis.injection = output.injection
        return analysis
