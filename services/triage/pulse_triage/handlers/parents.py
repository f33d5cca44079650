"""Use case: one matter in several wards of one parent unit (same topic, similar text, inside the window) is
linked under one parent hot spot. Each ward keeps its child hot spot with its own reports; the parent gathers
their facts and carries the matter's one escalation (a child linked later hands its open escalation over)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pulse_libs.events.triage as ev
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.adapters.store import ESCALATIONS, HOTSPOTS
from pulse_triage.context import TriageContext
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import Candidate, best_match, current_escalation_id, parent_id_for
from pulse_triage.domain.similarity import SimilarityModel
from pulse_triage.handlers.escalations import refresh_parent
from pulse_triage.handlers.events import escalation_changed, hotspot_changed

log = logging.getLogger(__name__)
PARENT_RECENT = 32
"""Hot spot ids a parent unit's cluster keeps per topic (its wards' latest) for a new child to compare with."""


async def link_parent(ctx: TriageContext, hotspot: Document, model: SimilarityModel) -> Document:
    """Link a ward's hot spot under the parent hot spot of its matter when a hot spot of another ward of the
    same parent unit, on the same topic and inside the window, is similar to it; return the hot spot as stored
    now (with `parent_id` once linked). A hot spot linked already only brings its parent's facts up to date.
    Only parents of the kinds in `parent_unit_kinds` link their wards (by default districts and towns)."""
    if hotspot.get("parent_id"):
        await refresh_parent(ctx, hotspot["parent_id"])
        return hotspot
    if hotspot.get("merged_into") or hotspot.get("child_ids"):
        return hotspot
    unit = await ctx.store.units.find_one({"_id": hotspot["unit_code"]})
    parent_code = (unit or {}).get("parent_code")
    parent_unit = await ctx.store.units.find_one({"_id": parent_code}) if parent_code else None
    if parent_unit is None or parent_unit.get("kind") not in ctx.settings.parent_unit_kinds:
        return hotspot
    since = as_utc(hotspot["last_seen"]) - timedelta(hours=ctx.settings.hotspot_window_hours)
    for _ in range(10):
        cluster = await ctx.store.cluster(str(parent_code), hotspot["topic_code"], parent=True)
        others = []
        for other_id in cluster["hotspots"][-PARENT_RECENT:]:
            other = await ctx.store.get(HOTSPOTS, other_id) if other_id != hotspot["_id"] else None
            if (
                other is not None
                and other["unit_code"] != hotspot["unit_code"]
                and not other.get("merged_into")
                and as_utc(other["last_seen"]) >= since
            ):
                others.append(other)
        recent = [i for i in cluster["hotspots"] if i != hotspot["_id"]][-(PARENT_RECENT - 1) :]
        if not await ctx.store.save_cluster(cluster, loose=[], hotspots=[*recent, hotspot["_id"]]):
            continue
        match = _similar_sibling(hotspot, others, model)
        if match is None:
            return hotspot
        parent_id = match.get("parent_id") or parent_id_for(match["_id"])
        await _create_parent(ctx, parent_id, str(parent_code), hotspot["topic_code"])
        linked = hotspot
        for child in (match, hotspot):
            if child.get("parent_id") != parent_id:
                after = await _set_parent(ctx, child["_id"], parent_id)
                if after is not None:
                    await _hand_over(ctx, after, parent_id)
                    linked = after if after["_id"] == hotspot["_id"] else linked
        await refresh_parent(ctx, parent_id)
        return linked
    raise RuntimeError("parent cluster kept changing while a hot spot was linked")


def _similar_sibling(hotspot: Document, others: list[Document], model: SimilarityModel) -> Document | None:
    """The other ward's hot spot whose texts are most similar to any of this one's (by text only: bursts of
    urgent reports join within one ward, never across wards)."""
    candidates = [
        Candidate(h["_id"], tuple(h.get("samples", [])), as_utc(h["last_seen"]), Urgency(h["urgency"]), h["status"])
        for h in others
    ]
    for sample in reversed(hotspot.get("samples", [])):
        match = best_match(folded_terms(sample), candidates, model)
        if match is not None:
            return next(h for h in others if h["_id"] == match)
    return None


async def _create_parent(ctx: TriageContext, parent_id: str, unit_code: str, topic_code: str) -> None:
    """The parent hot spot's document, if it does not exist yet (its facts come from its children)."""
    if await ctx.store.get(HOTSPOTS, parent_id) is not None:
        return
    now = ctx.now()
    doc: Document = {
        "_id": parent_id,
        "kind": "parent",
        "unit_code": unit_code,
        "topic_code": topic_code,
        "status": "open",
        "urgency": Urgency.ROUTINE.value,
        "child_ids": [],
        "unit_codes": [],
        "report_ids": [],
        "merged_ids": [],
        "sources": [],
        "source_count": 0,
        "channels": [],
        "samples": [],
        "base_score": 0.0,
        "floor": Urgency.ROUTINE.value,
        "first_seen": now,
        "last_seen": now,
        "opened_at": now,
        "updated_at": now,
        "version": 1,
    }
    await ctx.store.insert(HOTSPOTS, doc, [])


async def _set_parent(ctx: TriageContext, hotspot_id: str, parent_id: str) -> Document | None:
    """Record the child's parent (by version, so a report joining meanwhile is not lost) and say so."""
    for _ in range(10):
        child = await ctx.store.get(HOTSPOTS, hotspot_id)
        if child is None or child.get("parent_id") == parent_id:
            return None
        now = ctx.now()
        after = {**child, "parent_id": parent_id, "updated_at": now}
        await ctx.store.emit([hotspot_changed(ev.HOTSPOT_UPDATED, after, now, "linked", parent_id)], now)
        updated = await ctx.store.update(
            HOTSPOTS,
            {"_id": hotspot_id, "version": child["version"]},
            {"$set": {"parent_id": parent_id, "updated_at": now}, "$inc": {"version": 1}},
        )
        if updated is not None:
            return updated
    raise RuntimeError("hot spot kept changing while it was linked to its parent")


async def _hand_over(ctx: TriageContext, child: Document, parent_id: str) -> None:
    """A child's own open escalation closes, handed over to the parent's one (which pages on its own)."""
    esc = await ctx.store.get(ESCALATIONS, current_escalation_id(child))
    if esc is None or esc["state"] not in ("pending", "acknowledged"):
        return
    now = ctx.now()
    comment = f"Chuyển về điểm nóng cấp trên {parent_id}"
    fields: Document = {"state": "resolved", "resolved_at": now, "resolved_by": "triage", "next_action_at": None}
    fields["acknowledged_at"] = esc.get("acknowledged_at") or now
    after = {**esc, **fields}
    event = escalation_changed(ev.ESCALATION_RESOLVED, after, child, now, "resolved", comment=comment)
    await ctx.store.emit([event], now)
    entry = {"at": now, "action": "handed_over", "level": esc["level"], "target": esc.get("target")}
    entry |= {"urgency": esc["urgency"]}
    entry |= {"parent_id": parent_id, "comment": comment}
    await ctx.store.update(
        ESCALATIONS,
        {"_id": esc["_id"], "state": {"$in": ["pending", "acknowledged"]}},
        {"$set": fields, "$inc": {"version": 1}, "$push": {"history": entry}},
    )
