"""Undo the ways a model can be talked into disguising text, for the guard.

Two kinds of work, both linear in the text:

- :func:`plain` cleans a reply without changing what it says: invisible characters (zero-width
  spaces and joiners, Unicode tag characters, variation selectors) are dropped, accents are folded,
  and Cyrillic or Greek letters that look like Latin ones become those Latin letters. Text hidden in
  tag characters is returned as well (:func:`tag_text`).
- :func:`letters` reduces text to a stream of lower-case letters in one canonical spelling: every
  separator goes (so ``s-p-a-m``, ``s.p.a.m``, ``s p a m`` and one letter per line all read ``spam``),
  and leetspeak digits and symbols become the letters they stand for (``sp4m`` reads ``spam``). Two
  texts that say the same words, however spaced or spelled, give the same stream, so the guard compares
  streams in windows of letters. :func:`consonants` drops the vowels as well, for text whose vowels were
  masked (``*nstr*ct**ns``). Reversed text, words spelled backwards and Caesar shifts are undone on the
  stream (:func:`caesar_shift` finds the shift that makes the letters read most like English).
"""

from __future__ import annotations

import re
import unicodedata

# Cyrillic and Greek letters that are drawn like Latin ones (lower and upper case).
_LOOK_ALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ɡ": "g", "ӏ": "l", "ь": "b", "п": "n", "г": "r", "и": "u", "л": "n", "д": "a", "ш": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ԁ": "D", "Һ": "H", "Ԛ": "Q", "Ԝ": "W",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w", "μ": "u", "ς": "s", "σ": "o",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
}  # fmt: skip
_FOLD_LOOK_ALIKES = str.maketrans(_LOOK_ALIKES)

_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F


def _invisible(ch: str) -> bool:
    """Format characters (zero-width spaces and joiners, bidi marks, soft hyphens, tag characters) and
    variation selectors: nothing a reader sees."""
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x180B <= code <= 0x180F
        or code == 0x034F
    )


def tag_text(text: str) -> str:
    """The ASCII that Unicode tag characters in ``text`` spell out (invisible on screen), or ''."""
    return "".join(chr(ord(ch) - _TAG_FIRST) for ch in text if 0xE0020 <= ord(ch) <= 0xE007E)


def plain(text: str) -> str:
    """``text`` as a reader sees it, in plain Latin letters: compatibility forms folded (full-width
    digits are digits), invisible characters dropped, accents and look-alike letters folded."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    text = "".join(ch for ch in text if not _invisible(ch))
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_LOOK_ALIKES))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


_LEET = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"})
_NOT_LETTER = re.compile(r"[^a-z]+")


def letters(text: str) -> str:
    """The letters of ``text`` in one canonical spelling: lower case, separators dropped, leetspeak
    read as letters (``l`` and ``1`` are both ``i``, as a reader of leetspeak would take them)."""
    return _NOT_LETTER.sub("", text.lower().translate(_LEET))


_VOWELS = re.compile(r"[aeiouy]+")


def consonants(stream: str) -> str:
    """A letter stream without its vowels: what survives when the vowels were masked or dropped."""
    return _VOWELS.sub("", stream)


def reversed_words(text: str) -> str:
    """Each word spelled backwards, in place (separators between words become single spaces)."""
    return " ".join(word[::-1] for word in text.split())


# Letter frequencies of English text, in percent.
_ENGLISH = [
    8.2, 1.5, 2.8, 4.3, 12.7, 2.2, 2.0, 6.1, 7.0, 0.15, 0.77, 4.0, 2.4,
    6.7, 7.5, 1.9, 0.095, 6.0, 6.3, 9.1, 2.8, 0.98, 2.4, 0.15, 2.0, 0.074,
]  # fmt: skip
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_SHIFTS = [str.maketrans(_ALPHABET, _ALPHABET[k:] + _ALPHABET[:k]) for k in range(26)]

MIN_CIPHER_LETTERS = 40
"""Shorter text says too little about its letter frequencies to call it enciphered."""


def caesar_shift(stream: str) -> int:
    """The shift (0-25) that, added to each letter, makes ``stream`` read most like English; 0 when it
    already does, or is too short to tell. Costs one pass over the text and 26 x 26 sums."""
    if len(stream) < MIN_CIPHER_LETTERS:
        return 0
    counts = [stream.count(letter) for letter in _ALPHABET]
    total = len(stream)

    def misfit(shift: int) -> float:
        # Chi-square of the shifted letters against English.
        out = 0.0
        for index, count in enumerate(counts):
            expected = _ENGLISH[(index + shift) % 26] * total / 100
            out += (count - expected) ** 2 / expected
        return out

    if misfit(0) < total:  # English text scores about 0.2 per letter, a shifted one 5 or more
        return 0
    best = min(range(26), key=misfit)
    # Shifted only when that reads clearly more like English than the text as written.
    return best if best and misfit(best) < 0.5 * misfit(0) else 0


def shift(stream: str, by: int) -> str:
    return stream.translate(_SHIFTS[by % 26])
