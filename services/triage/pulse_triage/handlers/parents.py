"""Use case: one matter in several wards of one parent unit (same topic, similar text, inside the window) is
linked under one parent hot spot. Each ward keeps its child hot spot with its own reports; the parent gathers
their facts and carries the matter's one escalation.

The rule (services/triage/README.md, "Parent hot spots"): a parent exists only once hot spots of two wards are
linked; the cross-ward link asks a stricter similarity than joining a hot spot inside a ward (parent_model); the
first ward's open escalation becomes the parent's (one page, and the link in it acknowledges the whole matter), a
later ward's is handed over; a new ward joining an acknowledged or resolved matter re-opens the parent (a new
episode from level 1); the parent's urgency is its highest child's, so a child rising above it re-triggers the
parent's escalation."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

import pulse_libs.events.triage as ev
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.adapters.store import ESCALATIONS, HOTSPOTS
from pulse_triage.context import TriageContext
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import Candidate, best_match, current_escalation_id, parent_id_for
from pulse_triage.domain.similarity import SimilarityModel
from pulse_triage.handlers.escalations import STATUS_ORDER, move_hotspot, refresh_parent, reopen
from pulse_triage.handlers.events import escalation_changed, hotspot_changed

log = logging.getLogger(__name__)
PARENT_RECENT = 32
"""Hot spot ids a parent unit's cluster keeps per topic (its wards' latest) for a new child to compare with."""
PARENT_SIMILARITY = 0.25
"""With the first similarity model (a plain TF-IDF cosine, no strict threshold of its own): the cosine two wards'
texts must reach to be linked as one matter. On the labelled train/dev pairs it is the lowest threshold with
precision >= 0.9 (0.947, recall 0.259, against 0.776 / 0.845 at the calibrated 0.1 used inside a ward); test
pairs: 0.933 / 0.452. A false cross-ward link silences a separate ward's page, so precision is bought with
recall here."""
OPEN_STATES = ("pending", "acknowledged")


def parent_model(model: SimilarityModel) -> SimilarityModel:
    """The similarity used to link wards: the joining model with a stricter threshold — the pair model's
    `strict_threshold` (fitted for precision >= 0.95 on the labelled pairs) when it has one above the joining
    threshold, else PARENT_SIMILARITY (never below the joining threshold)."""
    strict = float(getattr(model, "strict_threshold", 0.0) or 0.0)
    if strict > model.threshold:
        return replace(model, threshold=strict)
    return replace(model, threshold=max(model.threshold, PARENT_SIMILARITY))


async def link_parent(ctx: TriageContext, hotspot: Document, model: SimilarityModel) -> Document:
    """Link a ward's hot spot under the parent hot spot of its matter when a hot spot of another ward of the
    same parent unit, on the same topic and inside the window, is similar enough to it; return the hot spot as
    stored now (with `parent_id` once linked). A hot spot linked already only brings its parent's facts up to
    date. Only parents of the kinds in `parent_unit_kinds` link their wards.

    A new ward joining a parent whose current episode is acknowledged or resolved (and any new child of a
    resolved parent) re-opens the parent: a new episode paged from level 1, "the matter spread"."""
    if hotspot.get("parent_id"):
        await refresh_parent(ctx, hotspot["parent_id"])
        return hotspot
    if hotspot.get("merged_into") or hotspot.get("child_ids") or hotspot.get("split_from"):
        return hotspot
    unit = await ctx.store.unit(hotspot["unit_code"])
    parent_code = (unit or {}).get("parent_code")
    parent_unit = await ctx.store.unit(parent_code) if parent_code else None
    if unit is None or parent_unit is None or parent_unit.get("kind") not in ctx.settings.parent_unit_kinds:
        return hotspot
    since = as_utc(hotspot["last_seen"]) - timedelta(hours=ctx.settings.hotspot_window_hours)
    for _ in range(10):
        cluster = await ctx.store.cluster(str(parent_code), hotspot["topic_code"], parent=True)
        others = await _siblings(ctx, hotspot, cluster["hotspots"][-PARENT_RECENT:], since)
        # Known to the cluster already: its earlier samples were compared when they came (and every sibling's
        # later samples with them, from the sibling's side), so only the newest one is. The cluster document is
        # written only for a hot spot new to it (one document per parent unit and topic: few writes contend).
        known = hotspot["_id"] in cluster["hotspots"][-PARENT_RECENT:]
        recent = [i for i in cluster["hotspots"] if i != hotspot["_id"]][-(PARENT_RECENT - 1) :]
        if not known and not await ctx.store.save_cluster(cluster, loose=[], hotspots=[*recent, hotspot["_id"]]):
            continue
        samples = hotspot.get("samples", [])
        match = _similar_sibling(
            samples[-1:] if known else samples, Urgency(hotspot["urgency"]), others, parent_model(model)
        )
        if match is None:
            # Re-read: another ward's report may have linked this hot spot meanwhile (its escalation is the parent's).
            return await ctx.store.get(HOTSPOTS, hotspot["_id"]) or hotspot
        parent_id = match.get("parent_id") or parent_id_for(match["_id"])
        await _create_parent(ctx, parent_id, str(parent_code), hotspot["topic_code"])
        await attach(ctx, match["_id"], parent_id)  # first: its open escalation may become the parent's
        reason = await _spread(ctx, parent_id, hotspot, str(unit.get("name") or hotspot["unit_code"]))
        linked = await attach(ctx, hotspot["_id"], parent_id, align=reason is None) or hotspot
        parent = await refresh_parent(ctx, parent_id)
        if reason is not None and parent is not None:
            await reopen(ctx=ctx, hotspot=parent, reason=reason)
        return linked
    raise RuntimeError("parent cluster kept changing while a hot spot was linked")


async def _spread(ctx: TriageContext, parent_id: str, hotspot: Document, unit_name: str) -> str | None:
    """Why linking this hot spot re-opens its parent (said in the new episode), or None: the parent's current
    episode is acknowledged and this is a new ward of it, or the parent's matter is resolved."""
    parent = await ctx.store.get(HOTSPOTS, parent_id)
    esc = await ctx.store.get(ESCALATIONS, current_escalation_id(parent)) if parent else None
    if parent is None or esc is None or esc["state"] == "pending":
        return None
    if hotspot["unit_code"] not in parent.get("unit_codes", []):
        return f"Vụ việc lan sang địa bàn mới: {unit_name}"
    if esc["state"] == "resolved":
        return f"Vụ việc đã giải quyết có phản ánh mới tại {unit_name}"
    return None


