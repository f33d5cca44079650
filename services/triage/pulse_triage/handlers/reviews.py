"""Use cases: an officer's review of a triage decision, and the list of reviews (the next calibration's data)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulse_libs.events.triage as ev
from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.adapters.store import CLUSTERS, HOTSPOTS, RESULTS, REVIEWS
from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import NotFoundError
from pulse_triage.domain.hotspots import hotspot_id_for
from pulse_triage.domain.scoring import URGENCY_VI, raised_level
from pulse_triage.handlers.escalations import ensure_escalation
from pulse_triage.handlers.events import Outgoing, hotspot_changed, report_triaged
from pulse_triage.handlers.parents import link_parent
from pulse_triage.handlers.triage import similarity_model

LEVELS = [u.value for u in Urgency]


async def review(
    *,
    ctx: TriageContext,
    report_id: str,
    principal: Principal,
    urgency: Urgency | None,
    topic_codes: list[str] | None,
    comment: str,
) -> Document:
    """Correct a decision: the result changes (reasons keep the machine's and the officer's words), the hot
    spot's level and its escalation follow, and `report.triaged` is emitted again with `reviewed: true`."""
    result = await ctx.store.get(RESULTS, report_id)
    if result is None or not principal.sees_unit(result["unit_code"]):
        raise NotFoundError("triage result")
    now = ctx.now()
    machine = result.get("machine") or {
        "urgency": result["urgency"],
        "topic_codes": result["topic_codes"],
        "reasons": result["reasons"],
    }
    seq = int(result.get("review_seq", 0)) + 1
    new_urgency = urgency.value if urgency else result["urgency"]
    new_topics = topic_codes or result["topic_codes"]
    officer = (
        f"Cán bộ {principal.name or principal.subject} hiệu chỉnh: mức {URGENCY_VI[Urgency(new_urgency)]}"
        f", lĩnh vực {', '.join(new_topics)} — «{comment}»"
    )
    fields: Document = {
        "urgency": new_urgency,
        "floor": new_urgency,
        "topic_codes": list(new_topics),
        "reasons": [*machine["reasons"], officer],
        "machine": machine,
        "reviewed": True,
        "review_seq": seq,
        "decided_at": now,
    }
    after = {**result, **fields}
    doc: Document = {
        "_id": f"{report_id}-r{seq}",
        "report_id": report_id,
        "unit_code": result["unit_code"],
        "channel": result["channel"],
        "text": result.get("text") or result.get("folded", ""),
        "machine_urgency": machine["urgency"],
        "machine_topic_codes": machine["topic_codes"],
        "urgency": new_urgency,
        "topic_codes": list(new_topics),
        "comment": comment,
        "reviewer_id": principal.subject,
        "reviewed_at": now,
    }
    # Event first, then the review and the result: a retry after a crash re-emits the same event id (a no-op).
    await ctx.store.emit([report_triaged(after, "review", seq)], now, bundle=f"review-{report_id}-{seq}")
    await ctx.store.insert(REVIEWS, doc, [])
    await ctx.store.results.update_one({"_id": report_id}, {"$set": fields})
    await follow(ctx=ctx, result=after, seq=seq)
    ctx.kick()
    return doc


