import time
from typing import Any


async def test_smoke(intake: Any) -> None:
    c = intake.client
    r = await c.post("/v1/auth/token", data={"username": "admin", "password": "pulse-admin-dev-password"})
    assert r.status_code == 200, r.text
    h = intake.headers("collaborator", ["04252"])
    body = {
        "unit_code": "04252",
        "channel": "zalo",
        "title": "Giá điện tăng",
        "content": "Người dân phản ánh giá điện tăng cao",
        "observed_at": "2026-11-20T08:00:00+07:00",
        "topic_codes": ["gia-ca"],
    }
    t = time.perf_counter()
    r = await c.post("/v1/reports", json=body, headers=h)
    print(r.status_code, r.text, time.perf_counter() - t)
    assert r.status_code == 201
    r = await c.get("/v1/reports?q=gia dien", headers=h)
    print(r.text)
    assert len(r.json()["items"]) == 1
    r = await c.post(
        "/v1/reports:batch",
        json={"reports": [body | {"external_ref": "a"}, body | {"external_ref": "a"}, {"x": 1}]},
        headers=h,
    )
    print(r.text)