async def _siblings(ctx: TriageContext, hotspot: Document, ids: list[str], since: datetime) -> list[Document]:
    """Other wards' hot spots of the parent cluster seen inside the window (open, acknowledged or resolved; never
    one merged away), read together by id."""
    found = await ctx.store.get_many(HOTSPOTS, [i for i in ids if i != hotspot["_id"]])
    return [
        other
        for other in found.values()
        if other["unit_code"] != hotspot["unit_code"]
        and not other.get("merged_into")
        and as_utc(other["last_seen"]) >= since
    ]


def _similar_sibling(
    samples: list[str], urgency: Urgency, others: list[Document], model: SimilarityModel
) -> Document | None:
    """The other ward's hot spot whose texts are most similar to any of these samples, newest first (by text
    only, the hot spot's urgency against each sibling's for the pair model's gap: no `observed_at`, so bursts
    of urgent reports join within one ward, never across wards)."""
    candidates = [
        Candidate(h["_id"], tuple(h.get("samples", [])), as_utc(h["last_seen"]), Urgency(h["urgency"]), h["status"])
        for h in others
    ]
    for sample in reversed(samples):
        match = best_match(folded_terms(sample), candidates, model, urgency=urgency)
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


async def attach(ctx: TriageContext, hotspot_id: str, parent_id: str, *, align: bool = True) -> Document | None:
    """Link a ward's hot spot under a parent: record the link, let the parent take the child's open escalation
    (or close it, handed over, when the parent has one), and (`align`) bring the child to the parent's status.
    The child as stored after, or None when it was linked already or is gone."""
    after = await _set_parent(ctx, hotspot_id, parent_id)
    if after is None:
        return None
    await _take_escalation(ctx, after, parent_id)
    parent = await ctx.store.get(HOTSPOTS, parent_id) if align else None
    if parent is not None and STATUS_ORDER.index(parent["status"]) > STATUS_ORDER.index(after["status"]):
        now = ctx.now()
        event_type = ev.HOTSPOT_ACKNOWLEDGED if parent["status"] == "acknowledged" else ev.HOTSPOT_RESOLVED
        moved = {**after, "status": parent["status"]}
        await ctx.store.emit([hotspot_changed(event_type, moved, now, parent["status"], parent_id)], now)
        after = await move_hotspot(ctx=ctx, hotspot_id=hotspot_id, status=parent["status"]) or after
    return after


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


async def _open_escalation(ctx: TriageContext, hotspot: Document) -> Document | None:
    esc = await ctx.store.get(ESCALATIONS, current_escalation_id(hotspot))
    return esc if esc is not None and esc["state"] in OPEN_STATES else None


async def _take_escalation(ctx: TriageContext, child: Document, parent_id: str) -> None:
    """The child's own open escalation becomes the parent's when the parent has none open (nobody is paged
    again, and the notice already sent acknowledges the whole matter); else it is closed, handed over."""
    esc = await _open_escalation(ctx, child)
    if esc is None or esc["hotspot_id"] != child["_id"]:
        return
    parent = await ctx.store.get(HOTSPOTS, parent_id)
    if parent is None:
        return
    if await _open_escalation(ctx, parent) is not None:
        await _hand_over(ctx, esc, parent_id)
        return
    comment = f"Điểm nóng cấp trên {parent_id} tiếp nhận cảnh báo này"
    fields = {"hotspot_id": parent_id, "unit_code": parent["unit_code"]}
    moved = await _move_escalation(
        ctx, esc, fields, "adopted", comment, parent_id=parent_id, from_hotspot_id=child["_id"]
    )
    if moved is None:
        log.info("escalation changed while its parent took it; the next report re-evaluates it")
        return
    status = "acknowledged" if moved["state"] == "acknowledged" else "open"
    await _update_hotspot(ctx, parent_id, {"escalation_id": esc["_id"], "status": status})