async def follow(*, ctx: TriageContext, result: Document, seq: int) -> None:
    """Bring the report's hot spot to the level its reports now have (opening one for a report raised to khẩn
    or higher that had none, linked under its matter's parent like any new hot spot), then let the escalation
    follow: a ward's hot spot under a parent raises the parent's urgency, and an acknowledged or resolved
    parent re-triggers from level 1 of the higher policy."""
    hotspot_id = result.get("hotspot_id")
    if hotspot_id is None:
        if Urgency(result["urgency"]).rank < Urgency.URGENT.rank:
            return
        hotspot = await link_parent(ctx, await _open_for(ctx, result, seq), similarity_model(ctx))
    else:
        found = await ctx.store.get(HOTSPOTS, hotspot_id)
        if found is None:
            return
        hotspot = found
    for _ in range(10):
        members = await ctx.store.results.find({"_id": {"$in": hotspot["report_ids"]}}).to_list()
        floors: list[str] = [str(m.get("floor") or m["urgency"]) for m in members]
        floor = max(floors, key=LEVELS.index, default="routine")
        level = raised_level(Urgency(floor), sources=hotspot["source_count"], channels=len(hotspot["channels"]))
        if hotspot["urgency"] == level.value and hotspot["floor"] == floor:
            break
        now = ctx.now()
        moved = {**hotspot, "urgency": level.value, "floor": floor}
        await ctx.store.emit([hotspot_changed(ev.HOTSPOT_UPDATED, moved, now, "reviewed", result["_id"], seq)], now)
        updated = await ctx.store.update(
            HOTSPOTS,
            {"_id": hotspot["_id"], "version": hotspot["version"]},
            {"$set": {"urgency": level.value, "floor": floor, "updated_at": now}, "$inc": {"version": 1}},
        )
        if updated is not None:
            hotspot = updated
            break
        hotspot = await ctx.store.get(HOTSPOTS, hotspot["_id"]) or hotspot
    await ensure_escalation(ctx=ctx, hotspot=hotspot)


async def _open_for(ctx: TriageContext, result: Document, seq: int) -> Document:
    """A hot spot of one report (an officer raised a loose report to khẩn or higher); the report's decision is
    emitted again with the hot spot, so intake's report names it (the review's event had none yet)."""
    now = ctx.now()
    observed = as_utc(result["observed_at"])
    hotspot: Document = {
        "_id": hotspot_id_for(result["_id"]),
        "unit_code": result["unit_code"],
        "topic_code": result["topic_codes"][0],
        "status": "open",
        "urgency": result["urgency"],
        "report_ids": [result["_id"]],
        "merged_ids": [],
        "sources": [result["reporter_id"]],
        "source_count": 1,
        "channels": [result["channel"]],
        "samples": [result.get("folded", "")[:2000]],
        "base_score": result.get("base_score", 0.0),
        "floor": result["urgency"],
        "first_seen": observed,
        "last_seen": observed,
        "opened_at": now,
        "updated_at": now,
        "version": 1,
    }
    events: list[Outgoing] = [hotspot_changed(ev.HOTSPOT_OPENED, hotspot, now, "opened")]
    await ctx.store.emit(events, now)
    if not await ctx.store.insert(HOTSPOTS, hotspot, []):
        hotspot = await ctx.store.get(HOTSPOTS, hotspot["_id"]) or hotspot
    placed = {**result, "hotspot_id": hotspot["_id"]}
    await ctx.store.emit([report_triaged(placed, "review", seq, "hotspot")], now)
    await ctx.store.results.update_one({"_id": result["_id"]}, {"$set": {"hotspot_id": hotspot["_id"]}})
    cluster_id = f"{result['unit_code']}|{hotspot['topic_code']}"
    # The report leaves the cluster's loose list and its hot spot becomes a candidate for later reports.
    await ctx.store.db[CLUSTERS].update_one(
        {"_id": cluster_id},
        {"$addToSet": {"hotspots": hotspot["_id"]}, "$pull": {"loose": {"_id": result["_id"]}}},
    )
    return hotspot


def agreement(reviews: list[Document]) -> dict[str, Any]:
    """Per labelled level: how many reviews, and the share where the machine's level was the officer's."""
    seen: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for r in reviews:
        seen[r["urgency"]] += 1
        agreed[r["urgency"]] += r["urgency"] == r["machine_urgency"]
    levels = {
        lv: {"reviewed": seen[lv], "agreed": agreed[lv], "agreement": (agreed[lv] / seen[lv]) if seen[lv] else None}
        for lv in LEVELS
    }
    total = sum(seen.values())
    return {"levels": levels, "reviewed": total, "agreement": (sum(agreed.values()) / total) if total else None}
