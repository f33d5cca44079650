"""Use cases: staff correct clustering by merging one hot spot into another or splitting reports out."""

from __future__ import annotations

import pulse_libs.events.triage as ev
from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.adapters.store import CLUSTERS, ESCALATIONS, HOTSPOTS
from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.domain.hotspots import MAX_SAMPLES, current_escalation_id, is_parent
from pulse_triage.domain.scoring import raised_level
from pulse_triage.handlers.escalations import ensure_escalation, move_hotspot, refresh_parent, resolve
from pulse_triage.handlers.events import hotspot_changed, report_triaged
from pulse_triage.handlers.parents import attach, settle_parent

LEVELS = [u.value for u in Urgency]
EMPTIED: Document = {"report_ids": [], "merged_ids": [], "sources": [], "source_count": 0}
"""A merged hot spot keeps no reports: they are counted once, in the hot spot they went to."""


async def _visible(ctx: TriageContext, hotspot_id: str, principal: Principal) -> Document:
    """A ward's hot spot the caller sees; a parent hot spot is refused (it groups wards' hot spots: staff
    merge or split those, and the parent follows)."""
    hotspot = await ctx.store.get(HOTSPOTS, hotspot_id)
    if hotspot is None or not principal.sees_unit(hotspot["unit_code"]):
        raise NotFoundError("hot spot")
    if is_parent(hotspot):
        raise ConflictError("a parent hot spot groups wards' hot spots: merge or split those instead")
    return hotspot


async def _members(ctx: TriageContext, report_ids: list[str]) -> list[Document]:
    docs = await ctx.store.results.find({"_id": {"$in": report_ids}}).to_list()
    order = {rid: i for i, rid in enumerate(report_ids)}
    return sorted(docs, key=lambda d: order[d["_id"]])


def _recount(hotspot: Document, members: list[Document]) -> Document:
    """A hot spot's counts, level and samples recomputed from its member reports."""
    sources: list[str] = []
    for m in members:
        if m["reporter_id"] not in sources:
            sources.append(m["reporter_id"])
    floors = [str(m.get("floor") or m["urgency"]) for m in members]
    floor = max(floors, key=LEVELS.index, default="routine")
    channels = sorted({m["channel"] for m in members})
    level = raised_level(Urgency(floor), sources=len(sources), channels=len(channels))
    seen = [as_utc(m["observed_at"]) for m in members]
    samples = [m.get("folded", "")[:2000] for m in members]
    half = MAX_SAMPLES // 2
    return {
        "report_ids": [m["_id"] for m in members],
        "merged_ids": [i for i in hotspot.get("merged_ids", []) if i in {m["_id"] for m in members}],
        "sources": sources,
        "source_count": len(sources),
        "channels": channels,
        "samples": samples if len(samples) <= MAX_SAMPLES else samples[:half] + samples[-half:],
        "floor": floor,
        "urgency": level.value,
        "first_seen": min(seen) if seen else hotspot["first_seen"],
        "last_seen": max(seen) if seen else hotspot["last_seen"],
    }


async def _save(ctx: TriageContext, hotspot: Document, fields: Document, *id_parts: object) -> Document:
    now = ctx.now()
    after = {**hotspot, **fields, "updated_at": now}
    await ctx.store.emit([hotspot_changed(ev.HOTSPOT_UPDATED, after, now, *id_parts)], now)
    updated = await ctx.store.update(
        HOTSPOTS,
        {"_id": hotspot["_id"], "version": hotspot["version"]},
        {"$set": {**fields, "updated_at": now}, "$inc": {"version": 1}},
    )
    if updated is None:
        raise ConflictError("the hot spot changed meanwhile; reload it")
    return updated


async def _move_reports(ctx: TriageContext, members: list[Document], hotspot_id: str, tag: str) -> None:
    """Point reports at their new hot spot and say so again (`report.triaged`, a new event id)."""
    for m in members:
        after = {**m, "hotspot_id": hotspot_id}
        await ctx.store.emit([report_triaged(after, tag, hotspot_id)], ctx.now())
        await ctx.store.results.update_one({"_id": m["_id"]}, {"$set": {"hotspot_id": hotspot_id}})


