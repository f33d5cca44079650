"""A province's month of reports replayed at many times real speed, for docs/SCALING.md.

Volume (our estimate, stated in docs/SCALING.md): Lào Cai has 99 wards and communes; with about
eight collaborators each reporting two or three times a week, a month brings about 9,000-10,000
reports, most of them routine, a few per cent urgent and a handful flash. The replay submits
`PULSE_BENCH_REPLAY_REPORTS` such reports (default 6,000) spread over one Decree 09 month, as
offline phones do (`POST /v1/reports:batch`, 100 per request, 4 phones at once), and follows them
until reporting has counted every one. At checkpoints it records the time, the CPU of every process
(services, FerretDB, PostgreSQL with all its backends, Kafka) and the store's size on disk, so the
cost per report can be read as the volume grows.

Run alone: `uv run python -m benchmarks.bench_scaling`.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from vietnam_provinces import Ward

from benchmarks.baseline import raw_store_inserts_per_second
from benchmarks.bench_system import cpu_by_service
from tests.support.pulse_system import SERVICES, PulseSystem, service_of

ROOT = Path(__file__).resolve().parent.parent
REPORTS = int(os.environ.get("PULSE_BENCH_REPLAY_REPORTS", "6000"))
CHECKPOINTS = 5
UNITS = sorted(f"{int(w.code):05d}" for w in Ward.iter_by_province(15))
TOPICS = ["giai-phong-mat-bang", "dat-dai", "gia-ca", "moi-truong", "y-te", "giao-duc", "giao-thong", "lao-dong"]
ROUTINE = [
    "Người dân tổ {n} đề nghị sửa chữa đường nội thôn đã xuống cấp sau mùa mưa.",
    "Bà con phản ánh giá thực phẩm dịp cuối năm tăng, mong có biện pháp bình ổn.",
    "Một số hộ hỏi về tiến độ cấp giấy chứng nhận quyền sử dụng đất ở thôn {n}.",
    "Phụ huynh góp ý về khoản thu đầu năm của trường tiểu học, đề nghị công khai.",
    "Người dân đánh giá cao việc khám chữa bệnh bảo hiểm y tế tại trạm y tế phường.",
]
URGENT = "Khoảng {n} hộ dân ký đơn phản đối mức bồi thường giải phóng mặt bằng, chuẩn bị gửi lên phường."
FLASH = "Hàng trăm người dân tụ tập chặn đường phản đối cưỡng chế giải phóng mặt bằng, có xô xát."


def month_window(now: datetime) -> tuple[datetime, datetime]:
    """The last 28 days before now (a reporting month's worth of observation times)."""
    return now - timedelta(days=28), now - timedelta(minutes=5)


def report(n: int, rng: random.Random, start: datetime, end: datetime) -> dict[str, Any]:
    """One realistic report: skewed units, mostly routine, observed somewhere in the month."""
    unit = UNITS[min(len(UNITS) - 1, int(rng.paretovariate(1.2)) - 1)] if rng.random() < 0.6 else rng.choice(UNITS)
    observed = start + (end - start) * rng.random()
    roll = rng.random()
    content = FLASH if roll < 0.005 else URGENT.format(n=rng.randint(5, 40)) if roll < 0.05 else None
    return {
        "unit_code": unit,
        "channel": rng.choice(["zalo", "zalo", "phone", "meeting", "written"]),
        "title": f"Phản ánh của cộng tác viên số {n}",
        "content": content or rng.choice(ROUTINE).format(n=n % 40),
        "observed_at": observed.isoformat(),
        "topic_codes": [rng.choice(TOPICS)],
        "sentiment": rng.choice(["neutral", "negative", "positive", "neutral"]),
        "client_id": f"replay-{n}",
    }


def store_bytes() -> int:
    """Size on disk of the PostgreSQL database behind FerretDB."""
    port = os.environ.get("PULSE_PG_PORT", "54329")
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "pulse", "-d", "ferretdb", "-Atqc",
         "SELECT pg_database_size('ferretdb')"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return int(done.stdout.strip() or 0)


def counted(system: PulseSystem, headers: dict[str, str], start: datetime, end: datetime) -> int:
    params = {"from": start.date().isoformat(), "to": (end.date() + timedelta(days=1)).isoformat()}
    response = httpx.get(f"{system.url('reporting')}/v1/stats/summary", params=params, headers=headers, timeout=60)
    return int(response.json()["reports"]) if response.status_code == 200 else 0


async def submit(url: str, headers: dict[str, str], bodies: list[dict[str, Any]], phones: int = 4) -> int:
    batches = [bodies[i : i + 100] for i in range(0, len(bodies), 100)]
    accepted = 0

    async def phone(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while batches:
            batch = batches.pop()
            for _ in range(5):
                response = await client.post(f"{url}/v1/reports:batch", json={"reports": batch})
                if response.status_code == 200:
                    accepted += sum(1 for r in response.json()["results"] if r["status"] == 201)
                    break
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))

    async with httpx.AsyncClient(headers=headers, timeout=120) as client:
        await asyncio.gather(*(phone(client) for _ in range(phones)))
    return accepted


