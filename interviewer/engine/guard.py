"""The guard checks a reply before it is shown.

Least privilege comes first (the interviewer's model holds no hidden fact before the reply that
states it, and never the rubric or the reference points); this is the second line: a reply that
carries hidden facts nobody asked for, the grader's reference points, or the interviewer's own
instructions is caught, as written and in the disguises a model can be talked into (encodings,
spaced or one-per-line letters, invisible characters, look-alike letters, leetspeak, reversal,
Caesar shifts; see :mod:`interviewer.engine.unmask`).

A reply is checked as it streams, a piece at a time (:class:`Scan`): each piece together with a fixed
overlap of what passed before, so the work grows linearly with the reply.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import pairwise

from interviewer.content.models import Persona, Problem, Rubric
from interviewer.engine import unmask
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


PARAPHRASE_SHARE = 0.6
"""A reply holding this share of a hidden fact's distinctive terms (and at least ``PARAPHRASE_MIN``)
says that fact in other words (a translation that keeps the technical terms, a loose summary)."""
PARAPHRASE_MIN = 4


def _passages(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    if 3 <= len(tokens) < SHINGLE:
        return {tuple(tokens)}
    return shingles(text, SHINGLE)


FACT_WINDOW = 20
"""Letters in a row (separators and spelling aside) that count as a copied passage of a hidden fact."""
SECRET_WINDOW = 28
"""The same for the rubric, the reference points and the instructions (longer texts, longer windows)."""
CONSONANT_WINDOW = 16
"""The same for text whose vowels were masked, in consonants."""
STEP = 4
"""A reply's letter windows are looked up every ``STEP`` letters (a hidden text's at every letter), so a
copied run is caught once it is ``window + STEP - 1`` letters long."""

OVERLAP = 240
"""Characters of what already passed that are checked again with the next piece: room for any disguised
passage the checks look for to span the boundary."""


def _windows(stream: str, size: int) -> set[str]:
    return {stream[i : i + size] for i in range(len(stream) - size + 1)}


class _WindowIndex:
    """Letter windows of hidden texts, by label, for spotting them in a letter stream however spelled."""

    def __init__(self, texts: dict[str, list[str]], size: int, consonant_size: int):
        self.size, self.consonant_size = size, consonant_size
        self.streams: dict[str, str] = {}
        self.windows: dict[str, set[str]] = {}
        self.consonant_windows: dict[str, set[str]] = {}
        for label, parts in texts.items():
            stream = "|".join(unmask.letters(unmask.plain(part)) for part in parts)
            self.streams[label] = stream
            for piece in stream.split("|"):
                for window in _windows(piece, size):
                    self.windows.setdefault(window, set()).add(label)
                for window in _windows(unmask.consonants(piece), consonant_size):
                    self.consonant_windows.setdefault(window, set()).add(label)

    def hits(self, stream: str) -> list[tuple[str, set[str], bool]]:
        """(window, labels, in consonants) for each window of ``stream`` (every ``STEP`` letters) found."""
        out = []
        for index, found in ((self.windows, False), (self.consonant_windows, True)):
            text = unmask.consonants(stream) if found else stream
            size = self.consonant_size if found else self.size
            for i in range(0, len(text) - size + 1, STEP):
                labels = index.get(text[i : i + size])
                if labels:
                    out.append((text[i : i + size], labels, found))
        return out


# ----------------------------------------------------------------------------- what a streaming reply must hold back

RUN_GRAM = 8
"""Letters in a row that, found in a hidden text (in any spelling the guard undoes), make the end of a
streaming reply wait for more. Shorter fragments are common to any two English texts; so a reader sees at
most ``RUN_GRAM - 1`` letters of a hidden run before the guard has the whole run to judge."""

_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_NEGATED_STEP = str.maketrans(_ALPHABET, "a" + _ALPHABET[:0:-1])


def _steps(stream: str) -> str:
    """Each letter's distance to the next, as a letter: the same for a text and any Caesar shift of it."""
    codes = stream.encode()
    return bytes((b - a) % 26 + 97 for a, b in pairwise(codes)).decode()


