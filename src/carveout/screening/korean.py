"""Hangul -> Latin by the Revised Romanization of Korean (2000), syllable by syllable.

Deliberately simple (no assimilation rules between syllables): company names are matched fuzzily afterwards,
and the well-known ones go through the native-name table first.
"""

from __future__ import annotations

_INITIALS = [
    "g",
    "kk",
    "n",
    "d",
    "tt",
    "r",
    "m",
    "b",
    "pp",
    "s",
    "ss",
    "",
    "j",
    "jj",
    "ch",
    "k",
    "t",
    "p",
    "h",
]
_VOWELS = [
    "a",
    "ae",
    "ya",
    "yae",
    "eo",
    "e",
    "yeo",
    "ye",
    "o",
    "wa",
    "wae",
    "oe",
    "yo",
    "u",
    "wo",
    "we",
    "wi",
    "yu",
    "eu",
    "ui",
    "i",
]
_FINALS = [
    "",
    "k",
    "k",
    "k",
    "n",
    "n",
    "n",
    "t",
    "l",
    "k",
    "m",
    "l",
    "l",
    "l",
    "p",
    "l",
    "m",
    "p",
    "p",
    "t",
    "t",
    "ng",
    "t",
    "t",
    "k",
    "t",
    "p",
    "t",
]

_BASE, _LAST = 0xAC00, 0xD7A3


def is_hangul(ch: str) -> bool:
    return _BASE <= ord(ch) <= _LAST


def romanize(text: str) -> str:
    """Romanise Hangul syllables; other characters pass through. Word breaks follow the input's spaces."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if _BASE <= code <= _LAST:
            idx = code - _BASE
            ini, rest = divmod(idx, 21 * 28)
            vow, fin = divmod(rest, 28)
            initial = _INITIALS[ini]
            # a final "r/l" before a vowel-initial syllable would be "r"; we keep the simple form
            out.append(initial + _VOWELS[vow] + _FINALS[fin])
        else:
            out.append(ch)
    return "".join(out)
