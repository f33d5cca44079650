"""Use case: triage one submitted report (classify, score, join a hot spot, escalate when due)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pulse_libs.events.intake as intake_events
import pulse_libs.events.triage as ev
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Document, each_concurrently

from pulse_triage import data
from pulse_triage.adapters.store import HOTSPOTS, RESULTS
from pulse_triage.context import TriageContext
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import (
    RECENT_HOTSPOTS,
    Candidate,
    best_match,
    hotspot_id_for,
    indexed_candidates,
    keep_samples,
)
from pulse_triage.domain.rules import RuleSet
from pulse_triage.domain.scoring import Decision, ReportFacts, hotspot_level, score_report, with_repetition
from pulse_triage.domain.similarity import POSTING_MAX, SimilarityModel
from pulse_triage.domain.text import NormalizedText, normalize
from pulse_triage.handlers.escalations import ensure_escalation
from pulse_triage.handlers.events import hotspot_changed, report_triaged
from pulse_triage.handlers.parents import link_parent

log = logging.getLogger(__name__)
RANKS = [u.value for u in Urgency]


LANES = 16
"""Lanes of one polled batch triaged at once (each a sequence of store round trips; see handle_reports_submitted)."""


async def handle_report_submitted(ctx: TriageContext, event: CloudEvent) -> None:
    """Triage a `report.submitted` event; safe to run again for the same report (at any step)."""
    report = _report_of(event)
    if await _replayed(ctx, report):
        return
    rules = await ctx.rules()
    # Normalising and scoring take milliseconds of CPU: off the event loop, so the consumer and the API stay live.
    text, decision = await asyncio.to_thread(decide, report, rules)
    await triage_report(ctx, report, rules, text, decision)


async def handle_reports_submitted(ctx: TriageContext, events: list[CloudEvent]) -> None:
    """Triage one poll of one partition: score every report first (CPU only), then place them unit by unit, the
    most urgent units first (their escalations are raised and published before the routine rest starts).

    The reports of one unit run one after the other in partition order; units run side by side (at most LANES at
    once): a report's cluster, index postings, results and hot spots are its unit's own. What several units may
    write (a parent unit's cluster and hot spot, a sibling ward's hot spot when it is linked under a parent, and
    any hot spot's update) is written under the replica's guard of the parent (see `_guard`). Every lane ends
    before this returns or raises: the runner then replays the batch event by event, which finds the reports
    placed already and only completes their follow-up."""
    unique: dict[str, intake_events.ReportSubmitted] = {}
    for event in events:  # one report once: a report re-sent under another event id is the same report
        report = _report_of(event)
        unique.setdefault(report.report_id, report)
    reports = list(unique.values())
    rules = await ctx.rules()
    decided = await asyncio.to_thread(lambda: [decide(report, rules) for report in reports])
    # Which are replays: one concurrent read of the batch's results instead of one read per report in its lane.
    existing = await ctx.store.get_many(RESULTS, [r.report_id for r in reports])
    lanes: dict[str, list[int]] = {}
    for i, report in enumerate(reports):
        lanes.setdefault(report.unit_code, []).append(i)
    for tier in urgency_tiers(list(lanes.values()), [decision.urgency for _, decision in decided]):

        async def run(lane: list[int]) -> None:
            for i in lane:
                found = existing.get(reports[i].report_id)
                if found is not None:
                    await _complete(ctx, found)
                else:
                    await triage_report(ctx, reports[i], rules, *decided[i])

        await each_concurrently(run, tier, concurrency=LANES)


def _report_of(event: CloudEvent) -> intake_events.ReportSubmitted:
    return intake_events.ReportSubmitted.model_validate(event.data)


def urgency_tiers(lanes: list[list[int]], urgencies: list[Urgency]) -> list[list[list[int]]]:
    """Lanes (lists of report positions) grouped by the highest urgency among their reports, most urgent first;
    lanes keep their order within a tier."""
    tiers: dict[int, list[list[int]]] = {}
    for lane in lanes:
        tiers.setdefault(max(urgencies[i].rank for i in lane), []).append(lane)
    return [tiers[rank] for rank in sorted(tiers, reverse=True)]


async def _guard(ctx: TriageContext, unit_code: str) -> asyncio.Lock:
    """The replica's lock for hot-spot writes of a unit's reports: its parent's when the parent links its wards'
    hot spots (linking writes the parent's cluster and hot spot and the siblings' hot spots), else its own.
    FerretDB applies a versioned update as a read-modify-write, so two writers of one document in one replica
    must not overlap."""
    unit = await ctx.store.unit(unit_code)
    parent_code = (unit or {}).get("parent_code")
    parent = await ctx.store.unit(str(parent_code)) if parent_code else None
    if parent is not None and parent.get("kind") in ctx.settings.parent_unit_kinds:
        return ctx.store.guard(f"parent|{parent_code}")
    return ctx.store.guard(unit_code)


async def _follow_up(ctx: TriageContext, hotspot: Document) -> None:
    """Link the hot spot under its parent when due and raise or re-evaluate its escalation (under the guard)."""
    async with await _guard(ctx, hotspot["unit_code"]):
        hotspot = await link_parent(ctx, hotspot, similarity_model(ctx))
        await ensure_escalation(ctx=ctx, hotspot=hotspot)


async def _replayed(ctx: TriageContext, report: intake_events.ReportSubmitted) -> bool:
    """True if the report was triaged already (a replay): then only its hot spot's follow-up is completed."""
    existing = await ctx.store.get(RESULTS, report.report_id)
    if existing is None:
        return False
    await _complete(ctx, existing)
    return True


async def _complete(ctx: TriageContext, result: Document) -> None:
    """Complete the follow-up of a report triaged already (its hot spot's parent link and escalation)."""
    if result.get("hotspot_id"):
        hotspot = await ctx.store.get(HOTSPOTS, result["hotspot_id"])
        if hotspot is not None:
            await _follow_up(ctx, hotspot)
    ctx.kick()


async def triage_report(
    ctx: TriageContext,
    report: intake_events.ReportSubmitted,
    rules: RuleSet,
    text: NormalizedText,
    decision: Decision,
) -> None:
    """Place a scored report that has no result yet: join or open a hot spot, store the decision with its
    events, escalate when due."""
    hotspot, merged = await join_hotspot(ctx=ctx, report=report, text=text, decision=decision, rules=rules)
    now = ctx.now()
    events = []
    if hotspot is not None:
        decision = with_repetition(
            decision, sources=hotspot["source_count"], channels=len(hotspot["channels"]), rules=rules
        )
        # The hot spot's event rides with the decision: hot spot documents never carry an outbox (see store).
        if hotspot["_id"] == hotspot_id_for(report.report_id):
            events.append(hotspot_changed(ev.HOTSPOT_OPENED, hotspot, now, "opened"))
        else:
            events.append(hotspot_changed(ev.HOTSPOT_UPDATED, hotspot, now, "joined", report.report_id))
    result = _result_doc(report, text, decision, hotspot, merged, now)
    # Events first, then the result that marks the report done: a crash in between replays the report.
    await ctx.store.emit([*events, report_triaged(result)], now, bundle="triaged-" + report.report_id)
    if await ctx.store.insert(RESULTS, result, []):
        ctx.metrics.reports.labels(decision.urgency.value).inc()
        ctx.metrics.decision_seconds.observe(max(0.0, (now - as_utc(report.received_at)).total_seconds()))
    if hotspot is not None:
        await _follow_up(ctx, hotspot)
    ctx.kick()


def decide(report: intake_events.ReportSubmitted, rules: RuleSet) -> tuple[NormalizedText, Decision]:
    """Normalise, classify and score one report with the shipped model (CPU only, no I/O)."""
    text = normalize(f"{report.title}\n{report.content}")
    facts = ReportFacts(report.channel, tuple(report.topic_codes), report.sentiment, report.people_count)
    return text, score_report(text, facts, rules, model=data.urgency_model(), lexicon=data.lexicon())


def similarity_model(ctx: TriageContext) -> SimilarityModel:
    """The calibrated similarity, with the threshold of the settings when one is set."""
    model = data.similarity_model()
    override = ctx.settings.similarity_threshold
    return model if override is None else replace(model, threshold=override)


def _result_doc(
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    hotspot: Document | None,
    merged: bool,
    now: object,
) -> Document:
    return {
        "_id": report.report_id,
        "unit_code": report.unit_code,
        "topic_code": decision.primary_topic,
        "topic_codes": list(decision.topic_codes),
        "urgency": decision.urgency.value,
        "score": decision.score,
        "base_score": decision.base_score,
        "floor": decision.floor.value,
        "sensitive": decision.sensitive,
        "reasons": list(decision.reasons),
        "hotspot_id": hotspot["_id"] if hotspot else None,
        "merged": merged,
        "channel": report.channel.value,
        "reporter_id": report.reporter_id,
        "observed_at": as_utc(report.observed_at),
        "received_at": as_utc(report.received_at),
        "decided_at": now,
        "folded": text.folded[:4000],
        "text": text.normalized[:4000],
        "tokens": list(text.tokens[:400]),
    }


@dataclass(frozen=True)
class Candidates:
    """What a report is compared with: hot spots of its unit and topic in the window (open, acknowledged or
    resolved; never one merged away) and loose reports (no hot spot yet), plus the index postings read."""

    hotspots: list[Document]
    loose: list[Document]
    postings: dict[str, Document]
    reads: int


async def find_candidates(
    ctx: TriageContext,
    cluster: Document,
    keys: list[str],
    since: datetime,
    report_id: str,
    *,
    again: bool = False,
    postings: dict[str, Document] | None = None,
) -> Candidates:
    """The cluster's recent hot spots and loose reports, plus what the candidate index files under the report's
    keys: a fixed number of reads by id (the cluster, one posting per key, at most the index's candidate limit
    and RECENT_HOTSPOTS hot spots), however many reports the window holds. `again` (a retry) also reads the hot
    spot this report would have opened, in case an earlier pass opened it but lost the cluster's update.
    `postings`: the keys' posting documents when read already (beside the cluster)."""
    unit, topic = cluster["_id"].split("|", 1)
    if postings is None:
        postings = await ctx.store.postings(unit, topic, keys)
    reads = 1 + len(keys)
    indexed = indexed_candidates(postings, since)
    loose = [r for r in cluster["loose"] if as_utc(r["observed_at"]) >= since and r["_id"] != report_id]
    own = [hotspot_id_for(report_id)] if again else []
    hotspot_ids = [*cluster["hotspots"][-RECENT_HOTSPOTS:], *(i for i, h in indexed if h), *own]
    inline = {r["_id"] for r in loose}
    wanted = [i for i, h in indexed if not h and i not in inline and i != report_id]
    results = await ctx.store.get_many(RESULTS, wanted)
    reads += len(dict.fromkeys(wanted))
    for found in results.values():
        if as_utc(found["observed_at"]) < since:
            continue
        if found.get("hotspot_id"):
            hotspot_ids.append(found["hotspot_id"])
        else:
            loose.append(_loose_entry_of(found))
    stored = await ctx.store.get_many(HOTSPOTS, hotspot_ids)
    reads += len(dict.fromkeys(hotspot_ids))
    hotspots = [h for h in stored.values() if not h.get("merged_into") and as_utc(h["last_seen"]) >= since]
    return Candidates(hotspots, loose, postings, reads)


async def join_hotspot(
    *,
    ctx: TriageContext,
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    rules: RuleSet,
) -> tuple[Document | None, bool]:
    """Join the similar hot spot, open one (urgent report or a similar loose report), or stay alone.

    A resolved hot spot of the window is a candidate too: a new report on its matter joins it, and if that
    raises its urgency its escalation re-triggers (a new episode, see escalations). The (unit, topic) cluster
    document, read and written back by version, orders concurrent reports of one matter; the candidate index
    finds similar hot spots and reports of the window beyond the cluster's recent lists. The report is filed
    in the index under its keys (as its hot spot, or as itself when it stays alone)."""
    since = as_utc(report.observed_at) - timedelta(hours=ctx.settings.hotspot_window_hours)
    model = similarity_model(ctx)
    terms = folded_terms(text.folded)
    mine = model.vector(terms)
    keys = model.keys(mine)
    observed = as_utc(report.observed_at)
    for attempt in range(10):
        # The cluster and the postings are independent documents: one round trip for both.
        cluster, postings = await asyncio.gather(
            ctx.store.cluster(report.unit_code, decision.primary_topic),
            ctx.store.postings(report.unit_code, decision.primary_topic, keys),
        )
        found = await find_candidates(ctx, cluster, keys, since, report.report_id, again=attempt > 0, postings=postings)
        outcome = await _place(ctx, report, text, decision, rules, cluster, found, mine, terms, observed)
        if outcome is None:
            continue  # changed meanwhile (an ack, another replica): look again
        hotspot, merged = outcome
        entry = {"id": hotspot["_id"] if hotspot else report.report_id, "hotspot": hotspot is not None, "at": observed}
        await ctx.store.file(
            report.unit_code, decision.primary_topic, keys, entry, known=found.postings, keep=POSTING_MAX
        )
        return hotspot, merged
    raise RuntimeError("hot spot kept changing while a report joined it")


async def _place(
    ctx: TriageContext,
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    rules: RuleSet,
    cluster: Document,
    found: Candidates,
    mine: dict[str, float],
    terms: tuple[str, ...],
    observed: datetime,
) -> tuple[Document | None, bool] | None:
    """One attempt to place the report; None when the cluster or the chosen hot spot changed meanwhile."""
    model = similarity_model(ctx)
    for hotspot in found.hotspots:
        if report.report_id in hotspot["report_ids"]:  # a replay after a crash
            return hotspot, report.report_id in hotspot.get("merged_ids", [])
    candidates = [
        Candidate(
            h["_id"], tuple(h.get("samples", [])), as_utc(h["last_seen"]), Urgency(h["urgency"]), str(h["status"])
        )
        for h in found.hotspots
    ]
    match = best_match(terms, candidates, model, urgency=decision.urgency, observed_at=observed)
    if match is not None:
        hotspot = next(h for h in found.hotspots if h["_id"] == match)
        return await _add_report(ctx, hotspot, report, text, decision, rules)
    similar = [r for r in found.loose if model.similar(mine, folded_terms(r["folded"]))]
    in_window = {r["_id"] for r in found.loose}
    inline = [r for r in cluster["loose"] if r["_id"] != report.report_id and r["_id"] in in_window]
    if not similar and decision.urgency == Urgency.ROUTINE:
        entry = _loose_entry(report, text, decision)
        kept = inline
        if await ctx.store.save_cluster(cluster, loose=[*kept, entry][-LOOSE_MAX:]):
            return None, False
        return None
    merged = any(r["reporter_id"] == report.reporter_id for r in similar)
    hotspot = await _open(ctx, report, text, decision, similar, rules, merged)
    taken = {r["_id"] for r in similar}
    kept = [r for r in inline if r["_id"] not in taken]
    recent = [i for i in cluster["hotspots"] if i != hotspot["_id"]][-(RECENT_HOTSPOTS - 1) :]
    if not await ctx.store.save_cluster(cluster, loose=kept, hotspots=[*recent, hotspot["_id"]]):
        return None  # the next pass finds the hot spot (the report is in it) and returns it
    await ctx.store.set_fields_many(RESULTS, [m["_id"] for m in similar], {"hotspot_id": hotspot["_id"]})
    return hotspot, merged


LOOSE_MAX = 200


def _loose_entry_of(result: Document) -> Document:
    """A stored triage result in the form of a cluster's loose entry."""
    return {k: result.get(k) for k in ("_id", "reporter_id", "channel", "observed_at", "base_score", "floor")} | {
        "folded": str(result.get("folded", ""))[:1500]
    }


def _loose_entry(report: intake_events.ReportSubmitted, text: NormalizedText, decision: Decision) -> Document:
    return {
        "_id": report.report_id,
        "folded": text.folded[:1500],
        "reporter_id": report.reporter_id,
        "channel": report.channel.value,
        "observed_at": as_utc(report.observed_at),
        "base_score": decision.base_score,
        "floor": decision.floor.value,
    }


def _level(rules: RuleSet, base: float, floor: str, sources: int, channels: int, current: str | None) -> str:
    urgency, _ = hotspot_level(rules, base_score=base, floor=Urgency(floor), sources=sources, channels=channels)
    if current is not None and RANKS.index(current) > urgency.rank:
        return current  # a hot spot's urgency never drops
    return urgency.value


async def _add_report(
    ctx: TriageContext,
    hotspot: Document,
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    rules: RuleSet,
) -> tuple[Document, bool] | None:
    merged = report.reporter_id in hotspot["sources"]
    sources = hotspot["sources"] + ([] if merged else [report.reporter_id])
    channels = sorted(set(hotspot["channels"]) | {report.channel.value})
    base = max(hotspot["base_score"], decision.base_score)
    floor = max(hotspot["floor"], decision.floor.value, key=RANKS.index)
    observed = as_utc(report.observed_at)
    fields = {
        "report_ids": [*hotspot["report_ids"], report.report_id],
        "merged_ids": hotspot.get("merged_ids", []) + ([report.report_id] if merged else []),
        "sources": sources,
        "source_count": len(sources),
        "channels": channels,
        "samples": keep_samples(hotspot.get("samples", []), text.folded[:2000]),
        "base_score": base,
        "floor": floor,
        "urgency": _level(rules, base, floor, len(sources), len(channels), hotspot["urgency"]),
        "first_seen": min(as_utc(hotspot["first_seen"]), observed),
        "last_seen": max(as_utc(hotspot["last_seen"]), observed),
        "updated_at": ctx.now(),
    }
    async with await _guard(ctx, hotspot["unit_code"]):
        updated = await ctx.store.update(
            HOTSPOTS, {"_id": hotspot["_id"], "version": hotspot["version"]}, {"$set": fields, "$inc": {"version": 1}}
        )
    return None if updated is None else (updated, merged)


async def _open(
    ctx: TriageContext,
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    similar: list[Document],
    rules: RuleSet,
    merged: bool,
) -> Document:
    members = sorted(similar, key=lambda r: r["observed_at"])
    sources: list[str] = []
    for reporter in [*(m["reporter_id"] for m in members), report.reporter_id]:
        if reporter not in sources:
            sources.append(reporter)
    channels = sorted({*(m["channel"] for m in members), report.channel.value})
    base = max([decision.base_score, *(m.get("base_score", 0.0) for m in members)])
    floor = max([decision.floor.value, *(m.get("floor", "routine") for m in members)], key=RANKS.index)
    seen = [as_utc(m["observed_at"]) for m in members] + [as_utc(report.observed_at)]
    now = ctx.now()
    hotspot: Document = {
        "_id": hotspot_id_for(report.report_id),
        "unit_code": report.unit_code,
        "topic_code": decision.primary_topic,
        "status": "open",
        "urgency": _level(rules, base, floor, len(sources), len(channels), None),
        "report_ids": [*(m["_id"] for m in members), report.report_id],
        "merged_ids": [report.report_id] if merged else [],
        "sources": sources,
        "source_count": len(sources),
        "channels": channels,
        "samples": keep_samples([m.get("folded", "")[:2000] for m in members], text.folded[:2000]),
        "base_score": base,
        "floor": floor,
        "first_seen": min(seen),
        "last_seen": max(seen),
        "opened_at": now,
        "updated_at": now,
        "version": 1,
    }
    if not await ctx.store.insert(HOTSPOTS, hotspot, []):
        stored = await ctx.store.get(HOTSPOTS, hotspot["_id"])
        assert stored is not None
        return stored
    return hotspot
