"""Unit history in the figures, through real Kafka and the real store: a legacy unit's reports under its
successors (a split unit's under every one), a chain of mergers, the `since` day, and `?rollup=parent`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pulse_libs.events.intake as intake
import pytest
from pulse_libs.events import topics

from tests.integration.reporting.helpers import (
    AU_LAU,
    NAM_CUONG,
    UNITS,
    VAN_PHU,
    YEN_BAI,
    Published,
    Reporting,
    at,
    fed,
    submitted,
)

WARDS = (YEN_BAI, VAN_PHU, NAM_CUONG, AU_LAU)
OLD_CITY, OLD_DISTRICT, OLDER_COMMUNE = "132", "136", "90132"
SINCE = "2025-07-01"
RANGE = {"from": "2025-06-01", "to": "2025-07-31"}


def _unit(out: Published, code: str, name: str, kind: str, parent: str | None, links: list[Any] | None = None) -> None:
    data = intake.UnitUpserted(code=code, name=name, kind=kind, parent_code=parent, replaced_by=links)  # type: ignore[arg-type]
    out.add(topics.INTAKE_REGISTRY, intake.UNIT_UPSERTED, data, code)


def history() -> Published:
    """Lào Cai's four wards that were Yên Bái city until 1 July 2025, the old city split into them, an older
    commune merged into the city on 15 June 2025, a legacy district without successors, and six reports."""
    out = Published()
    _unit(out, "15", "Tỉnh Lào Cai", "province", None)
    for code in WARDS:
        _unit(out, code, UNITS[code], "ward", "15")
    _unit(out, OLD_CITY, "Thành phố Yên Bái (cũ)", "district", "15", [{"code": c, "since": SINCE} for c in WARDS])
    _unit(out, OLD_DISTRICT, "Huyện Trấn Yên (cũ)", "district", "15", [])
    # An event written before links were lists: one bare code, no date.
    _unit(out, OLDER_COMMUNE, "Xã Thử Sáp Nhập (cũ)", "commune", OLD_CITY, OLD_CITY)  # type: ignore[arg-type]
    submitted(out, "h1", unit=OLD_CITY, observed=at("2025-06-20"), reporter="u-ctv-1")  # before the split
    submitted(out, "h2", unit=OLD_CITY, observed=at("2025-07-10"), reporter="u-ctv-1")  # after: stays filed
    submitted(out, "h3", unit=YEN_BAI, observed=at("2025-07-02"), reporter="u-ctv-2")
    submitted(out, "h4", unit=VAN_PHU, observed=at("2025-06-25"), reporter="u-ctv-3")
    submitted(out, "h5", unit=OLDER_COMMUNE, observed=at("2025-06-10"), reporter="u-ctv-4")  # two mergers on
    submitted(out, "h6", unit=OLD_DISTRICT, observed=at("2025-06-20"), reporter="u-ctv-5")
    return out


EVENTS = history().events


@pytest.fixture(scope="module")
async def svc(infra: None) -> AsyncIterator[Reporting]:
    async with fed(EVENTS) as svc:
        yield svc


async def _get(svc: Reporting, path: str, role: str = "department", units: tuple[str, ...] = (), **params: str) -> Any:
    response = await svc.client.get(path, params={**RANGE, **params}, headers=svc.headers(role, units))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_split_units_reports_count_under_every_successor_and_once_in_the_total(svc: Reporting) -> None:
    body = await _get(svc, "/v1/stats/summary")
    assert body["rollup"] == "successor"
    assert body["reports"] == 6
    # h1 (old city before the split) and h5 (older commune → old city → four wards) count under each ward;
    # h2 was filed against the old city after the split and stays there; the district without successors too.
    assert body["by_unit"] == {YEN_BAI: 3, VAN_PHU: 3, NAM_CUONG: 2, AU_LAU: 2, OLD_CITY: 1, OLD_DISTRICT: 1}
    assert body["by_urgency"] == {"unknown": 6}


async def test_as_filed_and_up_the_parent_chain(svc: Reporting) -> None:
    filed = await _get(svc, "/v1/stats/summary", rollup="none")
    assert filed["by_unit"] == {OLD_CITY: 2, OLDER_COMMUNE: 1, OLD_DISTRICT: 1, VAN_PHU: 1, YEN_BAI: 1}
    assert filed["reports"] == 6
    up = await _get(svc, "/v1/stats/summary", rollup="parent")
    assert up["reports"] == 6
    assert up["by_unit"] == {
        "15": 6,
        YEN_BAI: 3,
        VAN_PHU: 3,
        AU_LAU: 2,
        NAM_CUONG: 2,
        OLD_CITY: 1,
        OLD_DISTRICT: 1,
    }
    province = await _get(svc, "/v1/stats/summary", unit_code="15", rollup="parent")
    assert (province["reports"], province["by_unit"]["15"]) == (6, 6)
    # Without the parent chain a province has only what was filed against it: nothing.
    assert (await _get(svc, "/v1/stats/summary", unit_code="15"))["reports"] == 0


async def test_one_successor_and_the_legacy_code_itself(svc: Reporting) -> None:
    ward = await _get(svc, "/v1/stats/summary", unit_code=YEN_BAI)
    assert (ward["reports"], ward["by_unit"]) == (3, {YEN_BAI: 3})
    old = await _get(svc, "/v1/stats/summary", unit_code=OLD_CITY)
    assert (old["reports"], old["by_unit"]) == (1, {OLD_CITY: 1})  # h1 belongs to the wards now
    assert (await _get(svc, "/v1/stats/summary", unit_code=OLD_CITY, rollup="none"))["reports"] == 2
    trend = await _get(svc, "/v1/stats/trends", unit_code=YEN_BAI, granularity="day")
    per_day = {item["bucket"]: item["reports"] for item in trend["items"] if item["reports"]}
    assert per_day == {"2025-06-10": 1, "2025-06-20": 1, "2025-07-02": 1}
    assert trend["rollup"] == "successor"


async def test_a_ward_officer_sees_the_old_citys_reports_but_never_another_wards(svc: Reporting) -> None:
    mine = await _get(svc, "/v1/stats/summary", role="unit_officer", units=(VAN_PHU,))
    assert (mine["reports"], mine["by_unit"]) == (3, {VAN_PHU: 3})
    up = await _get(svc, "/v1/stats/summary", role="unit_officer", units=(VAN_PHU,), rollup="parent")
    assert up["by_unit"] == {VAN_PHU: 3}  # the province above is not theirs
    outside = await svc.client.get(
        "/v1/stats/summary",
        params={**RANGE, "unit_code": "15", "rollup": "parent"},
        headers=svc.headers("unit_officer", [VAN_PHU]),
    )
    assert outside.status_code == 404
    assert outside.headers["content-type"].startswith("application/problem+json")


async def test_a_bad_rollup_is_a_problem(svc: Reporting) -> None:
    response = await svc.client.get(
        "/v1/stats/summary", params={**RANGE, "rollup": "grandparent"}, headers=svc.headers("department")
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_periodic_report_rolls_up_live_and_frozen(svc: Reporting) -> None:
    # Period 2025-07 runs 15 June – 14 July 2025: h1, h2, h3, h4 and h6.
    live = await _get(svc, "/v1/periodic-reports/2025-07")
    assert live["totals"]["reports"] == 5
    assert live["totals"]["by_unit"] == {YEN_BAI: 2, VAN_PHU: 2, NAM_CUONG: 1, AU_LAU: 1, OLD_CITY: 1, OLD_DISTRICT: 1}
    closed = await svc.client.post("/v1/periods/2025-07/close", headers=svc.headers("department"))
    assert closed.status_code == 201, closed.text
    assert closed.json()["reports"] == 5
    # A ward officer's briefing of the closed period is built from the frozen rows of their units.
    frozen = await _get(svc, "/v1/periodic-reports/2025-07", role="unit_officer", units=(VAN_PHU,))
    assert frozen["frozen"] is True
    assert (frozen["totals"]["reports"], frozen["totals"]["by_unit"]) == (2, {VAN_PHU: 2})
    # The previous period (15 May – 14 June) holds h5, rolled through two mergers.
    assert frozen["previous"]["reports"] == 1
