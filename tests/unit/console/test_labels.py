"""Unit names on the console's pages come from the GSO registry: a ward, or a province (a parent hot spot's unit)."""

from __future__ import annotations

from pulse_console.labels import unit_name


def test_a_ward_and_a_province_are_named_and_an_unknown_code_is_shown_as_it_is() -> None:
    assert unit_name("02674") == "Phường Cam Đường"
    assert unit_name("15") == "Lào Cai"  # a province-wide parent hot spot's heading, not its code
    assert unit_name("99") == "99"
    assert unit_name("khong-ro") == "khong-ro"
    assert unit_name(None) == "—"
