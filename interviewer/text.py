"""Lexical tools shared by the offline analyst, the offline grader and the guard.

Everything here is deterministic and dependency-free: sentence spans that keep offsets
(so quotes stay verbatim), a light stemmer, a small synonym table, and the test for a
*substantive* sentence, the thing that keeps a bare list of buzzwords from earning credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?(?:[-/][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_NUMBER = re.compile(r"\d")

FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "we",
        "we'd",
        "we'll",
        "we're",
        "our",
        "us",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "my",
        "me",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "as",
        "than",
        "then",
        "so",
        "because",
        "since",
        "if",
        "when",
        "while",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "how",
        "why",
        "and",
        "or",
        "but",
        "nor",
        "not",
        "no",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "having",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "there",
        "here",
        "also",
        "just",
        "only",
        "very",
        "more",
        "most",
        "less",
        "least",
        "each",
        "every",
        "all",
        "any",
        "some",
        "such",
        "both",
        "either",
        "neither",
        "one",
        "first",
        "then",
        "next",
        "after",
        "before",
        "until",
        "unless",
        "though",
        "although",
        "whether",
        "per",
        "via",
        "up",
        "down",
        "out",
        "off",
        "again",
        "once",
    ]
)

STOPWORDS = FUNCTION_WORDS | frozenset(
    [
        "tell",
        "know",
        "like",
        "want",
        "need",
        "wondering",
        "wonder",
        "question",
        "questions",
        "ask",
        "asking",
        "clarify",
        "clarification",
        "please",
        "thanks",
        "thank",
        "okay",
        "ok",
        "yes",
        "yeah",
        "sure",
        "well",
        "let",
        "let's",
        "think",
        "guess",
        "maybe",
        "kind",
        "sort",
        "something",
        "anything",
        "thing",
        "things",
        "going",
        "get",
        "got",
        "give",
        "lot",
        "lots",
        "really",
        "quite",
        "pretty",
        "also",
        "expect",
        "expected",
        "typical",
        "typically",
        "roughly",
        "approximately",
        "around",
        "about",
        "exactly",
        "currently",
        "actually",
        "use",
        "uses",
        "used",
        "using",
    ]
)

# Stems mapped to one canonical token, so that "how fast must it respond" meets "latency".
# Conservative on purpose: a synonym here makes two cues collide if it is too broad.
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("user", "customer", "subscriber", "member", "client"),
    ("traffic", "qps", "rps", "throughput"),
    ("latency", "fast", "quick", "quickly", "slow", "speed", "millisecond", "ms", "realtime"),
    (
        "label",
        "labeled",
        "labelled",
        "labeling",
        "labelling",
        "annotation",
        "annotate",
        "annotator",
        "groundtruth",
        "tag",
    ),
    ("volume", "many", "much", "number", "amount", "count", "size", "how-many", "big"),
    ("fraction", "share", "percentage", "percent", "proportion", "ratio"),
    ("cost", "budget", "money", "price", "spend", "expensive", "cheap", "afford", "dollar"),
    ("goal", "objective", "purpose", "aim", "kpi", "success"),
    ("language", "locale", "multilingual"),
    ("privacy", "gdpr", "pii", "consent", "confidential"),
    ("data", "dataset", "corpus", "corpora"),
    (
        "hardware",
        "gpu",
        "gpus",
        "cpu",
        "cpus",
        "chip",
        "accelerator",
        "tpu",
        "tpus",
        "npu",
        "npus",
        "processor",
        "compute",
    ),
    ("device", "phone", "smartphone", "handset", "on-device", "embedded"),
    ("memory", "ram"),
    ("email", "mail", "e-mail", "inbox"),
    ("day", "daily"),
    ("history", "historic", "historical", "past"),
    ("mistake", "error", "wrong"),
    ("feedback", "report", "complaint", "flag"),
    ("team", "staff", "headcount"),
    ("deadline", "timeline", "launch", "ship"),
)

_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bground[ -]truth\b", "groundtruth"),
        (r"\breal[ -]time\b", "realtime"),
        (r"\bon[ -]device\b", "on-device"),
        (r"\bhow many\b", "how-many"),
        (r"\bper second\b", "qps"),
        (r"\bclick[ -]through\b", "clickthrough"),
        (r"\ba/b\b", "abtest"),
        (r"\bresponse time\b", "latency"),
        (r"\b(?:latency|time|response) budget\b", "latency"),
        (r"\btim(?:e|ed|es|ing) out\b", "timeout"),
    )
)

_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("isation", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ities", "ity"),
    ("ness", ""),
    ("ments", "ment"),
    ("ings", ""),
    ("ing", ""),
    ("ied", "y"),
    ("ies", "y"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
    ("ly", ""),
)


_SPELLING = {
    "licence": "license",
    "licences": "licenses",
    "behaviour": "behavior",
    "behaviours": "behaviors",
    "colour": "color",
    "favour": "favor",
    "labour": "labor",
    "neighbour": "neighbor",
    "honour": "honor",
    "catalogue": "catalog",
    "catalogues": "catalogs",
    "modelling": "modeling",
    "modelled": "modeled",
    "labelled": "labeled",
    "labelling": "labeling",
    "travelling": "traveling",
    "cancelled": "canceled",
}
_UNSTEMMED = frozenset({"news", "series", "species", "analysis", "basis", "bias", "bus", "gas"})
_BRITISH_ISE = re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)$")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """A light suffix stripper: consistent on both sides of a match, which is all it needs to be."""
    word = _SPELLING.get(word, word)
    if len(word) <= 3 or not word.isalpha() or word in _UNSTEMMED:
        return word
    if len(word) >= 6:
        word = _BRITISH_ISE.sub(r"iz\1", word)  # optimise -> optimize
    stripped = _strip_suffix(word)
    return word if stripped is None else _fold_ending(stripped)


def _strip_suffix(word: str) -> str | None:
    """The word without its first matching suffix; None for a word to keep whole ("class", "status")."""
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            return None
        if suffix == "es" and not word[:-2].endswith(("s", "x", "z", "ch", "sh")):
            suffix, replacement = "s", ""  # rates -> rate, but watches -> watch
        word = word[: len(word) - len(suffix)] + replacement
        # running -> run, stopped -> stop
        if suffix in ("ing", "ed") and len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
        return word
    return word


def _fold_ending(word: str) -> str:
    # change, changes, changed -> chang; rate, rating -> rat
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    # movie, movies -> movi; policy, policies -> polici
    if len(word) >= 4 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


def _build_synonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in _SYNONYM_GROUPS:
        canonical = group[0]
        for member in group:
            table[member] = canonical
            table[stem(member)] = canonical
    return table


_SYNONYMS = _build_synonyms()


def normalized(text: str) -> str:
    """Lower case with runs of whitespace as one space: the same words said again compare equal."""
    return " ".join(text.lower().split())


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


def _canon(word: str) -> str:
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    stemmed = stem(word)
    return _SYNONYMS.get(stemmed, stemmed)


@lru_cache(maxsize=20_000)
def terms(text: str) -> tuple[str, ...]:
    """Content terms: stemmed, synonym-folded, stopwords dropped, order kept."""
    lowered = text.lower()
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    out = []
    for word in _WORD.findall(lowered):
        parts = [word]
        if ("-" in word or "/" in word) and word not in _SYNONYMS:
            # "report-spam" also counts as "report" and "spam".
            parts += [p for p in re.split(r"[-/]", word) if p]
        for part in parts:
            if part in STOPWORDS:
                continue
            term = _canon(part)
            if term and term not in STOPWORDS:
                out.append(term)
    return tuple(out)


def term_set(text: str) -> frozenset[str]:
    return frozenset(terms(text))


# ----------------------------------------------------------------------------- sentences


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    """The sentence exactly as it appears in the source (a verbatim substring)."""
    start: int
    end: int

    @property
    def is_question(self) -> bool:
        return is_question(self.text)


def sentences(text: str) -> list[Sentence]:
    """Split into sentences, keeping offsets so that ``source[start:end] == sentence.text``."""
    out: list[Sentence] = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        _append(out, text, position, match.start())
        position = match.end()
    _append(out, text, position, len(text))
    return out


_BULLET = re.compile(r"^(?:[-*•]|\d+[.)])\s+")


def _append(out: list[Sentence], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return
    offset = start + chunk.index(stripped)
    bullet = _BULLET.match(stripped)
    if bullet:
        offset += bullet.end()
        stripped = stripped[bullet.end() :]
    if stripped:
        out.append(Sentence(stripped, offset, offset + len(stripped)))


_LEAD_IN = re.compile(
    r"^(?:(?:so|and|also|ok(?:ay)?|right|btw|oh|quick question|one more thing|last thing)[,:;]?\s+)*", re.IGNORECASE
)
_ASKING_START = re.compile(
    r"^(?:i'?d|i would|i|we'?d|we would|we) (?:like|love|want|need) to (?:know|understand|check|confirm|clarify)\b|"
    r"^i(?:'m| am)? (?:wonder|wondering|curious)\b|"
    r"^(?:tell me|can you tell|could you tell|do you know|may i ask|let me ask|(?:please )?clarify)\b",
    re.IGNORECASE,
)
_STATEMENT_START = re.compile(r"^(?:i|we|i'd|we'd|i'll|we'll|i'm|we're|let's|my|our)\b", re.IGNORECASE)
_AUX = (
    r"(?:is|are|was|were|do|does|did|can|could|should|will|would|may|might|must|has|have|had|"
    r"isn't|aren't|don't|doesn't|didn't|can't|won't|wouldn't|shouldn't)"
)
_YES_NO_START = re.compile(rf"^(?:{_AUX}|r|shud|cud|wud)\b", re.IGNORECASE)
_WH_CONTRACTED = re.compile(r"^(?:what's|whats|who's|where's|how's|what're|how're)\b", re.IGNORECASE)
_WH_ADVERB_INVERTED = re.compile(
    rf"^(?:why|when|where|how)\s+{_AUX}\b|^how\s+(?!i\b|we\b|you\b|they\b|it\b)\w+\s+{_AUX}\b|"
    r"^what\s+happens\s+(?:if|when|to|with|after|in|on|during|once)\b",
    re.IGNORECASE,
)
_HOW_DEGREE = re.compile(
    r"^how\s+(?:many|much|long|often|big|large|small|fast|far|soon|well|quickly|frequently|old|accurate|good|bad|"
    r"important|strict|tight|fresh|stale|noisy|reliable|common|rare)\b",
    re.IGNORECASE,
)
_WHAT_KIND = re.compile(r"^(?:what|which)\s+(?:kinds?|sorts?|types?)\s+of\b", re.IGNORECASE)
# "What matters is the on-time rate", "What the model outputs is a score", "What I would do: ...": a clause
# that opens with a wh-word but states something (a pseudo-cleft or a heading), not a question.
_CLEFT_WORDS = frozenset(
    re.findall(
        r"\S+",
        "i i'd i'll we we'd we'll you they he she it the a an this that these those our my their your its "
        "matters counts happens drives worries concerns works helps hurts makes ends comes goes needs means "
        "changes decides breaks",
    )
)
_WH_SUBJECT = re.compile(rf"^(?:what|which|who|whose)((?:\s+[\w'-]+){{0,3}}?)\s+{_AUX}\b", re.IGNORECASE)
_ANY_START = re.compile(r"^any\b", re.IGNORECASE)
SHORT_ANY = 10
""""any latency limits" asks; "Any feature that peeks past the snapshot date leaks" states."""


_CHAT_SPELLING = {
    "wat": "what",
    "wht": "what",
    "wut": "what",
    "wot": "what",
    "wats": "what's",
    "whts": "what's",
    "hw": "how",
    "hows": "how's",
    "r": "are",
    "ther": "there",
    "hav": "have",
    "u": "you",
    "shud": "should",
    "cud": "could",
    "wud": "would",
}
"""Question words as people type them in chat ("wat r we optimizing", "hw fast does it need to be")."""


def _chat_spelling(text: str) -> str:
    """The sentence's first two words in their dictionary spelling."""
    parts = text.split(" ", 2)
    return " ".join(_CHAT_SPELLING.get(part.lower(), part) if i < 2 else part for i, part in enumerate(parts))


