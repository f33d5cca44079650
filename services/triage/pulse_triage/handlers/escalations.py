"""Use cases of the escalation engine: raise, re-evaluate, the scheduler's due actions, ack and resolve."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import pulse_libs.events.triage as ev
from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.domain.escalation import Policy, Timer, reevaluate, start, step
from pulse_triage.domain.hotspots import current_escalation_id, escalation_id_for, is_parent, parent_facts
from pulse_triage.handlers.events import Outgoing, escalation_changed, hotspot_changed

log = logging.getLogger(__name__)
STATUS_ORDER = ("open", "acknowledged", "resolved")


def timer_of(esc: Document) -> Timer:
    """The timer fields of a stored escalation."""
    return Timer(
        esc["level"],
        esc["level_started_at"],
        esc.get("ack_deadline"),
        esc.get("next_action_at"),
        esc.get("reminder_seq", 0),
    )


def _timer_fields(timer: Timer, policy: Policy) -> Document:
    return {
        "level": timer.level,
        "target": policy.at(timer.level).target.value if timer.level and policy.escalates else None,
        "level_started_at": timer.level_started_at,
        "ack_deadline": timer.ack_deadline,
        "next_action_at": timer.next_action_at,
        "reminder_seq": timer.reminder_seq,
    }


def _history(action: str, esc: Document, now: Any, **extra: Any) -> Document:
    entry = {"at": now, "action": action, "level": esc["level"], "target": esc.get("target"), "urgency": esc["urgency"]}
    return entry | {k: v for k, v in extra.items() if v is not None}


async def refresh_parent(ctx: TriageContext, parent_id: str) -> Document | None:
    """Bring a parent hot spot's facts (reports, sources, channels, span, highest urgency) up to date from its
    children; the parent as stored after, or None if it does not exist."""
    for _ in range(10):
        parent = await ctx.repos.hotspots.get(parent_id)
        if parent is None:
            return None
        children = await ctx.repos.hotspots.children(parent_id)
        if not children:
            return parent
        children.sort(key=lambda c: (as_utc(c["first_seen"]), c["_id"]))
        fields = parent_facts(children, parent["urgency"] if parent["child_ids"] else None)
        stored = {k: as_utc(v) if isinstance(v, datetime) else v for k, v in parent.items()}
        if all(stored.get(k) == v for k, v in fields.items()):
            return parent
        now = ctx.now()
        updated = await ctx.repos.hotspots.save(parent_id, parent["version"], fields | {"updated_at": now})
        if updated is not None:
            return updated
    raise RuntimeError("parent hot spot kept changing")


async def ensure_escalation(*, ctx: TriageContext, hotspot: Document) -> None:
    """Raise the hot spot's one escalation if its urgency is escalated, or raise the urgency of the pending one.

    A hot spot linked under a parent escalates through its parent: the matter has one escalation."""
    if hotspot.get("parent_id"):
        parent = await refresh_parent(ctx, hotspot["parent_id"])
        if parent is not None:
            hotspot = parent
    urgency = Urgency(hotspot["urgency"])
    policy = await ctx.policy(urgency)
    if not policy.escalates:
        return
    esc_id = current_escalation_id(hotspot)
    esc = await ctx.repos.escalations.get(esc_id)
    now = ctx.now()
    if esc is None:
        if hotspot["status"] != "open":
            return
        await _raise(ctx, esc_id, hotspot, urgency, policy, now)
        return
    if esc["state"] != "pending" and Urgency(esc["urgency"]).rank < urgency.rank:
        await _retrigger(ctx, hotspot, urgency, policy, now)
        return
    if esc["state"] != "pending" or Urgency(esc["urgency"]).rank >= urgency.rank:
        return
    fields: Document = {"urgency": urgency.value}
    if esc["level"] > 0:
        fields |= _timer_fields(reevaluate(policy, timer_of(esc), now), policy)
    entry = _history("urgency_raised", {**esc, **fields}, now)
    await ctx.repos.escalations.raise_urgency(esc_id, esc["version"], fields, entry)


async def reopen(*, ctx: TriageContext, hotspot: Document, reason: str) -> None:
    """A new episode of an acknowledged or resolved hot spot at its current urgency, paged from level 1 of that
    level's policy (a parent whose matter spread to a new ward); `reason` is said in its history and event."""
    urgency = Urgency(hotspot["urgency"])
    policy = await ctx.policy(urgency)
    if policy.escalates:
        await _retrigger(ctx, hotspot, urgency, policy, ctx.now(), reason)


