"""Vietnamese text helpers: NFC normalisation and a diacritic-folded copy for search."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """Return `value` in Unicode NFC with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value).strip()


def fold(value: str) -> str:
    """Lower-case, strip diacritics (đ→d) and collapse whitespace: 'Đất đai' → 'dat dai'."""
    decomposed = unicodedata.normalize("NFD", value.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.replace("đ", "d")).strip()


def search_terms(query: str) -> list[str]:
    """Split a search query into folded words (every word must match)."""
    return [w for w in fold(query).split(" ") if w]
