"""The one Vietnamese folding every service uses."""

from __future__ import annotations

import unicodedata

import pytest
from pulse_libs.vietnamese import URGENCY_LABELS, fold, nfc, search_key, urgency_label


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đất đai", "Dat dai"),
        ("Hỏa tốc", "Hoa toc"),
        ("hoả tốc", "hoa toc"),
        ("Thượng khẩn", "Thuong khan"),
        ("Giải phóng mặt bằng", "Giai phong mat bang"),
        ("plain ascii 123", "plain ascii 123"),
    ],
)
def test_fold_removes_every_diacritic_and_keeps_case(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFD", text)) == folded


def test_search_key_meets_every_spelling_of_one_phrase() -> None:
    spellings = [
        "Tụ tập  đông người",
        "TỤ TẬP ĐÔNG NGƯỜI",
        "tu tap dong nguoi",
        unicodedata.normalize("NFD", "tụ tập đông người"),
    ]
    assert {search_key(s) for s in spellings} == {"tu tap dong nguoi"}


def test_nfc_composes() -> None:
    assert nfc(unicodedata.normalize("NFD", "Phường Yên Bái")) == "Phường Yên Bái"


def test_urgency_labels() -> None:
    assert urgency_label("flash") == "hỏa tốc"
    assert urgency_label("very_urgent", capitalised=True) == "Thượng khẩn"
    assert set(URGENCY_LABELS) == {"routine", "urgent", "very_urgent", "flash"}
