"""Demo data for `make run`: the duty rota of the department's officers.

The people notify pages are intake's users (its demo seeds them, and they reach notify through
`intake.directory.v1`), so this demo enters nobody twice: it waits until the department's users are
in notify's directory, then sets a week of 12-hour shifts (07:00–19:00 and 19:00–07:00,
Asia/Ho_Chi_Minh) alternating between them, so level 1 of an escalation pages only the officer on
duty. Idempotent (the rota is replaced). Run it with `python -m pulse_notify.demo` once notify is up.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
ZONE = "Asia/Ho_Chi_Minh"


def rota_body(user_ids: list[str], start: date, days: int = 7) -> dict[str, Any]:
    """Shifts 07:00–19:00 and 19:00–07:00 for `days` days from `start`, taking the officers in turn."""
    tz = ZoneInfo(ZONE)
    shifts: list[dict[str, Any]] = []
    begin = datetime(start.year, start.month, start.day, 7, tzinfo=tz) - timedelta(hours=12)
    for i in range(days * 2 + 1):
        a = begin + timedelta(hours=12 * i)
        shifts.append(
            {
                "user_id": user_ids[i % len(user_ids)],
                "starts_at": a.isoformat(),
                "ends_at": (a + timedelta(hours=12)).isoformat(),
            }
        )
    return {"timezone": ZONE, "shifts": shifts, "overrides": []}


async def duty_officers(client: httpx.AsyncClient, wait_seconds: float) -> list[str]:
    """User ids of the duty officers that came from intake (waiting for the directory events)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        page = (await client.get("/v1/recipients", params={"target": "duty_officer", "limit": "500"})).json()
        ids = sorted(r["user_id"] for r in page["items"] if r.get("user_id") and r["active"])
        if ids or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(1.0)


async def load(settings: NotifySettings, base_url: str, wait_seconds: float = 60) -> int:
    """Set the demo rota; return how many officers it names (0: intake's users have not arrived)."""
    token, _ = issue_token(settings, user_id="demo-admin", username="demo-admin", role="admin", unit_codes=[])
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        officers = await duty_officers(client, wait_seconds)
        if not officers:
            return 0
        today = datetime.now(ZoneInfo(ZONE)).date()
        (await client.put("/v1/rotas/duty_officer", json=rota_body(officers, today))).raise_for_status()
        return len(officers)


def main() -> int:
    """Set the demo duty rota in the running notify service."""
    settings = NotifySettings()
    if settings.production:
        print("refusing to load demo data in production", file=sys.stderr)
        return 1
    officers = asyncio.run(load(settings, f"http://{settings.host}:{settings.port}"))
    if not officers:
        print(
            "notify demo: no duty officer from intake yet, no rota set (run pulse_intake.demo first)", file=sys.stderr
        )
        return 0  # make run goes on: without a rota every duty officer is paged
    print(f"notify demo: duty rota of 7 days set for {officers} department officers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