_NOT_LETTER = re.compile(r"[^a-z]+")


def _cipher_letters(text: str) -> str:
    """The letters of ``text`` without reading leetspeak: a Caesar shift moves every letter alike, so its
    steps survive only when ``l`` is left an ``l``."""
    return _NOT_LETTER.sub("", text.lower())


def _run_grams(text: str) -> set[str]:
    """The steps of every ``RUN_GRAM`` letters of ``text``: read forwards and backwards, with and without
    its vowels (reversed text, masked vowels and Caesar shifts give the same steps), and as cipher letters."""
    plain = unmask.plain(text)
    stream = unmask.letters(plain)
    grams: set[str] = set()
    for kept in (stream, unmask.consonants(stream)):
        forwards = _steps(kept)
        for steps in (forwards, forwards.translate(_NEGATED_STEP)[::-1]):
            grams.update(steps[i : i + RUN_GRAM - 1] for i in range(len(steps) - RUN_GRAM + 2))
    steps = _steps(_cipher_letters(plain))
    grams.update(steps[i : i + RUN_GRAM - 1] for i in range(len(steps) - RUN_GRAM + 2))
    return grams


class _OpenRuns:
    """Runs of hidden letters, for telling whether a streaming reply ends in one that may continue."""

    def __init__(self, facts: dict[str, str], secrets: list[str]):
        self.facts: dict[str, set[str]] = {}
        for fact_id, answer in facts.items():
            for gram in _run_grams(answer):
                self.facts.setdefault(gram, set()).add(fact_id)
        self.secrets: set[str] = set().union(*(_run_grams(text) for text in secrets))

    def start(self, text: str, allowed_facts: AbstractSet[str]) -> int:
        """The start of the word where the run of hidden letters ``text`` ends in begins, or ``len(text)``.

        The reply's letters are read five ways at once, word by word from the end: as written, each word
        spelled backwards, both without vowels, and as cipher letters (a reversed or shifted whole is in the
        grams already).
        A run is ``RUN_GRAM`` letters or more whose every gram is hidden; the walk stops where none is.
        """

        def hidden(gram: str) -> bool:
            return gram in self.secrets or any(fact not in allowed_facts for fact in self.facts.get(gram, ()))

        start = len(text)
        right = [""] * 5  # for each reading, the first RUN_GRAM - 1 letters after this word
        in_run: list[bool | None] = [None] * 5  # None: no whole gram read yet
        unfinished = _unfinished_word(text)
        for token in reversed(list(_TOKEN.finditer(text))):
            plain = unmask.plain(token.group())
            stream = unmask.letters(plain)
            if not stream:
                continue
            vowelless = unmask.consonants(stream)
            readings = (stream, stream[::-1], vowelless, vowelless[::-1], _cipher_letters(plain))
            for reading, letters in enumerate(readings):
                if in_run[reading] is False or (reading in (1, 3) and token.start() >= unfinished):
                    continue  # an unfinished word spelled backwards reads as nothing yet
                window = letters + right[reading]
                steps = _steps(window)
                for i in range(min(len(letters), len(window) - RUN_GRAM + 1) - 1, -1, -1):
                    if not hidden(steps[i : i + RUN_GRAM - 1]):
                        if in_run[reading] and i + 1 < len(letters):
                            start = min(start, token.start())  # the run begins inside this word
                        in_run[reading] = False
                        break
                    in_run[reading] = True
                else:
                    if in_run[reading]:
                        start = min(start, token.start())
                right[reading] = window[: RUN_GRAM - 1]
            if not any(state is not False for state in in_run):
                break
        return start


