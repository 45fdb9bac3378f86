"""Pydantic models of the three content kinds: persona, problem (the hidden spec), rubric.

All are strict (``extra="forbid"``) so that a typo in a file is an error, not a silently
ignored key.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from interviewer.stages import DIMENSION_IDS, STAGE_IDS, DimensionId, StageId

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ContentId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""Lower-case letters, digits, ``-`` and ``_``; used in file names and on the command line."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A problem's title; stored in a column of this size."""
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
"""A short label (a recommendation); stored in a column of this size."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _placeholders(template: str) -> set[str]:
    """The fields ``template`` uses; a conversion (``{name!r}``) or a format spec (``{minutes:d}``,
    ``{name:>300000000}``) is an error: :func:`fill_template` would not apply it."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # unbalanced braces
        raise ValueError(f"bad template {template!r}: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is not None and (spec or conversion):
            written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"placeholder {written} in {template!r} has a conversion or format; write {{{name}}}")
    return {name for _, name, _, _ in parts if name is not None}


def fill_template(template: str, **values: object) -> str:
    """``template`` with each ``{field}`` replaced by ``str(values[field])``: the one way the engine fills
    a content template.

    Unlike ``str.format`` it applies no conversion, format spec, attribute or index, so no template can
    reach into an object or ask for a 300-million-character padding. A placeholder it cannot fill that
    way (one a stored interview kept from before validation rejected it) stays as written.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is None:
            continue
        if spec or conversion or name not in values:
            out.append("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
        else:
            out.append(str(values[name]))
    return "".join(out)


def _literal_text(template: str) -> str:
    """A (validated) template with every placeholder blanked."""
    return " ".join(literal for literal, _, _, _ in string.Formatter().parse(template))


def _check_templates(templates: list[str], allowed: set[str], required: set[str]) -> list[str]:
    for template in templates:
        names = _placeholders(template)
        unknown = names - allowed
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}} in {template!r}; "
                f"allowed: {', '.join('{' + n + '}' for n in sorted(allowed)) or 'none'}"
            )
        missing = required - names
        if missing:
            raise ValueError(f"template {template!r} must contain {{{sorted(missing)[0]}}}")
    return templates


# ----------------------------------------------------------------------------- persona

PERSONA_LINE_FIELDS = {"name", "title", "prompt", "minutes"}


class PersonaLines(StrictModel):
    opening: Text
    """First message. May use {name}, {title}, {prompt} (the public prompt) and {minutes}."""
    closing: Text
    """Last message when the interview ends at its time (or turn) limit."""
    closing_early: Text = "Let's stop here, then. Thank you for walking me through your design."
    """Last message when the interview ends with time to spare (the candidate ended it, or summed up early)."""
    deflection: Text
    """Said instead of anything that would reveal the hidden spec or the instructions."""

    @field_validator("opening", "closing", "closing_early", "deflection")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        _check_templates([value], PERSONA_LINE_FIELDS, set())
        return value


TemplateList = Annotated[list[Line], Field(min_length=1, max_length=20)]

PressTopic = Literal["figures", "trade_offs", "cost", "shipping"]

TEMPLATE_RULES: dict[str, tuple[set[str], set[str]]] = {
    # field: (allowed placeholders, required placeholders)
    "answer": ({"answer"}, {"answer"}),
    "repeat": ({"answer"}, {"answer"}),
    "unspecified": (set(), set()),
    "probe": ({"probe", "stage"}, {"probe"}),
    "what_if": ({"what_if"}, {"what_if"}),
    "what_if_again": ({"what_if"}, {"what_if"}),
    "redirect": ({"stage", "question"}, {"question"}),
    "wrap_up": ({"minutes_left"}, set()),
    "acknowledge": ({"stage"}, set()),
    "clarify": ({"options"}, {"options"}),
    "deflect_again": (set(), set()),
    "hint": ({"stage", "hint"}, {"hint"}),
    "press_figures": ({"stage"}, set()),
    "press_trade_offs": ({"point"}, {"point"}),
    "press_cost": ({"point"}, {"point"}),
    "press_shipping": ({"point"}, {"point"}),
    "refocus": ({"title", "prompt"}, {"title"}),
    "follow_up_figure": ({"point"}, {"point"}),
    "follow_up_choice": ({"point"}, {"point"}),
    "follow_up_trade_off": ({"point"}, {"point"}),
}


class PersonaTemplates(StrictModel):
    """Phrases the offline voice wraps around the problem author's texts.

    Each is a list of variants; the engine picks one deterministically per turn.
    """

    answer: TemplateList
    """Answering a clarifying question; must contain {answer}."""
    repeat: TemplateList
    """Answering a question that was already answered; must contain {answer}."""
    unspecified: TemplateList
    """When the spec leaves the asked detail to the candidate."""
    probe: TemplateList
    """Digging into a thinly covered stage; must contain {probe}; may use {stage}."""
    what_if: TemplateList
    """Changing a constraint; must contain {what_if}."""
    redirect: TemplateList
    """Steering to a skipped stage; must contain {question}; may use {stage}."""
    wrap_up: TemplateList
    """Asking for a summary near the end; may use {minutes_left}."""
    acknowledge: TemplateList
    """Letting the candidate continue; may use {stage}."""
    what_if_again: TemplateList = [
        "Before we go further, I'd like your answer to the change I raised: {what_if}",
        "Let's not skip past this one. {what_if}",
        "Coming back to the scenario I gave you: {what_if}",
    ]
    """Putting a what-if again when the candidate went on without taking it up; must contain {what_if}."""
    deflect_again: TemplateList = [
        "That stays with me, I'm afraid. Let's get back to your design.",
        "Still not something I can share. Where were you in the design?",
    ]
    """Said instead of the deflection line once that has been said: the same refusal, other words."""
    hint: TemplateList = [
        "No problem, there's a lot to hold at once. For {stage}, it can help to think about {hint}.",
        "That's fine, take a moment. One way in, for {stage}: think about {hint}.",
    ]
    """A hint for a stuck candidate (personas with ``hints``); must contain {hint}, the stage's agenda."""
    press_figures: TemplateList = [
        "Put some numbers on that. How much, how fast, how many, for this system?",
        "Can you size that for me? Rough numbers for {stage} are fine.",
    ]
    """Asking for numbers where the candidate gave none (personas pressing on figures); may use {stage}."""
    press_trade_offs: TemplateList = [
        "What did you weigh {point} against, and what does it cost you?",
        "What's the strongest alternative to {point}, and why not that?",
    ]
    """Asking what a choice was weighed against (personas pressing on trade-offs); must contain {point}."""
    press_cost: TemplateList = [
        "What does {point} cost to build and run, roughly? Is there a cheaper version?",
        "Ballpark, what would {point} cost us a month, and what would the cheap version lose?",
    ]
    """Asking what a choice costs (personas pressing on cost); must contain {point}."""
    press_shipping: TemplateList = [
        "How soon could a small team ship {point}, and what would you cut from the first version?",
        "What's the version of {point} we could ship in a month?",
    ]
    """Asking how soon a choice ships (personas pressing on shipping); must contain {point}."""
    clarify: TemplateList = [
        "Just so I answer the right thing: do you mean {options}?",
        "I'm not sure which part you're after. Is it {options}?",
    ]
    """Asking which of a few things an unclear question means; must contain {options}."""
    refocus: TemplateList = [
        "Let's bring this back to the problem we're solving: {title}. {prompt} How would that apply here?",
        "I think we've drifted from our problem, {title}. How does this fit it?",
    ]
    """Bringing back a candidate who designs some other system; must contain {title}; may use {prompt}."""
    follow_up_figure: TemplateList = [
        "You said {point}. Where does that number come from, and what breaks if it's off by a lot?",
        "Why {point}? What sets that number for this system?",
        "How confident are you in {point}, and what in your design depends on it?",
    ]
    """Asking about a figure the candidate gave, in their words; must contain {point}."""
    follow_up_choice: TemplateList = [
        "Why {point}? What did you weigh it against?",
        "What makes {point} the right call here, and what would make you drop it?",
        "Say more about {point}: what's the main risk with it here?",
    ]
    """Asking about a choice the candidate made; must contain {point}."""
    follow_up_trade_off: TemplateList = [
        "You weighed {point}. Which way do you lean for this problem, and what would change your mind?",
        "On {point}: what does each side cost us here?",
    ]
    """Asking about a trade-off the candidate named; must contain {point}."""

    @model_validator(mode="after")
    def _placeholders_match(self) -> PersonaTemplates:
        for field, (allowed, required) in TEMPLATE_RULES.items():
            _check_templates(getattr(self, field), allowed, required)
        return self