def is_question(sentence: str) -> bool:
    """Whether a sentence asks something: a question mark, or question word order without one
    ("how many users do we have", "is there a budget"). A sentence that only opens with a wh-word
    ("When a user asks, we embed it", "What matters is recall") states something."""
    stripped = sentence.strip()
    if stripped.endswith("?"):
        return True
    if _ASKING_START.match(stripped):
        return True
    if _STATEMENT_START.match(stripped):
        return False
    body = _chat_spelling(_LEAD_IN.sub("", stripped))
    if _ASKING_START.match(body) or _YES_NO_START.match(body) or _WH_CONTRACTED.match(body):
        return True
    if _WH_ADVERB_INVERTED.match(body) or _HOW_DEGREE.match(body) or _WHAT_KIND.match(body):
        return True
    if _ANY_START.match(body):
        return len(body.split()) <= SHORT_ANY
    if body.lower().startswith("who "):
        return True
    subject = _WH_SUBJECT.match(body)
    if subject is not None:
        gap = subject.group(1).split()
        return not gap or gap[0].lower() not in _CLEFT_WORDS
    return False


# ----------------------------------------------------------------------------- substance

_REASONING = re.compile(
    r"\b(?:because|since|so that|which means|that means|trade-?offs?|instead of|rather than|versus|vs\.?|"
    r"however|otherwise|in order to|the downside|downsides?|the risk|at the cost of|cheaper|faster|"
    r"to avoid|depends on|assuming|assume|the reason|so we|this lets|this way|which lets|"
    r"on the other hand|compared to|while|but|unless|if we|if the|if it|pros?|cons?)\b",
    re.IGNORECASE,
)