_TOKEN = re.compile(r"\S+")
_WHITESPACE = re.compile(r"\s")
_TRAILING_FIGURE = re.compile(r"\d[\d,.]*\s*[a-z%]*\Z", re.IGNORECASE)
_TRAILING_HEX = re.compile(r"(?<![0-9a-z])(?:[0-9a-f]{2}[\s:,-]?)+\Z", re.IGNORECASE)
_TRAILING_NUMBER_WORDS = re.compile(_NUMBER_RUN.pattern + r"(?:[\s-]+(?:and\b[\s-]*)?)?\Z", re.IGNORECASE)
_TAG_CHARACTER = re.compile("[\U000e0000-\U000e007f]")
_TRAILING_LOOK = 64
"""Characters from the end a trailing run is first looked for in (more only while the run fills them)."""


def _trailing_start(pattern: re.Pattern[str], text: str) -> int:
    """Where ``pattern``, anchored at the end of ``text``, begins (``len(text)`` if it does not match);
    looks back only as far as the match reaches, so the cost follows the match, not the text."""
    size = _TRAILING_LOOK
    while True:
        offset = max(0, len(text) - size)
        match = pattern.search(text, offset)
        if match is None:
            return len(text)
        if match.start() > offset or offset == 0:
            return match.start()
        size *= 4


def _unfinished_word(text: str) -> int:
    """The start of the last word when nothing follows it yet (it may grow into a longer one, or a blob)."""
    if not text or text[-1].isspace():
        return len(text)
    space = _WHITESPACE.search(text[::-1])
    return len(text) - space.start() if space else 0


def _first_tag(text: str) -> int:
    """The first Unicode tag character (invisible; the guard reads what they spell out all together)."""
    match = None if text.isascii() else _TAG_CHARACTER.search(text)
    return match.start() if match else len(text)