async def _retrigger(
    ctx: TriageContext, hotspot: Document, urgency: Urgency, policy: Policy, now: Any, reason: str | None = None
) -> None:
    """An acknowledged or resolved hot spot rose above its escalation's level: a new episode, paged from level 1
    of the higher level's policy; the hot spot is open again."""
    episode = int(hotspot.get("episode", 1)) + 1
    new_id = escalation_id_for(hotspot["_id"], episode)
    fields = {"escalation_id": new_id, "episode": episode, "status": "open", "updated_at": now}
    moved = {**hotspot, **fields}
    if not is_parent(hotspot):
        await ctx.repos.outbox.emit([hotspot_changed(ev.HOTSPOT_UPDATED, moved, now, "retriggered", episode)], now)
    updated = await ctx.repos.hotspots.save(hotspot["_id"], hotspot["version"], fields)
    if updated is None:
        log.info("hot spot changed before its re-trigger; the next change re-evaluates it")
        return
    await _raise(ctx, new_id, updated, urgency, policy, now, reason)


async def _raise(
    ctx: TriageContext,
    esc_id: str,
    hotspot: Document,
    urgency: Urgency,
    policy: Policy,
    now: Any,
    reason: str | None = None,
) -> None:
    silence = await ctx.repos.silences.active(hotspot["unit_code"], hotspot["topic_code"], now)
    doc: Document = {
        "_id": esc_id,
        "hotspot_id": hotspot["_id"],
        "unit_code": hotspot["unit_code"],
        "topic_code": hotspot["topic_code"],
        "urgency": urgency.value,
        "state": "pending",
        "raised_at": now,
        "version": 1,
    }
    events: list[Outgoing] = []
    if silence is not None:
        # Held, not dropped: the scheduler pages when the silence ends (or is deleted) and the hot spot is still open.
        doc |= {"level": 0, "target": None, "level_started_at": now, "ack_deadline": None}
        doc |= {"next_action_at": silence["until"], "reminder_seq": 0, "silenced_by": silence["_id"]}
        doc["history"] = [_history("silenced", doc, now, silence_id=silence["_id"], comment=reason)]
    else:
        doc |= _timer_fields(start(policy, now), policy)
        doc["history"] = [_history("raised", doc, now, comment=reason)]
        said = {"comment": reason} if reason else {}
        events.append(escalation_changed(ev.ESCALATION_RAISED, doc, hotspot, now, "raised", **said))
    # Event first, state second: a crash in between replays the report, which emits the same event id (a no-op).
    await ctx.repos.outbox.emit(events, now)
    await ctx.repos.escalations.add(doc)
    ctx.kick()


async def run_due(ctx: TriageContext) -> int:
    """One scheduler pass: claim due escalations one at a time (a lease) and act on each; return how many."""
    done = 0
    while True:
        now = ctx.now()
        lease = now + timedelta(seconds=ctx.settings.lease_seconds)
        esc = await ctx.repos.escalations.claim_due(now, ctx.owner, lease)
        if esc is None:
            return done
        # FerretDB's findAndModify is not atomic against a concurrent claimer: read back who holds the lease.
        held = await ctx.repos.escalations.get(esc["_id"])
        if held is not None and held.get("lease_owner") == ctx.owner:
            await _act(ctx, held)
            done += 1