def is_list_like(sentence: str) -> bool:
    """Four or more short comma/semicolon/slash-separated fragments: a list of terms, not an argument."""
    parts = [p for p in re.split(r"[,;/|]|\s-\s", sentence) if p.strip()]
    if len(parts) < 4:
        return False
    short = sum(1 for p in parts if len(words(p)) <= 3)
    return short / len(parts) >= 0.7


def is_substantive(sentence: str) -> bool:
    """A sentence that says something: long enough, built with function words, not a bare list."""
    tokens = words(sentence)
    if len(tokens) < 6:
        return False
    function = sum(1 for t in tokens if t in FUNCTION_WORDS)
    if function < 2 or function / len(tokens) < 0.15:
        return False
    return not is_list_like(sentence)


def has_reasoning(sentence: str) -> bool:
    return bool(_REASONING.search(sentence))


def has_number(sentence: str) -> bool:
    return bool(_NUMBER.search(sentence))


def shingles(text: str, size: int) -> set[tuple[str, ...]]:
    """Word n-grams of the lower-cased text, for spotting copied passages."""
    tokens = words(text)
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


_CLAUSE_ENDS = (re.compile(r"[;:]\s|\s[-–—]\s"), re.compile(r"[,)]\s"))
"""Where a clause ends, strongest first."""


def quote_of(sentence: str, limit: int = 400) -> str:
    """The sentence, verbatim; a run-on longer than ``limit`` characters is cut after its last clause that
    fits (at a semicolon, colon or dash, else a comma), else at a word boundary."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence.rfind(" ", 0, limit)
    for clause_end in _CLAUSE_ENDS:
        ends = [m.start() + 1 for m in clause_end.finditer(sentence, 0, limit) if m.start() > limit // 2]
        if ends:
            cut = ends[-1]
            break
    return sentence[: cut if cut > limit // 2 else limit].rstrip(" ,;:-–—")
