"""Use case: triage one submitted report (classify, score, join a hot spot, escalate when due)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

import pulse_libs.events.intake as intake_events
import pulse_libs.events.triage as ev
from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency
from pulse_libs.events.envelope import CloudEvent
from pulse_libs.store import Document

from pulse_triage import data
from pulse_triage.adapters.store import HOTSPOTS, RESULTS
from pulse_triage.context import TriageContext
from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.hotspots import Candidate, best_match, hotspot_id_for, keep_samples
from pulse_triage.domain.rules import RuleSet
from pulse_triage.domain.scoring import Decision, ReportFacts, hotspot_level, score_report, with_repetition
from pulse_triage.domain.similarity import SimilarityModel
from pulse_triage.domain.text import NormalizedText, normalize
from pulse_triage.handlers.escalations import ensure_escalation
from pulse_triage.handlers.events import hotspot_changed, report_triaged

log = logging.getLogger(__name__)
RANKS = [u.value for u in Urgency]


async def handle_report_submitted(ctx: TriageContext, event: CloudEvent) -> None:
    """Triage a `report.submitted` event; safe to run again for the same report (at any step)."""
    report = intake_events.ReportSubmitted.model_validate(event.data)
    existing = await ctx.store.get(RESULTS, report.report_id)
    if existing is not None:
        if existing.get("hotspot_id"):
            hotspot = await ctx.store.get(HOTSPOTS, existing["hotspot_id"])
            if hotspot is not None:
                await ensure_escalation(ctx=ctx, hotspot=hotspot)
        ctx.kick()
        return
    rules = await ctx.rules()
    # Normalising and scoring take milliseconds of CPU: off the event loop, so the consumer and the API stay live.
    text, decision = await asyncio.to_thread(decide, report, rules)
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
        await ensure_escalation(ctx=ctx, hotspot=hotspot)
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


async def join_hotspot(
    *,
    ctx: TriageContext,
    report: intake_events.ReportSubmitted,
    text: NormalizedText,
    decision: Decision,
    rules: RuleSet,
) -> tuple[Document | None, bool]:
    """Join the similar open hot spot, open one (urgent report or a similar loose report), or stay alone.

    Candidates come from the (unit, topic) cluster document, read by id: FerretDB answers queries on other
    fields by scanning the collection, which would make every report slower than the last."""
    since = as_utc(report.observed_at) - timedelta(hours=ctx.settings.hotspot_window_hours)
    model = similarity_model(ctx)
    terms = folded_terms(text.folded)
    observed = as_utc(report.observed_at)
    for _ in range(10):
        cluster = await ctx.store.cluster(report.unit_code, decision.primary_topic)
        open_spots = await _open_hotspots(ctx, cluster, since)
        for hotspot in open_spots:
            if report.report_id in hotspot["report_ids"]:  # a replay after a crash
                return hotspot, report.report_id in hotspot.get("merged_ids", [])
        candidates = [
            Candidate(h["_id"], tuple(h.get("samples", [])), as_utc(h["last_seen"]), Urgency(h["urgency"]))
            for h in open_spots
        ]
        match = best_match(terms, candidates, model, urgency=decision.urgency, observed_at=observed)
        if match is not None:
            hotspot = next(h for h in open_spots if h["_id"] == match)
            joined = await _add_report(ctx, hotspot, report, text, decision, rules)
            if joined is not None:
                return joined
            continue  # changed meanwhile (an ack, another replica): look again
        mine = model.vector(terms)
        loose = [r for r in cluster["loose"] if as_utc(r["observed_at"]) >= since and r["_id"] != report.report_id]
        similar = [r for r in loose if model.similar(mine, folded_terms(r["folded"]))]
        if not similar and decision.urgency == Urgency.ROUTINE:
            entry = _loose_entry(report, text, decision)
            if await ctx.store.save_cluster(cluster, loose=[*loose, entry][-LOOSE_MAX:]):
                return None, False
            continue
        merged = any(r["reporter_id"] == report.reporter_id for r in similar)
        hotspot = await _open(ctx, report, text, decision, similar, rules, merged)
        taken = {r["_id"] for r in similar}
        kept = [r for r in loose if r["_id"] not in taken]
        ids = [h["_id"] for h in open_spots] + [hotspot["_id"]]
        if not await ctx.store.save_cluster(cluster, loose=kept, hotspots=ids):
            continue  # the next pass finds the hot spot (the report is in it) and returns it
        for member in similar:
            await ctx.store.results.update_one({"_id": member["_id"]}, {"$set": {"hotspot_id": hotspot["_id"]}})
        return hotspot, merged
    raise RuntimeError("hot spot kept changing while a report joined it")


LOOSE_MAX = 200


async def _open_hotspots(ctx: TriageContext, cluster: Document, since: datetime) -> list[Document]:
    out = []
    for hotspot_id in cluster["hotspots"]:
        hotspot = await ctx.store.get(HOTSPOTS, hotspot_id)
        if hotspot is not None and hotspot["status"] != "resolved" and as_utc(hotspot["last_seen"]) >= since:
            out.append(hotspot)
    return out


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