async def _act(ctx: TriageContext, esc: Document) -> None:
    now = ctx.now()
    urgency = Urgency(esc["urgency"])
    policy = await ctx.policy(urgency)
    hotspot = await ctx.repos.hotspots.get(esc["hotspot_id"])
    silence = await ctx.repos.silences.active(esc["unit_code"], esc["topic_code"], now)
    events: list[Outgoing] = []
    if hotspot is None or not policy.escalates:
        fields: Document = {"next_action_at": None}
        entry = _history("exhausted", esc, now)
    elif silence is not None:
        fields = {"next_action_at": silence["until"], "silenced_by": silence["_id"]}
        entry = _history("silenced", esc, now, silence_id=silence["_id"])
    else:
        if esc["level"] == 0:
            kind, timer = "raised", start(policy, now)
        else:
            planned = step(policy, timer_of(esc), now)
            kind, timer = planned.kind, planned.timer
        fields = _timer_fields(timer, policy) | {"silenced_by": None}
        after = {**esc, **fields}
        entry = _history(kind, after, now)
        if kind == "raised":
            events.append(escalation_changed(ev.ESCALATION_RAISED, after, hotspot, now, "raised"))
        elif kind == "escalated":
            events.append(
                escalation_changed(ev.ESCALATION_ESCALATED, after, hotspot, now, "escalated", f"l{timer.level}")
            )
        elif kind == "reminded":
            ids = ("reminded", f"l{timer.level}", f"r{timer.reminder_seq}")
            events.append(escalation_changed(ev.ESCALATION_REMINDED, after, hotspot, now, *ids))
    current = await ctx.repos.escalations.get(esc["_id"])
    if current is None or current["state"] != "pending" or current.get("lease_owner") != ctx.owner:
        return  # acknowledged or taken over meanwhile: page nobody
    # Event first: if this replica dies before the update, the lease expires and the same transition is
    # decided again with the same event id, so the page is neither lost nor doubled.
    await ctx.repos.outbox.emit(events, now)
    applied = await ctx.repos.escalations.apply_step(esc["_id"], ctx.owner, fields, entry)
    if applied is None:
        log.info("escalation changed while claimed; skipped", extra={"escalation_id": esc["_id"]})
    elif events:
        ctx.kick()


async def scheduler_loop(ctx: TriageContext, stopping: asyncio.Event) -> None:
    """Scan for due escalations every `scheduler_interval_seconds` until stopping."""
    while not stopping.is_set():
        try:
            await run_due(ctx)
        finally:
            ctx.metrics.scheduler_runs.inc()
        try:
            await asyncio.wait_for(stopping.wait(), ctx.settings.scheduler_interval_seconds)
        except TimeoutError:
            pass


async def visible_escalation(ctx: TriageContext, escalation_id: str, principal: Principal) -> Document:
    """The escalation if it exists and lies in the caller's units."""
    esc = await ctx.repos.escalations.get(escalation_id)
    if esc is None or not principal.sees_unit(esc["unit_code"]):
        raise NotFoundError("escalation")
    return esc


async def acknowledge(*, ctx: TriageContext, escalation_id: str, principal: Principal, comment: str | None) -> Document:
    """Acknowledge a pending escalation: no further levels or reminders; its hot spot becomes acknowledged."""
    return await _close(ctx, escalation_id, principal, comment, "acknowledged")


async def acknowledge_by_link(
    *, ctx: TriageContext, escalation_id: str, recipient_id: str, channel: str, token_id: str, comment: str | None
) -> Document:
    """Acknowledge as the recipient a one-tap link was made for; the link is spent with the acknowledgement."""
    principal = Principal(subject=recipient_id, kind="user", name=recipient_id, scopes=frozenset())
    link = {"by": recipient_id, "via": "link", "channel": channel}
    return await _close(ctx, escalation_id, principal, comment, "acknowledged", link=link, token_id=token_id)


async def resolve(
    *, ctx: TriageContext, escalation_id: str, principal: Principal, comment: str, notify_reporters: bool = False
) -> Document:
    """Resolve a pending or acknowledged escalation with a comment; its hot spot becomes resolved.

    With `notify_reporters`, the resolved event carries the comment as `outcome` and the internal ids of the
    collaborators whose reports formed the hot spot (`reporter_ids`), so notify tells each their outcome."""
    return await _close(ctx, escalation_id, principal, comment, "resolved", notify_reporters=notify_reporters)


async def reporter_ids(ctx: TriageContext, hotspot: Document) -> list[str]:
    """The collaborators behind a hot spot: its distinct sources (learnt from report.submitted) that are people,
    not provincial systems' API keys (mirrored from intake's registry; looked up by id)."""
    sources = [str(s) for s in hotspot.get("sources", [])]
    keys = await ctx.repos.api_keys.known(sources)
    return [s for s in sources if s not in keys]