class Persona(StrictModel):
    id: ContentId
    name: Line
    """The interviewer's name as shown in the chat."""
    role: Line
    """One line: who they are, e.g. "Staff ML engineer at a large consumer company"."""
    description: Line
    """One line for the persona picker."""
    style: Text
    """How this interviewer behaves; the persona part of the LLM system prompt."""
    strictness: float = Field(ge=0.0, le=1.0)
    """0 lenient .. 1 exacting. Higher means earlier steering to skipped stages."""
    probe_depth: int = Field(ge=1, le=3)
    """Coverage depth (1 mentioned, 2 discussed, 3 deep) a stage must reach before probing stops."""
    what_if_rate: float = Field(ge=0.0, le=1.0)
    """Share of eligible turns that get a what-if (0 never, 1 whenever one fits)."""
    max_probes_per_stage: int = Field(default=2, ge=0, le=5)
    """How many times one stage may be probed."""
    presses_on: Annotated[list[PressTopic], Field(max_length=4)] = []
    """What this interviewer keeps pushing on, most important first. "figures": a turn that puts no number
    on its stage is asked for one; "trade_offs": a choice is asked what it was weighed against; "cost": what
    a choice costs to build and run; "shipping": how soon a small team could ship it."""
    hints: bool = False
    """When the candidate says they are stuck, give a hint (the stage's agenda, then the problem's question
    for that stage) rather than moving on."""
    model: Line | None = None
    """Optional model override for the LLM voice."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Optional temperature override for the LLM voice."""
    lines: PersonaLines
    templates: PersonaTemplates

    def wording(self) -> list[str]:
        """The persona's lines and templates with their placeholders blanked: its own words, no secret."""
        texts = [self.lines.opening, self.lines.closing, self.lines.closing_early, self.lines.deflection]
        texts += [text for field in TEMPLATE_RULES for text in getattr(self.templates, field)]
        return [_literal_text(text) for text in texts]


