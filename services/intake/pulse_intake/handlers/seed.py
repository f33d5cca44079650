"""Start-up seeding (idempotent): the first admin, the configured province's 2025 units and the default topics."""

from __future__ import annotations

import json
import logging
import unicodedata
import uuid
from importlib import resources
from typing import Any

from pulse_libs.clock import utcnow
from vietnam_provinces import Province, Ward

from pulse_intake.adapters.passwords import hash_password
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.handlers.registry import upsert_topic, upsert_unit

log = logging.getLogger(__name__)

LAO_CAI = "Lào Cai"
KIND_BY_DIVISION = {"phường": "ward", "xã": "commune", "đặc khu": "town", "tỉnh": "province"}


class UnknownProvince(ValueError):
    """The configured province is not one of the 34 of the 2025 structure."""


def find_province(name_or_code: str) -> Province:
    """A province of `vietnam-provinces` by its GSO code (`15`, `1`) or its name with or without the division word
    (`Lào Cai`, `Thành phố Hà Nội`); case and Unicode form do not matter."""
    wanted = unicodedata.normalize("NFC", name_or_code).strip().casefold()
    for province in Province.iter_all():
        name = province.name.casefold()
        names = {name, name.removeprefix("thành phố "), f"tỉnh {name}"}
        if wanted in names or (wanted.isdigit() and int(wanted) == int(province.code)):
            return province
    raise UnknownProvince(f"no province {name_or_code!r} in vietnam-provinces (2025 structure: 34 provinces)")


def province_units(name_or_code: str = LAO_CAI) -> list[dict[str, Any]]:
    """A province and its wards and communes (2025 structure, official GSO codes); Lào Cai has 99."""
    province = find_province(name_or_code)
    pcode = f"{int(province.code):02d}"
    title = province.name if province.name.startswith("Thành phố") else f"Tỉnh {province.name}"
    units: list[dict[str, Any]] = [
        {"code": pcode, "name": title, "kind": "province", "parent_code": None, "replaced_by": None}
    ]
    for ward in sorted(Ward.iter_by_province(province.code), key=lambda w: int(w.code)):
        units.append(
            {
                "code": f"{int(ward.code):05d}",
                "name": ward.name,
                "kind": KIND_BY_DIVISION.get(ward.division_type.value, "commune"),
                "parent_code": pcode,
                "replaced_by": None,
            }
        )
    return units


def lao_cai_units() -> list[dict[str, Any]]:
    """Lào Cai province and its 99 wards and communes (the demo province)."""
    return province_units(LAO_CAI)


def _data(name: str) -> list[dict[str, Any]]:
    text = resources.files("pulse_intake.data").joinpath(name).read_text(encoding="utf-8")
    value: list[dict[str, Any]] = json.loads(text)
    return value


def default_topics() -> list[dict[str, Any]]:
    """The default Vietnamese topic taxonomy shipped with the service."""
    return _data("topics.json")


def legacy_units() -> list[dict[str, Any]]:
    """Pre-2025 district-level units kept for history, each linked to its successor."""
    return _data("legacy_units.json")


async def seed_registry(*, store: IntakeStore, province: str = LAO_CAI) -> int:
    """Upsert the province's units (with the shipped legacy units that belong to it) and the topics; return how
    many changed."""
    units = province_units(province)
    legacy = [u for u in legacy_units() if u["parent_code"] == units[0]["code"]]
    changed = 0
    for unit in units + legacy:
        changed += (await upsert_unit(store=store, unit=unit)) != "unchanged"
    for topic in default_topics():
        changed += (await upsert_topic(store=store, topic=topic)) != "unchanged"
    return changed


async def seed_admin(*, store: IntakeStore, username: str, password: str) -> bool:
    """Create the first admin unless a user of that name exists; True if created."""
    if await store.users.by_username(username) is not None:
        return False
    # insert_one, not an upsert with $setOnInsert: FerretDB 1.24 drops empty arrays and nulls from $setOnInsert.
    doc: dict[str, Any] = {
        "_id": uuid.uuid4().hex,
        "username": username,
        "password_hash": await hash_password(password),
        "full_name": "Quản trị hệ thống",
        "role": "admin",
        "unit_codes": [],
        "phone": None,
        "email": None,
        "created_at": utcnow(),
    }
    if not await store.users.insert(doc):  # another replica created it first
        return False
    log.info("first admin created", extra={"username": username})
    return True
