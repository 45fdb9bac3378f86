"""The commented template that ``interviewer personas new ID`` writes. It validates as written."""

from __future__ import annotations

import re
from pathlib import Path

from interviewer.errors import EXIT_INVALID, InterviewerError

PERSONA_TEMPLATE = '''\
# A new interviewer persona. Edit anything below, then check it with:
#     interviewer personas validate {path}
# It is used as soon as it validates: pick it with --persona {id}.
# A file here whose id matches a built-in persona replaces the built-in one.

id = "{id}"                    # lower-case letters, digits, - and _; used with --persona
name = "Alex"                  # the interviewer's name in the chat
role = "Staff ML engineer at a mid-size product company"
description = "Calm and thorough; follows the candidate's lead, asks for specifics."

# How this interviewer behaves. With an LLM backend this becomes the persona part of the
# system prompt; the rules and the hidden facts are added by the engine.
style = """
You are Alex, a staff ML engineer. You are calm and thorough. You let the candidate lead, and
when an answer is vague you ask for the specific mechanism, number or trade-off.
Keep replies to two or three sentences.
"""

strictness = 0.5               # 0 lenient .. 1 exacting; stricter steers to skipped stages earlier
probe_depth = 2                # 1 mentioned, 2 discussed, 3 deep: probe stages until they reach this
what_if_rate = 0.4             # 0 never .. 1 whenever one fits: how often constraints change
max_probes_per_stage = 2       # never probe one stage more often than this
presses_on = []                # any of "figures", "trade_offs", "cost", "shipping": what this
                               # interviewer keeps pushing on (once per stage, never two turns running)
hints = false                  # true: a stuck candidate gets a hint (the stage's agenda, then a question)
# model = "gpt-4.1-mini"       # optional: a model for this persona's LLM voice
# temperature = 0.7            # optional

[lines]
# {{name}}, {{title}}, {{prompt}} (the public problem statement) and {{minutes}} may be used here.
opening = """
Hi, I'm {{name}}. We have {{minutes}} minutes. The problem: {{prompt}}
Ask me anything you need, then take it from there.
"""
closing = "That's time. Thanks for walking me through it."
# closing_early = "Let's stop here, then. Thanks for walking me through it."  # optional: ended with time to spare
deflection = "I can't share that. Ask me about the problem itself, or carry on with your design."

[templates]
# Each is a list of variants; one is picked per turn. The offline engine wraps these around
# the texts that the problem's author wrote.
answer = ["Good question. {{answer}}", "{{answer}}"]              # must contain {{answer}}
repeat = ["As I said, {{answer}}"]                               # must contain {{answer}}
unspecified = ["That's open. Make a reasonable assumption and state it."]
probe = ["Let's go deeper on {{stage}}. {{probe}}"]                # must contain {{probe}}
what_if = ["Let me change something. {{what_if}}"]               # must contain {{what_if}}
redirect = ["We haven't covered {{stage}} yet. {{question}}"]     # must contain {{question}}
wrap_up = ["About {{minutes_left}} minutes left. Summarise your design and the main risk."]
acknowledge = ["Okay. Go on.", "Makes sense. What's next?"]
# Optional, with sensible defaults: clarify ({{options}}), refocus ({{title}}, {{prompt}}),
# follow_up_figure / follow_up_choice / follow_up_trade_off ({{point}}), what_if_again ({{what_if}}),
# deflect_again, hint ({{hint}}, {{stage}}), press_figures ({{stage}}), press_trade_offs / press_cost /
# press_shipping ({{point}}).
'''


def persona_template(persona_id: str, path: str) -> str:
    return PERSONA_TEMPLATE.format(id=persona_id, path=path)


class TemplateError(InterviewerError):
    def __init__(self, message: str, *, bad_id: bool = False):
        super().__init__(message)
        self.bad_id = bad_id
        if bad_id:
            self.exit_code = EXIT_INVALID


def write_persona_template(persona_id: str, folder: Path, *, force: bool = False) -> Path:
    """Write ``<folder>/<id>.toml`` from the template; it validates as written."""
    from interviewer.content.loader import load_file
    from interviewer.content.models import ID_PATTERN, Persona

    if not re.fullmatch(ID_PATTERN, persona_id):
        raise TemplateError(
            f"'{persona_id}' is not a valid id: use lower-case letters, digits, - and _ (at most 64)", bad_id=True
        )
    target = folder / f"{persona_id}.toml"
    if target.exists() and not force:
        raise TemplateError(f"{target} already exists; use --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(persona_template(persona_id, str(target)), encoding="utf-8")
    load_file(target, Persona)
    return target