class Guard:
    def __init__(self, problem: Problem, persona: Persona, rubric: Rubric | None = None, system_prompt: str = ""):
        self.problem = problem
        self._fact_passages = {fact.id: _passages(fact.answer) for fact in problem.facts}
        self._fact_figures = {fact.id: _figures(fact.answer) for fact in problem.facts}
        self._fact_shingles = {fact.id: shingles(fact.answer, SHINGLE) for fact in problem.facts}
        self._fact_order = {fact.id: index for index, fact in enumerate(problem.facts)}
        self._passage_facts: dict[tuple[str, ...], set[str]] = {}
        self._short_passages: list[tuple[str, str]] = []
        for fact_id, passages in self._fact_passages.items():
            for passage in passages:
                if len(passage) >= SHINGLE:
                    self._passage_facts.setdefault(passage, set()).add(fact_id)
                else:
                    self._short_passages.append((f" {' '.join(passage)} ", fact_id))
        secret_texts = [point for points in problem.reference.values() for point in points]
        if rubric is not None:
            for dimension in rubric.dimensions:
                secret_texts.extend(dimension.levels)
                secret_texts.append(dimension.judges)
        self._secret_passages: set[tuple[str, ...]] = set()
        for text in secret_texts:
            self._secret_passages |= shingles(text, SHINGLE)
        self._secret_starts = {passage[0] for passage in self._secret_passages}
        instructions = persona.style + ("\n" + system_prompt if system_prompt else "")
        self._instruction_passages = shingles(instructions, SHINGLE + 2)
        topic = term_set(f"{problem.title}. {problem.prompt}")
        self._fact_terms = {fact.id: term_set(fact.answer) - topic for fact in problem.facts}
        self._fact_letters = _WindowIndex({f.id: [f.answer] for f in problem.facts}, FACT_WINDOW, CONSONANT_WINDOW)
        self._secret_letters = _WindowIndex(
            {"secret": secret_texts, "instructions": [line for line in instructions.splitlines() if line.strip()]},
            SECRET_WINDOW,
            CONSONANT_WINDOW + 8,
        )
        self._open_runs = _OpenRuns({fact.id: fact.answer for fact in problem.facts}, [*secret_texts, instructions])

    def context(self, parts: Iterable[str] = ()) -> Context:
        """What replies may draw on, to keep as the conversation grows (see :class:`Context`)."""
        return Context(self, parts)

    def scan(self, allowed_facts: set[str] | frozenset[str], context: Context | str = "") -> Scan:
        """A check of one reply fed a piece at a time (see :class:`Scan` for the arguments)."""
        return Scan(self, allowed_facts, context if isinstance(context, Context) else self.context([context]))

    def check(self, reply: str, allowed_facts: set[str] | frozenset[str], context: Context | str = "") -> Verdict:
        """A whole reply at once (see :class:`Scan`)."""
        return self.scan(allowed_facts, context).feed(reply)

    def open_end(self, text: str, allowed_facts: AbstractSet[str]) -> int:
        """Where the end of ``text``, a reply still streaming, could yet grow into something this guard
        catches once whole: an unfinished word (an encoded blob), a figure, a run of hex or number words,
        hidden tag characters, or a run of letters found in a hidden text however spelled (see
        :class:`_OpenRuns`). Text from there on must wait for more of the reply; text before it may be
        checked and shown. ``len(text)`` when nothing is open."""
        return min(
            _unfinished_word(text),
            _trailing_start(_TRAILING_FIGURE, text),
            _trailing_start(_TRAILING_HEX, text),
            _trailing_start(_TRAILING_NUMBER_WORDS, text),
            _first_tag(text),
            self._open_runs.start(text, allowed_facts),
        )

    def _check_window(self, text: str, scan: Scan) -> Verdict:
        """One piece (with its overlap): as written, decoded, and as a letter stream however spelled."""
        allowed, context = scan.allowed, scan.context
        hidden_in_tags = unmask.tag_text(text)
        text = unmask.plain(text)
        verdict = self._check_view(text, allowed, context, figures=True)
        if not verdict.ok:
            return verdict
        views = hidden_views(text)
        if hidden_in_tags:
            views.append((hidden_in_tags, True))
        for view, figures in views:
            verdict = self._check_view(view, allowed, context, figures=figures)
            if not verdict.ok:
                return Verdict(False, verdict.reason + " (encoded)", verdict.fact)
        return self._check_letters(text, hidden_in_tags, scan)

    def _check_letters(self, text: str, hidden_in_tags: str, scan: Scan) -> Verdict:
        """Hidden texts in the letter stream: spaced, hyphenated, one per line, leetspeak, masked vowels,
        reversed, words spelled backwards, a Caesar shift."""
        stream = unmask.letters(text)
        streams = [stream, stream[::-1], unmask.letters(unmask.reversed_words(text))]
        if hidden_in_tags:
            streams.append(unmask.letters(hidden_in_tags))
        shift = unmask.caesar_shift(stream)
        if shift:
            streams.append(unmask.shift(stream, shift))
        for candidate in streams:
            for window, labels, in_consonants in self._fact_letters.hits(candidate):
                hidden = sorted(label for label in labels if label not in scan.allowed)
                if hidden and not scan.excused(window, in_consonants):
                    return Verdict(
                        False, f"reply reveals hidden fact '{hidden[0]}' that was not asked for (disguised)", hidden[0]
                    )
            for window, labels, in_consonants in self._secret_letters.hits(candidate):
                if scan.excused(window, in_consonants):
                    continue
                if "secret" in labels:
                    return Verdict(False, "reply quotes the grader's reference points or the rubric (disguised)")
                return Verdict(False, "reply echoes the interviewer's instructions (disguised)")
        return Verdict(True)

    def _check_paraphrase(
        self, present: AbstractSet[str], allowed_facts: AbstractSet[str], context: Context, excused: AbstractSet[str]
    ) -> Verdict:
        """``excused``: the allowed facts' terms; those of the context are excused too."""
        if len(present) < PARAPHRASE_MIN:
            return Verdict(True)
        for fact_id, terms in self._fact_terms.items():
            if fact_id in allowed_facts:
                continue
            distinctive = {term for term in terms - excused if not context.has_term(term)}
            if len(distinctive) <= PARAPHRASE_MIN:
                continue
            hit = distinctive & present
            if len(hit) >= max(PARAPHRASE_MIN, math.ceil(PARAPHRASE_SHARE * len(distinctive))):
                return Verdict(False, f"reply paraphrases hidden fact '{fact_id}' that was not asked for", fact_id)
        return Verdict(True)

    def _secret_passages_in(self, text: str) -> set[tuple[str, ...]]:
        """The passages of the reference points and the rubric in ``text`` (only those that begin as one)."""
        tokens, starts = words(text), self._secret_starts
        found = {tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1) if tokens[i] in starts}
        return found & self._secret_passages

    def _allowed_terms(self, allowed_facts: AbstractSet[str]) -> frozenset[str]:
        return frozenset().union(*(self._fact_terms[f] for f in allowed_facts if f in self._fact_terms))

    def _check_view(
        self,
        reply: str,
        allowed_facts: set[str] | frozenset[str],
        context: Context,
        *,
        figures: bool,
    ) -> Verdict:
        reply_shingles = shingles(reply, SHINGLE)
        hidden = [f for f in self._fact_passages if f not in allowed_facts]
        verdict = self._copied_fact(reply, reply_shingles, allowed_facts)
        if verdict is None and figures:
            allowed_figures = set().union(*(self._fact_figures[f] for f in allowed_facts if f in self._fact_figures))
            verdict = self._leaked_figure(reply, hidden, context, allowed_figures)
        if verdict is None:
            verdict = self._quoted_secret(reply, reply_shingles, allowed_facts, context)
        return verdict or Verdict(True)

    def _copied_fact(
        self, reply: str, reply_shingles: set[tuple[str, ...]], allowed_facts: AbstractSet[str]
    ) -> Verdict | None:
        """A passage of a hidden fact's answer, word for word (looked up once per passage of the reply)."""
        found: set[str] = set()
        for passage in reply_shingles:
            found |= self._passage_facts.get(passage, set())
        if self._short_passages:
            reply_tokens = " " + " ".join(words(reply)) + " "
            found |= {fact for phrase, fact in self._short_passages if phrase in reply_tokens}
        hidden = sorted(found - set(allowed_facts), key=self._fact_order.__getitem__)
        if hidden:
            return Verdict(False, f"reply reveals hidden fact '{hidden[0]}' that was not asked for", hidden[0])
        return None

    def _leaked_figure(
        self, reply: str, hidden: list[str], context: Context, allowed_figures: AbstractSet[str]
    ) -> Verdict | None:
        """A paraphrase that carries a hidden fact's figures (none the context or an allowed fact holds)."""
        reply_figures = _figures(reply)
        for fact_id in hidden:
            shared = (self._fact_figures[fact_id] & reply_figures) - allowed_figures
            leaked = {figure for figure in shared if not context.has_figure(figure)}
            if leaked:
                return Verdict(
                    False,
                    f"reply gives a figure ({sorted(leaked)[0]}) from hidden fact '{fact_id}' not asked for",
                    fact_id,
                )
        return None

    def _quoted_secret(
        self,
        reply: str,
        reply_shingles: set[tuple[str, ...]],
        allowed_facts: set[str] | frozenset[str],
        context: Context,
    ) -> Verdict | None:
        """The grader's reference points, the rubric, or the interviewer's own instructions."""
        quoted = reply_shingles & self._secret_passages
        # A passage that the reply may say anyway (in the conversation, a probe, an allowed fact) is not a leak.
        quoted = {passage for passage in quoted if not context.has_secret_passage(passage)}
        for fact_id in allowed_facts:
            if quoted and fact_id in self._fact_shingles:
                quoted -= self._fact_shingles[fact_id]
        if quoted:
            return Verdict(False, "reply quotes the grader's reference points or the rubric")
        if shingles(reply, SHINGLE + 2) & self._instruction_passages:
            return Verdict(False, "reply echoes the interviewer's instructions")
        return None


