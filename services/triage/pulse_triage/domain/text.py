"""Vietnamese text normalisation: NFC, unified tone marks, case-fold, diacritic folding, telex repair, word
segmentation, and phrase matching that forgives missing marks, telex leftovers and one typo."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

from rapidfuzz.distance import OSA
from underthesea import text_normalize, word_tokenize

_SYLLABLE = re.compile(r"\w+", re.UNICODE)
MAX_TEXT_CHARS = 6000
"""Only this much of a report is read: scoring time stays bounded whatever a client sends."""
MAX_SYLLABLE_CHARS = 24
_TELEX_HINT = re.compile(r"dd|[aeiouy]w|aa|ee|oo|[a-z][sfrxj]$")
_TELEX_VOWEL = re.compile(r"([aeiouy])w")
_TELEX_DOUBLE = re.compile(r"(a|e|o)\1")
_TELEX_TONE = re.compile(r"(?<=[a-z])[sfrxj]$")
FUZZY_MIN_CHARS = 5
"""A syllable is allowed one typo only when both it and the phrase's syllable have at least this many letters."""


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Remove Vietnamese diacritics (đ→d) from lower- or mixed-case text."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=8192)
def marks(syllable: str) -> frozenset[str]:
    """The diacritics a written syllable carries (combining marks, and đ)."""
    decomposed = unicodedata.normalize("NFD", syllable)
    found = {c for c in decomposed if unicodedata.category(c) == "Mn"}
    return frozenset(found | ({"đ"} if "đ" in syllable else set()))


@lru_cache(maxsize=8192)
def detelex(folded: str) -> str:
    """Undo telex typing left in a folded syllable ("dduwowngf" → "duong"); other syllables are unchanged.

    No Vietnamese syllable contains "dd", "w" after a vowel, a doubled a/e/o, or ends in s, f, r, x, j, so a
    syllable with one of those was typed in telex without the keyboard converting it."""
    if not _TELEX_HINT.search(folded):
        return folded
    out = folded.replace("dd", "d")
    out = _TELEX_VOWEL.sub(r"\1", out)
    out = _TELEX_DOUBLE.sub(r"\1", out)
    return _TELEX_TONE.sub("", out) or folded


@dataclass(frozen=True)
class Syllable:
    """One syllable: case-folded, diacritic-free and telex-repaired forms, and the word it belongs to."""

    text: str
    folded: str
    word: int
    word_len: int

    @property
    def plain(self) -> str:
        """The diacritic-free form with telex leftovers repaired."""
        return detelex(self.folded)


@dataclass(frozen=True)
class NormalizedText:
    """A report's text in every form matching needs; `original` is kept untouched."""

    original: str
    normalized: str
    lowered: str
    folded: str
    tokens: tuple[str, ...]
    syllables: tuple[Syllable, ...]

    @cached_property
    def positions(self) -> dict[str, tuple[int, ...]]:
        """Where each folded (and telex-repaired) syllable occurs: phrase matching starts only there."""
        found: dict[str, list[int]] = {}
        for i, s in enumerate(self.syllables):
            found.setdefault(s.folded, []).append(i)
            if s.plain != s.folded:
                found.setdefault(s.plain, []).append(i)
        return {k: tuple(v) for k, v in found.items()}

    @property
    def plain_words(self) -> tuple[str, ...]:
        """The segmented words, folded and telex-repaired, syllables joined by "_"."""
        words: dict[int, list[str]] = {}
        for s in self.syllables:
            words.setdefault(s.word, []).append(s.plain)
        return tuple("_".join(parts) for _, parts in sorted(words.items()))


def nfc(text: str) -> str:
    """Unicode NFC with the tone-mark placement unified ("hoà" → "hòa")."""
    clean = unicodedata.normalize("NFC", text)
    try:
        return unicodedata.normalize("NFC", text_normalize(clean))
    except Exception:  # noqa: BLE001 - a normaliser failure must not lose the report; NFC alone still matches
        return clean


def normalize(text: str) -> NormalizedText:
    """Normalise a report's text (its first MAX_TEXT_CHARS characters); tokens come from underthesea word
    segmentation (compounds joined by space)."""
    normalized = nfc(text[:MAX_TEXT_CHARS])
    lowered = normalized.casefold()
    try:
        words = [w for w in word_tokenize(normalized) if _SYLLABLE.search(w)]
    except Exception:  # noqa: BLE001 - fall back to syllables if segmentation fails on odd input
        words = _SYLLABLE.findall(normalized)
    syllables: list[Syllable] = []
    tokens: list[str] = []
    for index, word in enumerate(words):
        parts = [p[:MAX_SYLLABLE_CHARS] for p in _SYLLABLE.findall(word.casefold())]
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


def find_phrase(text: NormalizedText, phrase: tuple[str, ...], *, fuzzy: bool = True) -> bool:
    """True if `phrase` occurs as whole syllables; see `matches_at` for what is forgiven."""
    return first_match(text, phrase, fuzzy=fuzzy) is not None


def first_match(text: NormalizedText, phrase: tuple[str, ...], *, fuzzy: bool = True) -> int | None:
    """Index of the first syllable where `phrase` matches, or None."""
    n = len(phrase)
    if n == 0:
        return None
    folded = tuple(fold(p) for p in phrase)
    sylls = text.syllables
    allow = 1 if fuzzy and n > 1 else 0
    for i in text.positions.get(folded[0], ()):
        if i + n <= len(sylls) and matches_at(sylls, i, phrase, folded, typos=allow):
            return i
    return None


def _same(s: Syllable, written: str, folded: str) -> bool:
    if s.folded == folded:
        # Marks left out are forgiven ("tụ tâp" for «tụ tập»); marks added or different are not ("đạt" ≠ «đất»).
        return s.text == written or marks(s.text) <= marks(written)
    return s.plain == folded and s.text == s.folded


def _typo(s: Syllable, folded: str, written: str) -> bool:
    if len(folded) < FUZZY_MIN_CHARS or len(s.plain) < FUZZY_MIN_CHARS or s.plain == folded:
        return False  # same letters with other marks is another word ("gia đình" is not «giả định»), not a typo
    if not marks(s.text) <= marks(written):
        return False
    return OSA.distance(s.plain, folded, score_cutoff=1) <= 1


def matches_at(
    sylls: tuple[Syllable, ...], i: int, phrase: tuple[str, ...], folded: tuple[str, ...], *, typos: int = 0
) -> bool:
    """Match at position i: each syllable equal once folded, carrying the phrase's diacritics, some of them, or
    none (so unaccented typing and a forgotten tone mark match, but "đạt" never matches «đất»); telex leftovers
    repaired; up to `typos` syllables of a multi-syllable phrase one edit away. A one-syllable phrase must be
    written with its marks (at most one left out) and be a whole word, so «đất» does not match inside
    "đất nước" and "don" does not match «đồn»."""
    n = len(phrase)
    left = typos
    if n == 1:
        # One syllable written without its marks is ambiguous ("don" is đơn, đồn or đón): it must be written as is.
        s = sylls[i]
        exact = s.text == phrase[0] or (
            s.folded == folded[0] and s.text != s.folded and marks(s.text) <= marks(phrase[0])
        )
        return exact and s.word_len == 1
    for k in range(n):
        s = sylls[i + k]
        if _same(s, phrase[k], folded[k]):
            continue
        if left and k > 0 and _typo(s, folded[k], phrase[k]):
            left -= 1
            continue
        return False
    return True


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