# ----------------------------------------------------------------------------- problem


class Fact(StrictModel):
    id: ContentId
    stage: StageId
    """The stage this fact informs."""
    cues: Annotated[list[Line], Field(min_length=1, max_length=40)]
    """Words or short phrases a candidate would use to ask for this fact."""
    answer: Text
    """What the interviewer says when asked."""
    asks: Annotated[list[Line], Field(max_length=80)] = []
    """Questions a candidate might ask, in their own words, that this fact answers exactly: the semantic
    analyst matches a question to the fact whose asks (and answer) it means most nearly."""


class WhatIf(StrictModel):
    id: ContentId
    after: StageId
    """The what-if fits once this stage has been discussed."""
    text: Text


class Problem(StrictModel):
    id: ContentId
    title: Title
    prompt: Text
    """The public prompt, the only part of the spec the candidate sees at the start."""
    tags: Annotated[list[ContentId], Field(max_length=20)] = []
    difficulty: Literal["easy", "medium", "hard"]
    facts: Annotated[list[Fact], Field(min_length=1, max_length=100)]
    what_ifs: Annotated[list[WhatIf], Field(max_length=40)] = []
    probes: dict[StageId, Annotated[list[Text], Field(max_length=20)]] = {}
    """Follow-up questions per stage, asked when that stage is covered thinly or skipped."""
    reference: dict[DimensionId, Annotated[list[Text], Field(max_length=40)]] = {}
    """What a strong answer covers, per rubric dimension. Grader only: never in the interviewer's prompt."""
    open: Annotated[list[Line], Field(max_length=80)] = []
    """Questions a candidate might ask that no fact answers (team size, the exact stack): they teach the
    analyst what the spec leaves open, so it says so instead of stretching a fact to fit."""

    @model_validator(mode="after")
    def _unique_ids(self) -> Problem:
        for label, items in (("facts", self.facts), ("what_ifs", self.what_ifs)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"duplicate id {item.id!r} in {label}")
                seen.add(item.id)
        return self

    def fact(self, fact_id: str) -> Fact:
        for fact in self.facts:
            if fact.id == fact_id:
                return fact
        raise KeyError(fact_id)

    def what_if(self, what_if_id: str) -> WhatIf:
        for item in self.what_ifs:
            if item.id == what_if_id:
                return item
        raise KeyError(what_if_id)

    def probes_for(self, stage: str) -> list[str]:
        """The probes for a stage, by its id as the engine carries it (a plain string)."""
        return cast("dict[str, list[str]]", self.probes).get(stage, [])

    def reference_for(self, dimension: str) -> list[str]:
        """The grader's reference points for a rubric dimension."""
        return cast("dict[str, list[str]]", self.reference).get(dimension, [])


# ----------------------------------------------------------------------------- rubric


class Dimension(StrictModel):
    id: DimensionId
    name: Line
    stage: StageId | None = None
    """The stage this dimension judges; none for dimensions judged across the interview."""
    weight: float = Field(gt=0.0, le=100.0)
    judges: Text
    """What the dimension judges, in a sentence or two."""
    levels: Annotated[list[Text], Field(min_length=4, max_length=4)]
    """Descriptors for scores 1, 2, 3 and 4, in that order."""
    signals: Annotated[list[Line], Field(min_length=1, max_length=200)]
    """Words and phrases that show the candidate is working on this dimension."""