async def _hand_over(ctx: TriageContext, esc: Document, parent_id: str) -> None:
    """A child's own open escalation closes, handed over to the parent's one."""
    child = await ctx.store.get(HOTSPOTS, esc["hotspot_id"])
    if child is not None:
        comment = f"Chuyển về điểm nóng cấp trên {parent_id}"
        await _close_escalation(ctx, esc, child, "handed_over", comment, parent_id=parent_id)


async def _close_escalation(
    ctx: TriageContext, esc: Document, hotspot: Document, action: str, comment: str, **extra: str
) -> None:
    """Close an open escalation as triage (resolved, with the reason in its history and its event)."""
    now = ctx.now()
    fields: Document = {"state": "resolved", "resolved_at": now, "resolved_by": "triage", "next_action_at": None}
    fields["acknowledged_at"] = esc.get("acknowledged_at") or now
    event = escalation_changed(ev.ESCALATION_RESOLVED, {**esc, **fields}, hotspot, now, "resolved", comment=comment)
    await ctx.store.emit([event], now)
    await _move_escalation(ctx, esc, fields, action, comment, **extra)


async def _move_escalation(
    ctx: TriageContext, esc: Document, fields: Document, action: str, comment: str, **extra: str
) -> Document | None:
    """Change an escalation while it is still open (by version, retried), with a history entry saying why;
    None if it closed meanwhile."""
    for _ in range(10):
        entry = {"at": ctx.now(), "action": action, "level": esc["level"], "target": esc.get("target")}
        entry |= {"urgency": esc["urgency"], "comment": comment, **extra}
        updated = await ctx.store.update(
            ESCALATIONS,
            {"_id": esc["_id"], "version": esc["version"], "state": {"$in": list(OPEN_STATES)}},
            {"$set": fields, "$inc": {"version": 1}, "$push": {"history": entry}},
        )
        if updated is not None:
            return updated
        current = await ctx.store.get(ESCALATIONS, esc["_id"])
        if current is None or current["state"] not in OPEN_STATES:
            return None
        esc = current
    raise RuntimeError("escalation kept changing")


async def _update_hotspot(
    ctx: TriageContext, hotspot_id: str, fields: Document, *, unlink: bool = False
) -> Document | None:
    """Set fields of a hot spot by version (retried); `unlink` also drops its parent link and says so."""
    for _ in range(10):
        spot = await ctx.store.get(HOTSPOTS, hotspot_id)
        if spot is None:
            return None
        now = ctx.now()
        update: Document = {"$set": fields | {"updated_at": now}, "$inc": {"version": 1}}
        if unlink:
            after = {**spot, **fields, "parent_id": None}
            await ctx.store.emit([hotspot_changed(ev.HOTSPOT_UPDATED, after, now, "unlinked", spot["version"])], now)
            update["$unset"] = {"parent_id": ""}
        updated = await ctx.store.update(HOTSPOTS, {"_id": hotspot_id, "version": spot["version"]}, update)
        if updated is not None:
            return updated
    raise RuntimeError("hot spot kept changing")


async def settle_parent(ctx: TriageContext, parent_id: str) -> Document | None:
    """After a child left its parent (merged away): a parent of two wards or more is brought up to date; a
    parent left with one ward is dissolved (that ward's hot spot takes the open escalation back and escalates
    on its own again); a parent left with none is resolved with its open escalation."""
    parent = await ctx.store.get(HOTSPOTS, parent_id)
    if parent is None or parent["status"] == "resolved":
        return parent
    children = await ctx.store.hotspots.find({"parent_id": parent_id}).to_list()
    live = [c for c in children if not c.get("merged_into")]
    if len({c["unit_code"] for c in live}) >= 2:
        return await refresh_parent(ctx, parent_id)
    esc = await _open_escalation(ctx, parent)
    if esc is not None and esc["hotspot_id"] == parent_id and live:
        alone = live[0]
        fields = {"hotspot_id": alone["_id"], "unit_code": alone["unit_code"]}
        if await _move_escalation(ctx, esc, fields, "returned", "Chỉ còn một xã, phường", hotspot_id=alone["_id"]):
            await _update_hotspot(ctx, alone["_id"], {"escalation_id": esc["_id"]})
    elif esc is not None and esc["hotspot_id"] == parent_id:
        comment = "Các điểm nóng cấp xã, phường đã được gộp đi: không còn vụ việc chung"
        await _close_escalation(ctx, esc, parent, "resolved", comment)
    for child in live:
        await _update_hotspot(ctx, child["_id"], {}, unlink=True)
    now = ctx.now()
    return await _update_hotspot(ctx, parent_id, {"status": "resolved", "resolved_at": now, "child_ids": []})
