"""The registry seed takes any of the 34 provinces of `vietnam-provinces` from settings; Lào Cai stays the default."""

from __future__ import annotations

import pytest
from pulse_intake.handlers.seed import LAO_CAI, UnknownProvince, find_province, province_units
from pulse_intake.settings import IntakeSettings


def test_the_demo_province_is_the_default() -> None:
    assert IntakeSettings().registry_province == LAO_CAI
    units = province_units()
    assert units[0] == {"code": "15", "name": "Tỉnh Lào Cai", "kind": "province", "parent_code": None,
                        "replaced_by": None}  # fmt: skip
    wards = {u["code"]: u["name"] for u in units[1:]}
    assert len(wards) == 99
    assert wards["04252"] == "Phường Yên Bái"


@pytest.mark.parametrize(("given", "code", "name", "count"), [
    ("Hà Nội", "01", "Thành phố Hà Nội", 126),
    ("Thành phố Hồ Chí Minh", "79", "Thành phố Hồ Chí Minh", 168),
    ("04", "04", "Tỉnh Cao Bằng", 56),
    ("tỉnh cao bằng", "04", "Tỉnh Cao Bằng", 56),
])  # fmt: skip
def test_any_province_by_name_or_code(given: str, code: str, name: str, count: int) -> None:
    units = province_units(given)
    assert (units[0]["code"], units[0]["name"]) == (code, name)
    assert len(units) - 1 == count
    assert all(u["parent_code"] == code and len(u["code"]) == 5 for u in units[1:])


def test_an_unknown_province_is_refused_clearly() -> None:
    with pytest.raises(UnknownProvince, match="Yên Bái"):
        find_province("Yên Bái")  # merged into Lào Cai in 2025
