"""Successor links of units: every stored form read as a list, and the checks made before a write."""

from __future__ import annotations

from datetime import date

from pulse_intake.handlers.registry import link_codes, successors, unit_link_problems
from pulse_libs.events import intake as ev

TODAY = date(2026, 12, 1)


def _unit(code: str, *links: tuple[str, str | None], parent: str | None = None) -> dict[str, object]:
    return {
        "code": code,
        "name": f"Xã {code}",
        "kind": "commune",
        "parent_code": parent,
        "replaced_by": [{"code": c, "since": s} for c, s in links],
    }


def test_every_stored_form_reads_as_a_list_of_links() -> None:
    assert successors(None) == []
    assert successors([]) == []
    assert successors("04252") == [{"code": "04252", "since": None}]
    assert successors([{"code": "04252", "since": date(2025, 7, 1)}]) == [{"code": "04252", "since": "2025-07-01"}]
    assert link_codes(_unit("132", ("04252", "2025-07-01"), ("04279", "2025-07-01"), parent="15")) == [
        "15",
        "04252",
        "04279",
    ]


def test_the_event_reads_older_single_code_links() -> None:
    old = ev.UnitUpserted.model_validate({"code": "132", "name": "Thành phố Yên Bái (cũ)", "kind": "district",
                                          "replaced_by": "04252"})  # fmt: skip
    assert old.replaced_by == [ev.UnitSuccessor(code="04252", since=None)]
    assert (
        ev.UnitUpserted.model_validate({"code": "1", "name": "A", "kind": "ward", "replaced_by": None}).replaced_by
        == []
    )
    new = ev.UnitUpserted(code="132", name="A", kind="district", replaced_by=[{"code": "04252", "since": "2025-07-01"}])
    assert new.model_dump()["replaced_by"] == [{"code": "04252", "since": "2025-07-01"}]  # a string in the store too


def test_a_valid_split_has_no_problem() -> None:
    units = [_unit("132", ("04252", "2025-07-01"), ("04279", "2025-07-01"), parent="15")]
    assert unit_link_problems(units, {"15", "04252", "04279"}, links={}, today=TODAY) == []


def test_unknown_self_twice_and_implausible_dates() -> None:
    units = [_unit("132", ("88888", "2025-07-01"), ("132", "2025-07-01"), ("04252", "2025-07-01"),
                   ("04252", "2025-07-01"), ("04279", "2028-01-01"), ("04273", "1900-01-01"))]  # fmt: skip
    problems = {(p["field"], p["message"].split(" ")[0]) for p in unit_link_problems(
        units, {"04252", "04279", "04273"}, links={}, today=TODAY)}  # fmt: skip
    assert problems == {
        ("replaced_by.0.code", "unknown"),
        ("replaced_by.1.code", "a"),
        ("replaced_by.3.code", "successor"),
        ("replaced_by.4.since", "must"),
        ("replaced_by.5.since", "must"),
    }
    # A merger resolved months ahead is fine.
    ahead = [_unit("132", ("04252", "2027-06-30"))]
    assert unit_link_problems(ahead, {"04252"}, links={}, today=TODAY) == []


def test_cycles_through_the_store_and_the_batch() -> None:
    stored = {"a": {"replaced_by": [{"code": "b", "since": None}]}, "b": {"replaced_by": "c"}}
    problems = unit_link_problems([_unit("c", ("a", "2025-07-01"))], {"a", "b"}, links=stored, today=TODAY)
    assert problems == [{"field": "replaced_by", "message": "a cycle: c → a → b → c"}]
    parents = {"15": {"parent_code": "x"}}
    problems = unit_link_problems([_unit("x", parent="15")], {"15"}, links=parents, today=TODAY)
    assert problems == [{"field": "parent_code", "message": "a cycle: x → 15 → x"}]
    # A diamond (two successors that merge again later) is not a cycle.
    stored = {
        "b": {"replaced_by": [{"code": "d", "since": None}]},
        "c": {"replaced_by": [{"code": "d", "since": None}]},
    }
    assert unit_link_problems([_unit("a", ("b", None), ("c", None))], {"b", "c", "d"}, links=stored, today=TODAY) == []