class Context:
    """Text a reply may draw on (what the candidate was told, the conversation, this reply's material),
    kept as what the guard looks up in it: its figures, its terms, the secret passages it says, its
    letter stream. Each part is read once, as it is added, so checking a reply costs the same at turn
    300 as at turn 3. Parts are read apart: a figure or passage does not run from one part into the next.

    :meth:`extended` layers one reply's own material over the conversation without copying it.
    """

    def __init__(self, guard: Guard, parts: Iterable[str] = (), base: Context | None = None):
        self.guard, self.base = guard, base
        self._figures: set[str] = set()
        self._terms: set[str] = set()
        self._secret_passages: set[tuple[str, ...]] = set()
        """Only passages of the grader's reference points or the rubric: the rest is never looked up."""
        self._letters: list[str] = []
        self._consonants: list[str] = []
        for part in parts:
            self.add(part)

    def add(self, text: str) -> None:
        self._figures |= _figures(text)
        self._terms |= term_set(text)
        self._secret_passages |= self.guard._secret_passages_in(text)
        letters = unmask.letters(unmask.plain(text))
        self._letters.append(letters)
        self._consonants.append(unmask.consonants(letters))

    def extended(self, parts: Iterable[str]) -> Context:
        """This context with ``parts`` over it (one reply's material); adding to it leaves this one as it is."""
        return Context(self.guard, parts, base=self)

    def has_figure(self, figure: str) -> bool:
        return figure in self._figures or (self.base is not None and self.base.has_figure(figure))

    def has_term(self, term: str) -> bool:
        return term in self._terms or (self.base is not None and self.base.has_term(term))

    def has_secret_passage(self, passage: tuple[str, ...]) -> bool:
        return passage in self._secret_passages or (self.base is not None and self.base.has_secret_passage(passage))

    def has_letters(self, window: str, in_consonants: bool) -> bool:
        """Whether a letter window (of a hidden text) occurs in one part (looked up only when a reply has one:
        rare, and linear in the context)."""
        streams = self._consonants if in_consonants else self._letters
        return any(window in stream for stream in streams) or (
            self.base is not None and self.base.has_letters(window, in_consonants)
        )