async def merge(*, ctx: TriageContext, hotspot_id: str, into: str, principal: Principal) -> Document:
    """Merge a hot spot into another of the same unit: its reports move, it is resolved as merged.

    A merged ward's hot spot leaves its parent; the hot spot it went to takes its place under that parent when
    it has none (same ward, same matter), and a parent left with fewer than two wards is settled."""
    if hotspot_id == into:
        raise ConflictError("a hot spot cannot be merged into itself")
    source = await _visible(ctx, hotspot_id, principal)
    target = await _visible(ctx, into, principal)
    if source["unit_code"] != target["unit_code"]:
        raise ConflictError("only hot spots of one unit can be merged")
    if source.get("merged_into") or target.get("merged_into"):
        raise ConflictError("that hot spot was merged already")
    members = await _members(
        ctx, [*target["report_ids"], *[r for r in source["report_ids"] if r not in target["report_ids"]]]
    )
    fields = _recount(target, members) | {"merged_ids": target.get("merged_ids", []) + source.get("merged_ids", [])}
    if LEVELS.index(target["urgency"]) > LEVELS.index(fields["urgency"]):
        fields["urgency"] = target["urgency"]
    merged = await _save(ctx, target, fields, "merged", hotspot_id)
    await _move_reports(ctx, [m for m in members if m["_id"] in source["report_ids"]], into, "moved")
    await ctx.store.update(
        HOTSPOTS,
        {"_id": hotspot_id},
        {
            "$set": {"merged_into": into, "report_ids": [], "merged_ids": [], "sources": [], "source_count": 0},
            "$inc": {"version": 1},
        }
        | ({"$unset": {"parent_id": ""}} if source.get("parent_id") else {}),
    )
    await _close_source(ctx, source, into, principal)
    parent_id = source.get("parent_id")
    if parent_id and not merged.get("parent_id"):
        merged = await attach(ctx, into, parent_id) or merged
    if parent_id:
        await settle_parent(ctx, parent_id)
    elif merged.get("parent_id"):
        await refresh_parent(ctx, merged["parent_id"])
    await ensure_escalation(ctx=ctx, hotspot=await ctx.store.get(HOTSPOTS, into) or merged)
    ctx.kick()
    return await ctx.store.get(HOTSPOTS, into) or merged


async def _close_source(ctx: TriageContext, source: Document, into: str, principal: Principal) -> None:
    comment = f"Gộp vào điểm nóng {into}"
    esc = await ctx.store.get(ESCALATIONS, current_escalation_id(source))
    # A ward's escalation its parent took over is the matter's: it stays open for the other wards.
    if esc is not None and esc["hotspot_id"] == source["_id"] and esc["state"] in ("pending", "acknowledged"):
        await resolve(ctx=ctx, escalation_id=esc["_id"], principal=principal, comment=comment)
        return
    now = ctx.now()
    if source["status"] != "resolved":
        moved = {**source, "status": "resolved"}
        await ctx.store.emit([hotspot_changed(ev.HOTSPOT_RESOLVED, moved, now, "resolved", "merged")], now)
        await move_hotspot(ctx=ctx, hotspot_id=source["_id"], status="resolved")


async def split(*, ctx: TriageContext, hotspot_id: str, report_ids: list[str], principal: Principal) -> Document:
    """Split reports out of a hot spot into a new one; both are recounted and escalate on their own.

    The split-off hot spot is a separate matter by the officer's word: it is not under the source's parent
    (and is never linked to one automatically); the parent's facts are brought up to date."""
    source = await _visible(ctx, hotspot_id, principal)
    wanted = list(dict.fromkeys(report_ids))
    outside = [r for r in wanted if r not in source["report_ids"]]
    if outside:
        raise ConflictError(f"not reports of this hot spot: {', '.join(outside[:5])}")
    if len(wanted) >= len(source["report_ids"]):
        raise ConflictError("at least one report must stay in the hot spot")
    members = await _members(ctx, source["report_ids"])
    staying = [m for m in members if m["_id"] not in wanted]
    leaving = [m for m in members if m["_id"] in wanted]
    now = ctx.now()
    new_id = f"{hotspot_id}-s{int(source.get('splits', 0)) + 1}"
    fresh: Document = {
        "_id": new_id,
        "unit_code": source["unit_code"],
        "topic_code": source["topic_code"],
        "status": "open",
        "base_score": source.get("base_score", 0.0),
        "opened_at": now,
        "updated_at": now,
        "split_from": hotspot_id,
        "version": 1,
    } | _recount({"merged_ids": source.get("merged_ids", []), **source}, leaving)
    await ctx.store.emit([hotspot_changed(ev.HOTSPOT_OPENED, fresh, now, "opened")], now)
    if not await ctx.store.insert(HOTSPOTS, fresh, []):
        raise ConflictError("that split was made already; reload the hot spot")
    remaining = await _save(
        ctx, source, _recount(source, staying) | {"splits": int(source.get("splits", 0)) + 1}, "split", new_id
    )
    await _move_reports(ctx, leaving, new_id, "moved")
    cluster_id = f"{source['unit_code']}|{source['topic_code']}"
    await ctx.store.db[CLUSTERS].update_one({"_id": cluster_id}, {"$addToSet": {"hotspots": new_id}})
    if remaining.get("parent_id"):
        await refresh_parent(ctx, remaining["parent_id"])
    await ensure_escalation(ctx=ctx, hotspot=fresh)
    ctx.kick()
    return {"hotspot": remaining, "split": fresh}