async def _close(
    ctx: TriageContext,
    escalation_id: str,
    principal: Principal,
    comment: str | None,
    state: str,
    link: Document | None = None,
    token_id: str | None = None,
    notify_reporters: bool = False,
) -> Document:
    esc = await visible_escalation(ctx, escalation_id, principal)
    esc = await _wait_for_lease(ctx, esc)
    allowed = ("pending",) if state == "acknowledged" else ("pending", "acknowledged")
    if esc["state"] not in allowed:
        raise ConflictError(f"the escalation is already {esc['state']}")
    hotspot = await ctx.repos.hotspots.get(esc["hotspot_id"])
    if hotspot is None:
        raise NotFoundError("hot spot")
    now = ctx.now()
    fields: Document = {"state": state, f"{state}_at": now, f"{state}_by": principal.subject, "next_action_at": None}
    if state == "acknowledged" or esc.get("acknowledged_at") is None:
        fields |= {"acknowledged_at": esc.get("acknowledged_at") or now}
    after = {**esc, **fields}
    event_type = ev.ESCALATION_ACKNOWLEDGED if state == "acknowledged" else ev.ESCALATION_RESOLVED
    outcome: Document = {}
    if state == "resolved":
        outcome = {"notify_reporters": notify_reporters, "outcome": comment}
        outcome["reporter_ids"] = await reporter_ids(ctx, hotspot) if notify_reporters else []
    event = escalation_changed(
        event_type, after, hotspot, now, state, actor_id=principal.subject, comment=comment, **outcome
    )
    hotspot_type = ev.HOTSPOT_ACKNOWLEDGED if state == "acknowledged" else ev.HOTSPOT_RESOLVED
    entry = _history(state, after, now, actor_id=principal.subject, actor_name=principal.name, comment=comment)
    entry |= link or {}
    if state == "resolved":
        entry["notify_reporters"] = notify_reporters
    children = await ctx.repos.hotspots.children(hotspot["_id"]) if is_parent(hotspot) else []
    # A parent hot spot has no hot-spot events of its own (its children carry the reports); its children move.
    moving = [h for h in (children or [hotspot]) if STATUS_ORDER.index(h["status"]) < STATUS_ORDER.index(state)]
    extra = [hotspot_changed(hotspot_type, {**h, "status": state}, now, state) for h in moving]
    await ctx.repos.outbox.emit([event, *extra], now)
    updated = await ctx.repos.escalations.close(esc["_id"], allowed, fields, entry, token_id)
    if updated is None:
        raise ConflictError("the escalation changed meanwhile; reload it")
    for moved_id in [hotspot["_id"], *(c["_id"] for c in children)]:
        await move_hotspot(ctx=ctx, hotspot_id=moved_id, status=state)
    ctx.kick()
    return updated


async def _wait_for_lease(ctx: TriageContext, esc: Document) -> Document:
    """Let a scheduler pass that holds the escalation finish first (a few ms), so an ack never crosses a page.

    A lease left by a dead replica is not waited out beyond two seconds: that replica pages nobody."""
    for _ in range(20):
        if esc.get("lease_owner") is None or esc["lease_until"] <= ctx.now():
            return esc
        await asyncio.sleep(0.1)
        esc = await ctx.repos.escalations.get(esc["_id"]) or esc
    return esc


async def move_hotspot(*, ctx: TriageContext, hotspot_id: str, status: str) -> Document | None:
    """Move a hot spot forward to `status` (never back); its event was emitted with the escalation's."""
    for _ in range(10):
        hotspot = await ctx.repos.hotspots.get(hotspot_id)
        if hotspot is None or STATUS_ORDER.index(hotspot["status"]) >= STATUS_ORDER.index(status):
            return hotspot
        now = ctx.now()
        fields = {"status": status, f"{status}_at": now, "updated_at": now}
        updated = await ctx.repos.hotspots.save(hotspot_id, hotspot["version"], fields)
        if updated is not None:
            return updated
    raise RuntimeError("hot spot kept changing")