class Scan:
    """One reply's check, fed a piece at a time.

    ``allowed``: facts the reply may state (revealed before or answered in this reply; the caller may
    add to the set while the reply streams). ``context``: what the reply may draw on (:class:`Context`),
    whose figures and passages are fair.

    Each piece is checked with the last :data:`OVERLAP` characters of what passed before it; what the
    whole reply says (its terms, for paraphrases) is kept as a running set. A piece that fails is not
    taken in, so it can be checked again once more facts are allowed.
    """

    def __init__(self, guard: Guard, allowed: set[str] | frozenset[str], context: Context):
        self.guard, self.allowed, self.context = guard, allowed, context
        self._tail = ""
        self._terms: set[str] = set()
        self._allowed_terms: tuple[frozenset[str], frozenset[str]] | None = None

    def feed(self, piece: str) -> Verdict:
        window = self._tail + piece
        verdict = self.guard._check_window(window, self)
        if not verdict.ok:
            return verdict
        present = self._terms | term_set(unmask.plain(window))
        verdict = self.guard._check_paraphrase(present, self.allowed, self.context, self._excused_terms())
        if verdict.ok:
            self._terms = present
            self._tail = _tail(window)
        return verdict

    def _excused_terms(self) -> frozenset[str]:
        """The allowed facts' terms (the context's are looked up there)."""
        allowed = frozenset(self.allowed)
        if self._allowed_terms is None or self._allowed_terms[0] != allowed:
            self._allowed_terms = (allowed, self.guard._allowed_terms(allowed))
        return self._allowed_terms[1]

    def excused(self, window: str, in_consonants: bool) -> bool:
        """A letter window the reply may say anyway: in an allowed fact or in the context."""
        if self.context.has_letters(window, in_consonants):
            return True
        facts = self.guard._fact_letters
        sources = [facts.streams[f] for f in self.allowed if f in facts.streams]
        if in_consonants:
            sources = [unmask.consonants(source) for source in sources]
        return any(window in source for source in sources)


def _tail(text: str) -> str:
    """The last :data:`OVERLAP` characters of ``text``, from a word boundary."""
    if len(text) <= OVERLAP:
        return text
    tail = text[-OVERLAP:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < OVERLAP // 2 else tail
