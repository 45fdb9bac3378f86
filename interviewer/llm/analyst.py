"""The analyst as an LLM: a structured-output reading of each turn, run alongside the reply."""

from __future__ import annotations

from pydantic import ValidationError

from interviewer.content.models import Problem
from interviewer.engine.analyst import Analysis, Analyst, Question
from interviewer.engine.state import InterviewState
from interviewer.llm import prompts
from interviewer.llm.client import Connection, LLMError, complete_json, strict_schema
from interviewer.text import sentences, term_set
from interviewer.understanding.lexicon import Lexicon

MAX_FACTS_PER_QUESTION = 2
"""A question the analyst maps to more facts than this is a fishing expedition: it answers none."""


class LLMAnalyst(Analyst):
    """A structured-output reading of the turn; runs concurrently with the reply.

    It reads text the candidate controls, so a message can talk it into claiming that every hidden
    fact was asked for. Its word only counts where it is plausible: a fact it maps must share a cue
    word with one of the message's actual questions, a question maps to at most two facts, and a
    reading that calls the message an injection confirms nothing.
    """

    def __init__(self, connection: Connection, problem: Problem, lexicon: Lexicon | None = None):
        self.connection = connection
        self.problem = problem
        self._fact_ids = {fact.id for fact in problem.facts}
        self._topic = lexicon.topic if lexicon is not None else term_set(f"{problem.title}. {problem.prompt}")
        self._cue_terms = {
            fact.id: frozenset().union(*(term_set(cue) for cue in fact.cues)) - self._topic for fact in problem.facts
        }

    def plausible_facts(self, text: str) -> set[str]:
        """Facts one of the message's questions could be asking for: it shares a cue word with them."""
        asked = [term_set(s.text) - self._topic for s in sentences(text) if s.is_question]
        return {fact for fact, terms in self._cue_terms.items() if any(terms & question for question in asked)}

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        settings = self.connection.settings
        data, _ = await complete_json(
            self.connection.client,
            settings,
            model=settings.effective_analyst_model,
            messages=prompts.analyst_messages(self.problem, text),
            schema_name="turn_analysis",
            schema=strict_schema(prompts.AnalystOutput),
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
        plausible = set() if output.injection else self.plausible_facts(text)
        for q in output.questions:
            facts = tuple(dict.fromkeys(f for f in q.fact_ids if f in self._fact_ids and f in plausible))
            analysis.questions.append(Question(q.text, facts if len(facts) <= MAX_FACTS_PER_QUESTION else ()))
        analysis.depths = {s.stage: max(0, min(3, s.depth)) for s in output.stages}
        analysis.end_requested = output.end_requested
        analysis.injection = output.injection
        return analysis
