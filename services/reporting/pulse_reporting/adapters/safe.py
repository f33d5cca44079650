"""Make any text safe to write into an export: never a formula, never a character the file format rejects.

Names of topics, units, orientations and surveys, survey answers, hot-spot outcomes and directive
instructions are written by people. A spreadsheet treats a cell starting with `=`, `+`, `-`, `@`,
a tab or a carriage return as a formula (CSV injection, OWASP); XML 1.0 (XLSX, DOCX) cannot hold
C0 control characters, lone surrogates or U+FFFE/U+FFFF, and openpyxl/lxml raise on them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """NFC text without the characters XML 1.0 cannot carry (tab and newline kept, CR becomes a newline)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _ILLEGAL_XML.sub("", text))


def defuse(text: str) -> str:
    """A text that no spreadsheet reads as a formula: a leading formula character gets an apostrophe before it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> Any:
    """A CSV field: numbers stay numbers, every text is cleaned and defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int | float):
        return value
    return defuse(clean_text(str(value)))


def xlsx_cell(value: Any) -> tuple[Any, bool]:
    """The value for an openpyxl cell and whether it must be forced to a string (a text that looks like a formula).

    Starting a text with `'` would show the apostrophe; the cell is instead stored as a shared string
    with Excel's quote prefix, so it shows `=1+1` as written and stays text when edited.
    """
    if value is None:
        return None, False
    if isinstance(value, bool):
        return ("Có" if value else "Không"), False
    if isinstance(value, int | float | datetime | date):
        return value, False
    text = clean_text(str(value))
    return text, text.startswith(FORMULA_STARTS)