def measure() -> dict[str, Any]:
    system = PulseSystem(log_dir=ROOT / "var" / "bench-logs", base_port=18300, env={"PULSE_LOG_LEVEL": "WARNING"})
    try:
        system.start()
        intake = system.url("intake")
        admin = httpx.post(
            f"{intake}/v1/auth/token", data={"username": "admin", "password": "pulse-admin-dev-password"}
        ).json()["access_token"]
        httpx.post(
            f"{intake}/v1/users",
            json={"username": "replay.dept", "password": "Mat-khau-2026-replay", "full_name": "Phát lại",
                  "role": "department", "unit_codes": []},
            headers={"Authorization": f"Bearer {admin}"},
        ).raise_for_status()  # fmt: skip
        token = httpx.post(
            f"{intake}/v1/auth/token", data={"username": "replay.dept", "password": "Mat-khau-2026-replay"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(20261201)
        start, end = month_window(datetime.now(UTC))
        bodies = [report(n, rng, start, end) for n in range(REPORTS)]
        size_before = store_bytes()
        cpu_before = cpu_by_service(system)
        began = time.perf_counter()
        accepted = asyncio.run(submit(intake, headers, bodies))
        submitted_in = time.perf_counter() - began
        marks: list[dict[str, Any]] = []
        next_mark = 1
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            n = counted(system, headers, start, end)
            while next_mark <= CHECKPOINTS and n >= accepted * next_mark / CHECKPOINTS:
                marks.append({"counted": n, "at": time.perf_counter() - began, "cpu": cpu_by_service(system),
                              "bytes": store_bytes()})  # fmt: skip
                next_mark += 1
            if n >= accepted:
                break
            time.sleep(1.0)
        return {"accepted": accepted, "submitted_in": submitted_in, "marks": marks, "cpu_before": cpu_before,
                "size_before": size_before}  # fmt: skip
    finally:
        system.stop()
        system.drop_databases()


def main() -> str:
    """Measure and return the Markdown section."""
    f = measure()
    raw = asyncio.run(raw_store_inserts_per_second(1000))
    rows = []
    prev_counted, prev_at, prev_cpu, prev_bytes = 0, 0.0, f["cpu_before"], f["size_before"]
    for m in f["marks"]:
        n = max(1, m["counted"] - prev_counted)
        services = sum(m["cpu"][k] - prev_cpu.get(k, 0.0) for k in m["cpu"] if service_of(k) in SERVICES)
        infra = {k: m["cpu"][k] - prev_cpu.get(k, 0.0) for k in ("ferretdb", "postgres", "kafka") if k in m["cpu"]}
        rows.append(
            f"| {prev_counted:,}–{m['counted']:,} | {n / max(0.001, m['at'] - prev_at):,.1f} | "
            f"{services * 1000 / n:,.1f} | "
            + " | ".join(f"{infra.get(k, 0.0) * 1000 / n:,.1f}" for k in ("ferretdb", "postgres", "kafka"))
            + f" | {(m['bytes'] - prev_bytes) / n / 1024:,.1f} |"
        )
        prev_counted, prev_at, prev_cpu, prev_bytes = m["counted"], m["at"], m["cpu"], m["bytes"]
    total = f["marks"][-1]["at"] if f["marks"] else float("nan")
    month_seconds = 28 * 24 * 3600
    return (
        "## Scaling: a province's month replayed\n\n"
        f"{f['accepted']:,} reports observed over 28 days in Lào Cai's 99 wards and communes (skewed: a few wards "
        "send most), about 95% routine, 4.5% urgent, 0.5% flash, submitted as offline phones do (batches of 100, "
        f"4 phones at once) in {f['submitted_in']:,.0f} s, then followed until reporting counted all of them: "
        f"{total:,.0f} s end to end, {month_seconds / max(1.0, total):,.0f}× real speed. Raw store inserts/s in the "
        f"same run: {raw:,.0f}. Each row is one fifth of the volume, in the order reporting counted it.\n\n"
        "| reports counted | end-to-end reports/s | CPU ms/report, 4 services | FerretDB | PostgreSQL | Kafka "
        "| store KiB/report |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Command: `uv run python -m benchmarks.bench_scaling` "
        "(`PULSE_BENCH_REPLAY_REPORTS` sets the volume)\n"
    )


if __name__ == "__main__":
    print(main())
