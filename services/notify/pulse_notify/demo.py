"""Demo data for `make run`: Vietnamese-named recipients of each level and collaborators of four Lào Cai wards.

Idempotent (recipients are matched by name). Harmless by design: contacts are `example.invalid`
addresses and test phone numbers, and no Zalo id or webhook is set, so with the default settings
(SMTP on 127.0.0.1:25, SMS gateway on the discard port) deliveries are recorded, retried with
backoff and end `dead` — visible in GET /v1/deliveries — without anything leaving the machine.
Run it with `python -m pulse_notify.demo` once the notify service is up.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx
from pulse_libs.auth import issue_token

from pulse_notify.settings import NotifySettings

# GSO codes (vietnam-provinces 2025.10.1, Lào Cai province); the area of the former Yên Bái city.
WARDS = {
    "04252": "Phường Yên Bái",
    "04279": "Phường Văn Phú",
    "04273": "Phường Nam Cường",
    "04543": "Phường Âu Lâu",
}

RECIPIENTS: list[dict[str, Any]] = [
    {"name": "Nguyễn Văn Trực", "targets": ["duty_officer"], "mail": "truc.ban", "phone": "+84900000001"},
    {"name": "Trần Thị Thu Hà", "targets": ["department_head"], "mail": "truong.ban", "phone": "+84900000002"},
    {"name": "Lê Quang Vinh", "targets": ["standing_committee"], "mail": "ban.thuong.vu", "phone": "+84900000003"},
    {"name": "Hoàng Văn Minh", "targets": ["collaborator"], "units": ["04252"], "mail": "ctv.yenbai"},
    {"name": "Phạm Thị Hương", "targets": ["collaborator"], "units": ["04279"], "mail": "ctv.vanphu"},
    {"name": "Đỗ Thị Mai", "targets": ["collaborator"], "units": ["04273"], "mail": "ctv.namcuong"},
    {"name": "Vũ Văn Nam", "targets": ["collaborator"], "units": ["04543"], "mail": "ctv.aulau"},
]


def recipient_body(spec: dict[str, Any]) -> dict[str, Any]:
    """The POST /v1/recipients body of a demo recipient."""
    channels = {"email": f"{spec['mail']}@example.invalid"}
    if "phone" in spec:
        channels["phone"] = spec["phone"]
    return {"name": spec["name"], "targets": spec["targets"], "unit_codes": spec.get("units", []), "channels": channels}


async def existing_names(client: httpx.AsyncClient) -> set[str]:
    """Names of the recipients already there."""
    names: set[str] = set()
    cursor: str | None = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/recipients", params=params)).raise_for_status().json()
        names.update(r["name"] for r in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return names


async def load(settings: NotifySettings, base_url: str) -> int:
    """Create the missing demo recipients; return how many were created."""
    token, _ = issue_token(settings, user_id="demo-admin", username="demo-admin", role="admin", unit_codes=[])
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        have = await existing_names(client)
        created = 0
        for spec in RECIPIENTS:
            if spec["name"] not in have:
                (await client.post("/v1/recipients", json=recipient_body(spec))).raise_for_status()
                created += 1
        return created


def main() -> int:
    """Load the demo recipients into the running notify service."""
    settings = NotifySettings()
    if settings.production:
        print("refusing to load demo data in production", file=sys.stderr)
        return 1
    created = asyncio.run(load(settings, f"http://{settings.host}:{settings.port}"))
    print(f"notify demo: {created} recipients created, {len(RECIPIENTS) - created} already there")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