class Threshold(StrictModel):
    recommendation: Label
    min_overall: float = Field(ge=1.0, le=4.0)
    min_dimension: int = Field(default=1, ge=1, le=4)
    """Every dimension must score at least this for the recommendation to apply."""


class Rubric(StrictModel):
    id: ContentId
    name: Line
    level: Line
    """The bar this rubric grades against, e.g. "mid-level", "junior", "senior/staff"."""
    description: Text
    expectation: float = Field(default=1.0, ge=0.5, le=2.0)
    """How much evidence each level needs in the offline grader: above 1 for a higher bar, below for a lower."""
    dimensions: Annotated[list[Dimension], Field(min_length=1)]
    thresholds: Annotated[list[Threshold], Field(min_length=1)]
    """Tried from the highest bar down; the first one met gives the recommendation."""

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [d.id for d in self.dimensions]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate dimension id in dimensions")
        bars = [t.min_overall for t in self.thresholds]
        if bars != sorted(bars, reverse=True):
            raise ValueError("thresholds must be ordered from the highest min_overall down")
        if self.thresholds[-1].min_overall != 1.0 or self.thresholds[-1].min_dimension != 1:
            raise ValueError("the last threshold must be a catch-all (min_overall = 1, min_dimension = 1)")
        return self

    @property
    def label(self) -> str:
        """The name with the level, unless the name already says it ("ML system design (mid-level)")."""
        return self.name if self.level.lower() in self.name.lower() else f"{self.name} ({self.level})"

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    def overall(self, scores: dict[str, int]) -> float:
        """Weighted mean of the dimension scores, rounded to two decimals."""
        total = sum(d.weight for d in self.dimensions)
        value = sum(d.weight * scores[d.id] for d in self.dimensions) / total
        return round(value, 2)

    def recommend(self, overall: float, scores: dict[str, int]) -> str:
        lowest = min(scores[d.id] for d in self.dimensions)
        for threshold in self.thresholds:
            if overall >= threshold.min_overall and lowest >= threshold.min_dimension:
                return threshold.recommendation
        return self.thresholds[-1].recommendation

    def explain(self, overall: float, scores: dict[str, int]) -> str:
        """Why ``recommend`` reads as it does: the bar met, and what the next one up (or a higher one the
        overall alone would reach) needs, naming the dimensions that hold it back."""
        chosen = next(
            (
                i
                for i, t in enumerate(self.thresholds)
                if overall >= t.min_overall and _lowest(self, scores) >= t.min_dimension
            ),
            len(self.thresholds) - 1,
        )
        met = self.thresholds[chosen]
        if chosen == len(self.thresholds) - 1:
            text = f"{met.recommendation.capitalize()}: the overall {overall:.2f} meets no higher bar."
        else:
            text = f"{met.recommendation.capitalize()}: the overall {overall:.2f} reaches {met.min_overall:g}"
            text += f" and every dimension is at {met.min_dimension} or more." if met.min_dimension > 1 else "."
        above = self.thresholds[:chosen]
        # A higher bar the overall reaches is held back only by the per-dimension minimum: say which dimensions.
        blocked = next((t for t in above if overall >= t.min_overall), None)
        if blocked is not None:
            low = [d for d in self.dimensions if scores[d.id] < blocked.min_dimension]
            names = ", ".join(f"{d.name} scored {scores[d.id]}" for d in low)
            text += (
                f" The overall alone would make it {blocked.recommendation}, but {blocked.recommendation} needs "
                f"every dimension at {blocked.min_dimension} or more: {names}."
            )
        elif above:
            nearer = above[-1]
            text += f" {nearer.recommendation.capitalize()} needs an overall of {nearer.min_overall:g}"
            text += f" and every dimension at {nearer.min_dimension} or more." if nearer.min_dimension > 1 else "."
        return text


def _lowest(rubric: Rubric, scores: dict[str, int]) -> int:
    return min(scores[d.id] for d in rubric.dimensions)


KINDS: dict[str, type[StrictModel]] = {"personas": Persona, "problems": Problem, "rubrics": Rubric}
"""Content kinds by folder name."""

__all__ = [
    "DIMENSION_IDS",
    "KINDS",
    "STAGE_IDS",
    "Dimension",
    "Fact",
    "Persona",
    "PersonaLines",
    "PersonaTemplates",
    "Problem",
    "Rubric",
    "Threshold",
    "WhatIf",
]
