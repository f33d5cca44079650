"""People come from intake's directory events; the duty rota; directive notices and the outcome to reporters.

Real Kafka and store; notify runs as the real app; emails land on a local SMTP server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pulse_libs.events.intake as intake_events
import pulse_libs.events.topics as topics
import pulse_libs.events.triage as triage_events
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent, new_event

DEPARTMENT = "department"


def user(uid: str, name: str, role: str, version: int = 1, **extra: Any) -> tuple[str, CloudEvent]:
    """A pulse.user.changed.v1 event as intake publishes it."""
    data = intake_events.UserChanged(
        user_id=uid,
        username=uid,
        full_name=name,
        role=role,
        unit_codes=extra.pop("unit_codes", []),
        agency_code=extra.pop("agency_code", None),
        email=extra.pop("email", f"{uid}@example.invalid"),
        phone=extra.pop("phone", None),
        active=extra.pop("active", True),
        version=version,
        changed_at=utcnow(),
    )
    event = new_event(
        intake_events.USER_CHANGED, source=intake_events.SOURCE, data=data, key=uid, event_id=f"user-{uid}-v{version}"
    )
    return topics.INTAKE_DIRECTORY, event


def agency(code: str, name: str) -> tuple[str, CloudEvent]:
    data = intake_events.AgencyChanged(
        code=code, name=name, kind="people_committee", unit_code="04252", changed_at=utcnow()
    )
    event = new_event(intake_events.AGENCY_CHANGED, source=intake_events.SOURCE, data=data, key=code)
    return topics.INTAKE_DIRECTORY, event


async def paged(client: Any, admin: dict[str, str], escalation_id: str, n: int, helpers: Any) -> set[str]:
    """Recipient ids of the email deliveries of an escalation, once at least `n` exist."""

    async def check() -> set[str] | None:
        items = (await client.get("/v1/deliveries?channel=email&limit=500", headers=admin)).json()["items"]
        ids = {d["recipient_id"] for d in items if d["escalation_id"] == escalation_id}
        return ids if len(ids) >= n else None

    found: set[str] = await helpers.eventually(check)
    return found


async def known(client: Any, admin: dict[str, str], ids: set[str], helpers: Any) -> None:
    async def check() -> bool:
        items = (await client.get("/v1/recipients?limit=500", headers=admin)).json()["items"]
        return ids <= {r["id"] for r in items}

    await helpers.eventually(check)


async def test_people_come_from_intake_and_a_deactivated_user_is_never_paged(
    notify_settings: Any, helpers: Any, smtp: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            user("a1", "Nguyễn Văn Trực", DEPARTMENT),
            user("a2", "Phạm Thị Lan", DEPARTMENT),
            user("a3", "Quản trị", "admin"),
        )
        await known(client, admin, {"us_a1", "us_a2", "us_a3"}, helpers)
        one = (await client.get("/v1/recipients/us_a1", headers=admin)).json()
        assert one["targets"] == ["duty_officer", "department_head"]
        assert one["user_id"] == "a1"
        edit = await client.patch("/v1/recipients/us_a1", json={"name": "Tên khác"}, headers=admin)
        assert edit.status_code == 409  # intake owns its users: entered once
        assert edit.headers["content-type"].startswith("application/problem+json")
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-d1"))
        assert await paged(client, admin, "esc-d1", 2, helpers) == {"us_a1", "us_a2"}  # admins are not paged

        # deactivated in intake (version 2); an older version replayed afterwards changes nothing
        await helpers.publish(settings, user("a1", "Nguyễn Văn Trực", DEPARTMENT, version=2, active=False))
        await helpers.publish(settings, user("a1", "Nguyễn Văn Trực", DEPARTMENT, version=1))

        async def inactive() -> bool:
            return (await client.get("/v1/recipients/us_a1", headers=admin)).json()["active"] is False

        await helpers.eventually(inactive)
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-d2"))
        assert await paged(client, admin, "esc-d2", 1, helpers) == {"us_a2"}
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-d3"))
        assert await paged(client, admin, "esc-d3", 1, helpers) == {"us_a2"}
        assert not [m for m in smtp.messages if m["To"] == "a1@example.invalid" and "esc-d2" in str(m)]


async def test_rota_pages_only_the_officer_on_duty_and_an_override_wins(
    notify_settings: Any, helpers: Any, smtp: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    now = utcnow()
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            user("o1", "Nguyễn Văn Trực", DEPARTMENT),
            user("o2", "Phạm Thị Lan", DEPARTMENT),
            user("o3", "Đỗ Minh Khôi", DEPARTMENT),
        )
        await known(client, admin, {"us_o1", "us_o2", "us_o3"}, helpers)
        assert (await client.get("/v1/rotas/duty_officer", headers=admin)).status_code == 404

        local = now.astimezone().replace(tzinfo=None)  # naive times are read in the rota's zone
        rota = {
            "timezone": "Asia/Ho_Chi_Minh",
            "shifts": [
                {
                    "user_id": "o1",
                    "starts_at": (now - timedelta(hours=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=1)).isoformat(),
                },
                {
                    "user_id": "o2",
                    "starts_at": (now + timedelta(hours=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=13)).isoformat(),
                },
            ],
        }
        answer = await client.put("/v1/rotas/duty_officer", json=rota, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["on_duty_now"] == ["us_o1"]
        assert answer.json()["gaps"]  # nothing covers the end of the week
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-r1"))
        assert await paged(client, admin, "esc-r1", 1, helpers) == {"us_o1"}

        rota["overrides"] = [
            {
                "recipient_id": "us_o3",
                "starts_at": (now - timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(minutes=30)).isoformat(),
            }
        ]
        answer = await client.put("/v1/rotas/duty_officer", json=rota, headers=admin)
        assert answer.json()["on_duty_now"] == ["us_o3"]
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-r2"))
        assert await paged(client, admin, "esc-r2", 1, helpers) == {"us_o3"}
        # level 2 (department) is not filtered by the duty rota
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-r3", level=2, target="department_head"))
        assert await paged(client, admin, "esc-r3", 3, helpers) == {"us_o1", "us_o2", "us_o3"}

        bad = await client.put(
            "/v1/rotas/duty_officer",
            json={"shifts": [{"user_id": "nobody", "starts_at": local.isoformat(), "ends_at": local.isoformat()}]},
            headers=admin,
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in bad.json()["errors"]}
        assert fields == {"shifts.0.user_id", "shifts.0.ends_at"}
        for zone in ("America", "../../etc/passwd", "x" * 60):
            odd = await client.put("/v1/rotas/duty_officer", json={"timezone": zone, "shifts": []}, headers=admin)
            assert odd.status_code == 422, (zone, odd.text)
        still = (await client.get("/v1/rotas/duty_officer", headers=admin)).json()
        assert still["on_duty_now"] == ["us_o3"]  # nothing changed
        collaborator = helpers.auth(settings, "collaborator", ("04252",))
        assert (await client.put("/v1/rotas/duty_officer", json=rota, headers=collaborator)).status_code == 403

        async def gauge(value: str) -> bool:
            return f"pulse_duty_rota_gap {value}" in (await client.get("/metrics")).text

        await helpers.eventually(lambda: gauge("0.0"))
        later = {
            "shifts": [
                {
                    "user_id": "o2",
                    "starts_at": (now + timedelta(hours=2)).isoformat(),
                    "ends_at": (now + timedelta(hours=4)).isoformat(),
                }
            ]
        }
        assert (await client.put("/v1/rotas/duty_officer", json=later, headers=admin)).status_code == 200
        await helpers.eventually(lambda: gauge("1.0"))  # nobody on duty now: the alert's metric
        await helpers.publish(settings, helpers.escalation(escalation_id="esc-r4"))
        assert await paged(client, admin, "esc-r4", 3, helpers) == {"us_o1", "us_o2", "us_o3"}  # never nobody
        assert "pulse_duty_rota_gap_pages_total 1.0" in (await client.get("/metrics")).text


def directive_event(
    change: str, state: str, due_in: float, remind: int, event_id: str, directive_id: str = "dr_0001"
) -> tuple[str, CloudEvent]:
    now = utcnow()
    data = triage_events.DirectiveChanged(
        directive_id=directive_id,
        hotspot_id="hs-1",
        unit_code="04252",
        topic_code="dat-dai",
        assignee="ubnd-04252",
        instruction="Đối thoại với các hộ dân, báo cáo kết quả",
        due_at=now + timedelta(seconds=due_in),
        state=state,
        change=change,
        by="system" if change == "overdue" else "u-sc",
        at=now,
        remind_before_seconds=remind,
    )
    event = new_event(
        triage_events.DIRECTIVE_CHANGED, source=triage_events.SOURCE, data=data, key="hs-1", event_id=event_id
    )
    return topics.TRIAGE_DIRECTIVES, event


async def test_directive_notices_reminder_and_overdue_once_across_a_restart(
    notify_settings: Any, helpers: Any, smtp: Any
) -> None:
    settings = notify_settings(timers_poll_seconds=0.3)
    admin = helpers.auth(settings)

    async def kinds() -> list[tuple[str, str]]:
        items = (await client.get("/v1/deliveries?channel=email&limit=500", headers=admin)).json()["items"]
        return sorted((d["recipient_id"], d["subject"].split("]")[0].lstrip("[")) for d in items)

    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            agency("ubnd-04252", "UBND phường Yên Bái"),
            user("g1", "Hoàng Văn Sơn", "agency", agency_code="ubnd-04252"),
            user("g2", "Vũ Thị Mai", "agency", agency_code="ubnd-99999"),
            user("p1", "Phạm Thị Lan", DEPARTMENT),
        )
        await known(client, admin, {"us_g1", "us_g2", "us_p1"}, helpers)
        await helpers.publish(settings, directive_event("created", "open", 3.0, 2, "dir-created"))

        async def reminded() -> list[tuple[str, str]] | None:
            found = await kinds()
            return found if ("us_g1", "Nhắc hạn chỉ đạo xử lý") in found else None

        found = await helpers.eventually(reminded, timeout=20)
        assert found == [("us_g1", "Chỉ đạo xử lý mới"), ("us_g1", "Nhắc hạn chỉ đạo xử lý")]
        notice = next(m for m in smtp.messages if "Chỉ đạo xử lý mới" in m["Subject"])
        text = notice.get_body(("plain",)).get_content()
        assert "UBND phường Yên Bái" in text
        assert f"{settings.console_base_url}/directives/dr_0001" in text

        await helpers.publish(settings, directive_event("overdue", "overdue", -1.0, 2, "dir-overdue"))

        async def overdue() -> list[tuple[str, str]] | None:
            found = await kinds()
            return found if ("us_p1", "Chỉ đạo xử lý quá hạn") in found else None

        await helpers.eventually(overdue)

    # a restart, and triage's overdue event delivered again (and re-emitted with a new id): no second notice
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            directive_event("overdue", "overdue", -1.0, 2, "dir-overdue"),
            directive_event("overdue", "overdue", -1.0, 2, "dir-overdue-again"),
            directive_event("created", "open", 3600, 60, "dir-marker", directive_id="dr_0002"),
        )

        async def marker_handled() -> list[tuple[str, str]] | None:  # same partition: after the replays
            found = await kinds()
            return found if found.count(("us_g1", "Chỉ đạo xử lý mới")) == 2 else None

        found = await helpers.eventually(marker_handled)
        assert found.count(("us_p1", "Chỉ đạo xử lý quá hạn")) == 1
    assert sum("quá hạn" in m["Subject"] for m in smtp.messages) == 1


async def test_resolve_with_notify_reporters_tells_each_collaborator_the_outcome(
    notify_settings: Any, helpers: Any, smtp: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings,
            user("c1", "Lò Văn Páo", "collaborator", unit_codes=["04252"]),
            user("c2", "Giàng Thị Mỷ", "collaborator", unit_codes=["04252"]),
            user("c3", "Không phản ánh", "collaborator", unit_codes=["04252"]),
        )
        await known(client, admin, {"us_c1", "us_c2", "us_c3"}, helpers)
        topic, event = helpers.escalation(triage_events.ESCALATION_RESOLVED, escalation_id="esc-out", level=1)
        data = {
            **event.data,
            "state": "resolved",
            "notify_reporters": True,
            "outcome": "UBND phường đã đối thoại, các hộ dân đồng thuận phương án bồi thường",
            "comment": "UBND phường đã đối thoại, các hộ dân đồng thuận phương án bồi thường",
            "reporter_ids": ["c1", "c2"],
        }
        resolved = CloudEvent(type=event.type, source=event.source, data=data, id=event.id, subject=event.subject)
        await helpers.publish(settings, (topic, resolved), (topic, resolved))
        await helpers.eventually(lambda: len(smtp.messages) >= 2)
        outcome = [m for m in smtp.messages if "Kết quả xử lý" in m["Subject"]]
        assert sorted(m["To"] for m in outcome) == ["c1@example.invalid", "c2@example.invalid"]
        for m in outcome:
            text = m.get_body(("plain",)).get_content()
            assert "đồng thuận phương án bồi thường" in text
            other = "Giàng Thị Mỷ" if m["To"].startswith("c1") else "Lò Văn Páo"
            assert other not in text


async def test_bulletins_are_readable_and_sms_link_to_the_console(
    notify_settings: Any, helpers: Any, gateways: Any
) -> None:
    settings = notify_settings()
    admin = helpers.auth(settings)
    department = helpers.auth(settings, "department")
    collaborator = helpers.auth(settings, "collaborator", ("04279",))
    async with helpers.running(settings) as client:
        await helpers.publish(
            settings, user("b1", "Lò Văn Páo", "collaborator", unit_codes=["04252"], phone="+84912000077")
        )
        await known(client, admin, {"us_b1"}, helpers)
        answer = await client.post(
            "/v1/bulletins",
            json={"title": "Thông tin chuyên đề tháng 12", "body": "Nội dung chuyên đề.", "unit_codes": ["04252"]},
            headers=department,
        )
        assert answer.status_code == 202, answer.text
        bulletin_id = answer.json()["id"]
        one = await client.get(f"/v1/bulletins/{bulletin_id}", headers=department)
        assert one.status_code == 200
        assert one.json()["link"] == f"{settings.console_base_url}/bulletins/{bulletin_id}"
        listed = (await client.get("/v1/bulletins", headers=department)).json()["items"]
        assert [b["id"] for b in listed] == [bulletin_id]
        assert (await client.get(f"/v1/bulletins/{bulletin_id}", headers=collaborator)).status_code == 404
        assert (await client.get("/v1/bulletins", headers=collaborator)).json()["items"] == []
        await helpers.eventually(lambda: gateways.ok("/sms"))
        assert gateways.ok("/sms")[0].json()["text"].endswith(f"/bulletins/{bulletin_id}")
