"""Kill the triage process (SIGKILL) mid-escalation and start it again: the escalation is neither lost nor doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pulse_libs.events.triage as ev

from .conftest import Harness, wait_until

ROOT = Path(__file__).resolve().parents[3]
POLICY = {
    "levels": [
        {"level": 1, "target": "duty_officer", "ack_timeout_seconds": 2},
        {"level": 2, "target": "department_head", "ack_timeout_seconds": 2},
        {"level": 3, "target": "standing_committee", "ack_timeout_seconds": 2},
    ]
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def process(harness: Harness, log: Path) -> AsyncIterator[tuple[subprocess.Popen[bytes], str]]:
    """Run `python -m pulse_triage` on the harness settings; yield it and its base URL once ready."""
    s = harness.settings
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")} | {
        "PULSE_ENV": "test",
        "PULSE_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
        "PULSE_MONGO_URL": s.mongo_url,
        "PULSE_KAFKA_TOPIC_PREFIX": s.kafka_topic_prefix,
        "PULSE_KAFKA_TOPIC_PARTITIONS": "3",
        "PULSE_TRIAGE_MONGO_DB": s.mongo_db,
        "PULSE_TRIAGE_PORT": str(port),
        "PULSE_OUTBOX_POLL_SECONDS": "0.1",
        "PULSE_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "PULSE_LEASE_SECONDS": "1.5",
        "PULSE_RULES_CACHE_SECONDS": "0",
    }
    with log.open("ab") as out:
        command = [sys.executable, "-m", "pulse_triage"]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: ASYNC220 - returns at once
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:

            async def ready() -> bool:
                assert proc.poll() is None, f"triage exited; see {log}"
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=90, what="triage ready")
        yield proc, url
    finally:
        if proc.poll() is None:
            # Graceful stop would wait for the killed member's Kafka session to expire; the test is done by then.
            proc.kill()
            proc.wait(timeout=10)


async def test_sigkill_mid_escalation_then_restart(harness: Harness, tmp_path: Path) -> None:
    log = tmp_path / "triage.log"
    admin = harness.headers("admin")
    async with process(harness, log) as (proc, url):
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            for urgency in ("flash", "very_urgent", "urgent"):  # whichever level the model gives the report
                assert (await client.put(f"/v1/policies/{urgency}", json=POLICY, headers=admin)).status_code == 200
        await harness.collector.start()
        await harness.submit("Bạo loạn", "Có dấu hiệu bạo loạn, đám đông đốt phá xe tại chợ trung tâm.")
        raised = await wait_until(lambda: harness.collector.of(ev.ESCALATION_RAISED), what="raised")
        escalation_id = raised[0].data["escalation_id"]
        proc.send_signal(signal.SIGKILL)  # mid-escalation: level 1 paged, level 2 due in two seconds
        proc.wait(timeout=10)
    await asyncio.sleep(2.5)  # while nobody runs, the level-1 deadline passes
    async with process(harness, log) as (_, url), httpx.AsyncClient(base_url=url, timeout=5) as client:

        async def exhausted() -> dict[str, object] | None:
            answer = await client.get(f"/v1/escalations/{escalation_id}", headers=harness.headers())
            doc = answer.json()
            return doc if answer.status_code == 200 and doc["history"][-1]["action"] == "exhausted" else None

        doc = await wait_until(exhausted, timeout=60, what="escalation exhausted after restart")
    steps = [(h["action"], h["level"]) for h in doc["history"]]  # type: ignore[index]
    assert steps == [("raised", 1), ("escalated", 2), ("escalated", 3), ("exhausted", 3)]
    unique = {e.id: e for e in harness.collector.events if e.type.startswith("pulse.escalation.")}
    transitions = Counter((e.type, e.data["level"]) for e in unique.values())
    assert transitions == {
        (ev.ESCALATION_RAISED, 1): 1,
        (ev.ESCALATION_ESCALATED, 2): 1,
        (ev.ESCALATION_ESCALATED, 3): 1,
    }
