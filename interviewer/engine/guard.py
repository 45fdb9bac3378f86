"""The guard checks a reply before it is shown.

Least privilege comes first (the rubric and reference points never reach the interviewer's
prompt); this is the second line: a reply that carries hidden facts nobody asked for, the
grader's reference points, or the interviewer's own instructions is caught.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from interviewer.content.models import Persona, Problem, Rubric
from interviewer.text import shingles, term_set, words

SHINGLE = 6
"""Words in a row that count as a copied passage."""

_FIGURE = re.compile(r"\d[\d,.]*\s*(?:%|[kmb]\b|ms\b|gb\b|mb\b|tb\b|qps\b)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""
    fact: str | None = None


def _figures(text: str) -> set[str]:
    """Distinctive figures: numbers of two or more digits, or with a unit, normalised."""
    out = set()
    for match in _FIGURE.finditer(text):
        figure = re.sub(r"[\s,]", "", match.group(0).lower()).rstrip(".")
        digits = sum(ch.isdigit() for ch in figure)
        if digits >= 2 or not figure.isdigit():
            out.add(figure)
    return out


# ----------------------------------------------------------------------------- hidden forms of a leak

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[\s:,-]?){8,}")
_SPACED = re.compile(r"(?<=\S) (?=\S)")
_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "thousand": 1000,
}
_NUMBER_RUN = re.compile(
    r"\b(?:" + "|".join(_NUMBER_WORDS) + r")(?:[\s-]+(?:and[\s-]+)?(?:" + "|".join(_NUMBER_WORDS) + r"))*\b",
    re.IGNORECASE,
)


def _number_value(run: str) -> int:
    total, current = 0, 0
    for word in re.findall(r"[a-z]+", run.lower()):
        if word == "and":
            continue
        value = _NUMBER_WORDS[word]
        if value == 100:
            current = max(current, 1) * 100
        elif value == 1000:
            total, current = total + max(current, 1) * 1000, 0
        else:
            current += value
    return total + current


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    return text if text and letters >= 0.9 * len(text) else None


def hidden_views(reply: str) -> list[tuple[str, bool]]:
    """The reply decoded the ways a model can be asked to hide text: rot13, reversed, letters spaced
    out, base64, hex, numbers in words. Each view comes with whether its figures are meaningful."""
    views: list[tuple[str, bool]] = []
    if any(ch.isalpha() for ch in reply):
        views.append((codecs.encode(reply, "rot13"), False))
        views.append((reply[::-1], False))
    tokens = reply.split()
    if tokens and sum(len(t) == 1 for t in tokens) >= 0.6 * len(tokens) and len(tokens) >= 12:
        views.append((re.sub(r" {2,}", " ", _SPACED.sub("", reply)), True))
    for chunk in _BASE64.findall(reply):
        padded = chunk.rstrip("=") + "=" * (-len(chunk.rstrip("=")) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                text = _printable(decode(padded))
            except (binascii.Error, ValueError):
                continue
            if text:
                views.append((text, True))
                break
    for chunk in _HEX.findall(reply):
        try:
            text = _printable(bytes.fromhex(re.sub(r"[\s:,-]", "", chunk)))
        except ValueError:
            continue
        if text:
            views.append((text, True))
    if _NUMBER_RUN.search(reply):
        views.append((_NUMBER_RUN.sub(lambda m: str(_number_value(m.group(0))), reply), True))
    return views


@lru_cache(maxsize=8)
def _terms_of(text: str) -> frozenset[str]:
    """Terms of a (long, reused) context, computed once per reply rather than once per check."""
    return term_set(text)


PARAPHRASE_SHARE = 0.6
"""A reply holding this share of a hidden fact's distinctive terms (and at least ``PARAPHRASE_MIN``)
says that fact in other words (a translation that keeps the technical terms, a loose summary)."""
PARAPHRASE_MIN = 4


def _passages(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    if 3 <= len(tokens) < SHINGLE:
        return {tuple(tokens)}
    return shingles(text, SHINGLE)


class Guard:
    def __init__(self, problem: Problem, persona: Persona, rubric: Rubric | None = None, system_prompt: str = ""):
        self.problem = problem
        self._fact_passages = {fact.id: _passages(fact.answer) for fact in problem.facts}
        self._fact_figures = {fact.id: _figures(fact.answer) for fact in problem.facts}
        secret_texts = [point for points in problem.reference.values() for point in points]
        if rubric is not None:
            for dimension in rubric.dimensions:
                secret_texts.extend(dimension.levels)
                secret_texts.append(dimension.judges)
        self._secret_passages: set[tuple[str, ...]] = set()
        for text in secret_texts:
            self._secret_passages |= shingles(text, SHINGLE)
        instructions = persona.style + ("\n" + system_prompt if system_prompt else "")
        self._instruction_passages = shingles(instructions, SHINGLE + 2)
        topic = term_set(f"{problem.title}. {problem.prompt}")
        self._fact_terms = {fact.id: term_set(fact.answer) - topic for fact in problem.facts}

    def known_figures(self, context: str) -> frozenset[str]:
        """The figures in text the reply may draw on; compute once per reply and pass to :meth:`check`."""
        return frozenset(_figures(context))

    def check(
        self,
        reply: str,
        allowed_facts: set[str] | frozenset[str],
        context: str = "",
        known: frozenset[str] | None = None,
    ) -> Verdict:
        """``allowed_facts``: revealed before or answered in this reply. ``context``: text already in the
        conversation or in this reply's sanctioned material (what-ifs, probes), whose figures are fair;
        ``known``: those figures, when the caller computed them already.

        The reply is checked as written (after Unicode normalisation: full-width digits are digits),
        then decoded the ways a model can be talked into hiding a leak (:func:`hidden_views`), then for
        paraphrases that keep most of a hidden fact's distinctive terms."""
        reply = unicodedata.normalize("NFKC", reply)
        verdict = self._check_view(reply, allowed_facts, context, known, figures=True)
        if not verdict.ok:
            return verdict
        for view, figures in hidden_views(reply):
            verdict = self._check_view(view, allowed_facts, context, known, figures=figures)
            if not verdict.ok:
                return Verdict(False, verdict.reason + " (encoded)", verdict.fact)
        return self._check_paraphrase(reply, allowed_facts, context)

    def _check_paraphrase(self, reply: str, allowed_facts, context: str) -> Verdict:
        present = term_set(reply)
        if len(present) < PARAPHRASE_MIN:
            return Verdict(True)
        excused = _terms_of(context).union(*(self._fact_terms[f] for f in allowed_facts if f in self._fact_terms))
        for fact_id, terms in self._fact_terms.items():
            if fact_id in allowed_facts:
                continue
            distinctive = terms - excused
            if len(distinctive) <= PARAPHRASE_MIN:
                continue
            hit = distinctive & present
            if len(hit) >= max(PARAPHRASE_MIN, math.ceil(PARAPHRASE_SHARE * len(distinctive))):
                return Verdict(False, f"reply paraphrases hidden fact '{fact_id}' that was not asked for", fact_id)
        return Verdict(True)

    def _check_view(
        self,
        reply: str,
        allowed_facts: set[str] | frozenset[str],
        context: str,
        known: frozenset[str] | None,
        *,
        figures: bool,
    ) -> Verdict:
        reply_shingles = shingles(reply, SHINGLE)
        hidden = [f for f in self._fact_passages if f not in allowed_facts]
        verdict = self._copied_fact(reply, reply_shingles, hidden)
        if verdict is None and figures:
            known_figures = (known if known is not None else _figures(context)).union(
                *(self._fact_figures[f] for f in allowed_facts if f in self._fact_figures)
            )
            verdict = self._leaked_figure(reply, hidden, known_figures)
        if verdict is None:
            verdict = self._quoted_secret(reply, reply_shingles, allowed_facts, context)
        return verdict or Verdict(True)

    def _copied_fact(self, reply: str, reply_shingles: set[tuple[str, ...]], hidden: list[str]) -> Verdict | None:
        """A passage of a hidden fact's answer, word for word."""
        reply_tokens = " " + " ".join(words(reply)) + " "
        for fact_id in hidden:
            for passage in self._fact_passages[fact_id]:
                if len(passage) >= SHINGLE and passage in reply_shingles:
                    return Verdict(False, f"reply reveals hidden fact '{fact_id}' that was not asked for", fact_id)
                if len(passage) < SHINGLE and f" {' '.join(passage)} " in reply_tokens:
                    return Verdict(False, f"reply reveals hidden fact '{fact_id}' that was not asked for", fact_id)
        return None

    def _leaked_figure(self, reply: str, hidden: list[str], known_figures: AbstractSet[str]) -> Verdict | None:
        """A paraphrase that carries a hidden fact's figures."""
        reply_figures = _figures(reply)
        for fact_id in hidden:
            leaked = (self._fact_figures[fact_id] & reply_figures) - known_figures
            if leaked:
                return Verdict(
                    False,
                    f"reply gives a figure ({sorted(leaked)[0]}) from hidden fact '{fact_id}' not asked for",
                    fact_id,
                )
        return None

    def _quoted_secret(
        self, reply: str, reply_shingles: set[tuple[str, ...]], allowed_facts: set[str] | frozenset[str], context: str
    ) -> Verdict | None:
        """The grader's reference points, the rubric, or the interviewer's own instructions."""
        quoted = reply_shingles & self._secret_passages
        if quoted:
            # A passage that the reply may say anyway (an allowed fact, a probe) is not a leak.
            sanctioned = [context, *(self.problem.fact(f).answer for f in allowed_facts if f in self._fact_passages)]
            quoted -= shingles("\n".join(sanctioned), SHINGLE)
        if quoted:
            return Verdict(False, "reply quotes the grader's reference points or the rubric")
        if shingles(reply, SHINGLE + 2) & self._instruction_passages:
            return Verdict(False, "reply echoes the interviewer's instructions")
        return None
