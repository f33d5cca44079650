"""Vietnamese text normalisation: NFC, unified tone marks, case-fold, diacritic folding, word segmentation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from underthesea import text_normalize, word_tokenize

_SYLLABLE = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Remove Vietnamese diacritics (đ→d) from lower- or mixed-case text."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@dataclass(frozen=True)
class Syllable:
    """One syllable of the text: its case-folded form, its diacritic-free form, and the word it belongs to."""

    text: str
    folded: str
    word: int
    word_len: int


@dataclass(frozen=True)
class NormalizedText:
    """A report's text in every form matching needs; `original` is kept untouched."""

    original: str
    normalized: str
    lowered: str
    folded: str
    tokens: tuple[str, ...]
    syllables: tuple[Syllable, ...]


def nfc(text: str) -> str:
    """Unicode NFC with the tone-mark placement unified ("hoà" → "hòa")."""
    clean = unicodedata.normalize("NFC", text)
    try:
        return unicodedata.normalize("NFC", text_normalize(clean))
    except Exception:  # noqa: BLE001 - a normaliser failure must not lose the report; NFC alone still matches
        return clean


def normalize(text: str) -> NormalizedText:
    """Normalise a report's text; tokens come from underthesea word segmentation (compounds joined by space)."""
    normalized = nfc(text)
    lowered = normalized.casefold()
    try:
        words = [w for w in word_tokenize(normalized) if _SYLLABLE.search(w)]
    except Exception:  # noqa: BLE001 - fall back to syllables if segmentation fails on odd input
        words = _SYLLABLE.findall(normalized)
    syllables: list[Syllable] = []
    tokens: list[str] = []
    for index, word in enumerate(words):
        parts = _SYLLABLE.findall(word.casefold())
        tokens.append(" ".join(parts))
        for part in parts:
            syllables.append(Syllable(part, fold(part), index, len(parts)))
    return NormalizedText(
        original=text,
        normalized=normalized,
        lowered=lowered,
        folded=fold(lowered),
        tokens=tuple(tokens),
        syllables=tuple(syllables),
    )


def phrase_syllables(phrase: str) -> tuple[str, ...]:
    """Split a rule phrase into case-folded NFC syllables."""
    return tuple(_SYLLABLE.findall(nfc(phrase).casefold()))


def find_phrase(text: NormalizedText, phrase: tuple[str, ...]) -> bool:
    """True if `phrase` occurs as whole syllables; see `matches_at` for the diacritic rule."""
    n = len(phrase)
    if n == 0:
        return False
    folded = tuple(fold(p) for p in phrase)
    sylls = text.syllables
    starts = (i for i in range(len(sylls) - n + 1) if sylls[i].folded == folded[0])
    return any(matches_at(sylls, i, phrase, folded) for i in starts)


def matches_at(sylls: tuple[Syllable, ...], i: int, phrase: tuple[str, ...], folded: tuple[str, ...]) -> bool:
    """Match at position i: folded forms equal, and each written syllable either carries the phrase's
    diacritics or none at all (so unaccented typing matches, but "đạt" never matches "đất").
    A one-syllable phrase must also be a whole word, so "đất" does not match inside "đất nước"."""
    n = len(phrase)
    for k in range(n):
        s = sylls[i + k]
        if s.folded != folded[k] or (s.text != phrase[k] and s.text != s.folded):
            return False
    return not (n == 1 and sylls[i].word_len > 1)


def shingles(folded: str, size: int = 4) -> frozenset[str]:
    """Character shingles of a folded text with whitespace and punctuation collapsed."""
    compact = " ".join(_SYLLABLE.findall(folded))
    if len(compact) <= size:
        return frozenset({compact}) if compact else frozenset()
    return frozenset(compact[i : i + size] for i in range(len(compact) - size + 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Containment (overlap coefficient) of two shingle sets: |A∩B| / min(|A|, |B|)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
