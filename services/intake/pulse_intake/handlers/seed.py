"""Start-up seeding (idempotent): the first admin, the Lào Cai units of 2025 and the default topics."""

from __future__ import annotations

import json
import logging
import uuid
from importlib import resources
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.store import Database
from pymongo.errors import DuplicateKeyError
from vietnam_provinces import Province, Ward

from pulse_intake.adapters.passwords import hash_password
from pulse_intake.adapters.store import USERS
from pulse_intake.handlers.registry import upsert_topic, upsert_unit

log = logging.getLogger(__name__)

LAO_CAI = "Lào Cai"
KIND_BY_DIVISION = {"phường": "ward", "xã": "commune", "đặc khu": "town", "tỉnh": "province"}


def lao_cai_units() -> list[dict[str, Any]]:
    """Lào Cai province and its 99 wards and communes (2025 structure, official GSO codes)."""
    province = next(p for p in Province.iter_all() if p.name == LAO_CAI)
    pcode = f"{int(province.code):02d}"
    units: list[dict[str, Any]] = [
        {"code": pcode, "name": "Tỉnh Lào Cai", "kind": "province", "parent_code": None, "replaced_by": None}
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


async def seed_registry(*, db: Database) -> int:
    """Upsert the shipped units and topics; return how many changed."""
    changed = 0
    for unit in lao_cai_units() + legacy_units():
        changed += (await upsert_unit(db=db, unit=unit)) != "unchanged"
    for topic in default_topics():
        changed += (await upsert_topic(db=db, topic=topic)) != "unchanged"
    return changed


async def seed_admin(*, db: Database, username: str, password: str) -> bool:
    """Create the first admin unless a user of that name exists; True if created."""
    if await db[USERS].find_one({"username": username}) is not None:
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
    try:
        await db[USERS].insert_one(doc)
    except DuplicateKeyError:  # another replica created it first
        return False
    log.info("first admin created", extra={"username": username})
    return True
