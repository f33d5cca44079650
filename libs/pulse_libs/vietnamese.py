"""Vietnamese text, written once for every service: NFC, diacritic folding, and the urgency labels.

Folding maps a text to the same letters without diacritics (đ→d, Đ→D), so "Hỏa tốc", "Hoả tốc" and
"Hoa toc" meet: search (`search_key`), accent-free brandname SMS (`fold`) and fuzzy matching in
triage all use this one definition.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")

URGENCY_LABELS: dict[str, str] = {
    "routine": "thường",
    "urgent": "khẩn",
    "very_urgent": "thượng khẩn",
    "flash": "hỏa tốc",
}
"""The four levels' names in official Vietnamese practice (lower case, as inside a sentence)."""


def nfc(text: str) -> str:
    """Unicode NFC, the one form Vietnamese text is stored and sent in."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """The text without Vietnamese diacritics, case kept: 'Đất đai' → 'Dat dai'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def search_key(text: str) -> str:
    """Lower-cased, folded and with whitespace collapsed, for diacritic-insensitive search: 'Đất  Đai' → 'dat dai'."""
    return _SPACES.sub(" ", fold(text.casefold())).strip()


def urgency_label(urgency: str, *, capitalised: bool = False) -> str:
    """The Vietnamese name of an urgency level ('flash' → 'hỏa tốc', or 'Hỏa tốc' at the start of a line)."""
    label = URGENCY_LABELS[urgency]
    return label[0].upper() + label[1:] if capitalised else label
