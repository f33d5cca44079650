"""Hot spots: which open hot spot a report joins, and how the hot spot's counts change."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pulse_libs.clock import as_utc
from pulse_libs.events.common import Urgency

from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.similarity import CandidateIndex, SimilarityModel, cosine_of

MAX_SAMPLES = 12
"""Texts kept per hot spot to compare newcomers against (the first ones and the latest ones)."""
BURST = timedelta(hours=3)
"""Urgent reports of one ward and topic this close in time join one hot spot even when worded differently."""
RECENT_HOTSPOTS = 16
"""Hot spot ids a (unit, topic) cluster keeps for every newcomer to look at (bursts need no shared words); older
ones are found through the candidate index."""


@dataclass(frozen=True)
class Candidate:
    """An open hot spot of the same unit and topic inside the window, with its sample texts."""

    hotspot_id: str
    samples: tuple[str, ...]
    last_seen: datetime
    urgency: Urgency = Urgency.ROUTINE
    status: str = "open"


def best_match(
    terms: Sequence[str],
    candidates: Sequence[Candidate],
    model: SimilarityModel,
    *,
    urgency: Urgency = Urgency.ROUTINE,
    observed_at: datetime | None = None,
) -> str | None:
    """The hot spot whose most similar sample, less the pair model's penalty for the gap between the report's and
    the hot spot's urgency, reaches the model's threshold (highest score first); failing that,
    for an urgent or higher report, the latest urgent-or-higher hot spot seen within BURST of it.

    A resolved hot spot takes a burst only from a report more urgent than it (the matter flared up again: its
    escalation re-triggers); an equally urgent, differently worded report after a resolution is a new matter."""
    mine = model.vector(terms)
    best: tuple[float, datetime, str] | None = None
    for candidate in candidates:
        text = max((cosine_of(mine, model.vector(folded_terms(s))) for s in candidate.samples), default=0.0)
        score = text - model.urgency_gap * abs(urgency.rank - candidate.urgency.rank)
        if model.joins(score) and (best is None or (score, candidate.last_seen) > best[:2]):
            best = (score, candidate.last_seen, candidate.hotspot_id)
    if best is not None:
        return best[2]
    if urgency.rank < Urgency.URGENT.rank or observed_at is None:
        return None
    burst = [
        c
        for c in candidates
        if c.urgency.rank >= Urgency.URGENT.rank
        and abs(observed_at - c.last_seen) <= BURST
        and (c.status != "resolved" or urgency.rank > c.urgency.rank)
    ]
    return max(burst, key=lambda c: c.last_seen).hotspot_id if burst else None


def keep_samples(samples: Sequence[str], new: str) -> list[str]:
    """Add a sample, keeping the first half and the latest of at most MAX_SAMPLES texts."""
    out = [*samples, new]
    if len(out) <= MAX_SAMPLES:
        return out
    half = MAX_SAMPLES // 2
    return out[:half] + out[-(MAX_SAMPLES - half) :]


def hotspot_id_for(report_id: str) -> str:
    """Deterministic id: the hot spot a report opens is named after it, so a replay cannot open a second one."""
    return "hs-" + report_id.replace(".", "_").replace("$", "_")


def escalation_id_for(hotspot_id: str, episode: int = 1) -> str:
    """One escalation per hot spot and episode, named after it (episode 1 keeps the plain name)."""
    base = "esc-" + hotspot_id.removeprefix("hs-")
    return base if episode <= 1 else f"{base}-e{episode}"


def current_escalation_id(hotspot: Mapping[str, Any]) -> str:
    """The escalation of the hot spot's current episode (a re-trigger opens a new one)."""
    return str(hotspot.get("escalation_id") or escalation_id_for(str(hotspot["_id"])))


def indexed_candidates(postings: Mapping[str, Mapping[str, Any]], since: datetime) -> list[tuple[str, bool]]:
    """From a report's posting documents (key → `{"entries": [{"id", "hotspot", "at"}]}`): the ids filed in the
    window sharing the most keys with it (at most the index's CANDIDATES_MAX), each with whether it is a hot spot."""
    index = CandidateIndex()
    kinds: dict[str, bool] = {}
    for key, doc in postings.items():
        entries = [e for e in doc.get("entries", []) if as_utc(e["at"]) >= since]
        index.postings[key] = OrderedDict((e["id"], None) for e in entries)
        kinds |= {e["id"]: bool(e.get("hotspot")) for e in entries}
    return [(i, kinds[i]) for i in index.candidates(list(postings))]


def parent_id_for(child_id: str) -> str:
    """A parent hot spot is named after the child it was first formed around."""
    return "hp-" + child_id.removeprefix("hs-")


def is_parent(hotspot: Mapping[str, Any]) -> bool:
    """True for a parent hot spot (it gathers children of several wards)."""
    return hotspot.get("kind") == "parent"


def parent_facts(children: Sequence[Mapping[str, Any]], current_urgency: str | None) -> dict[str, Any]:
    """A parent hot spot's facts from its children (wards of one parent unit on one matter): their reports,
    distinct sources and channels, the span of time, and the highest urgency (a parent's urgency never drops)."""
    ranks = [u.value for u in Urgency]
    report_ids: list[str] = []
    sources: list[str] = []
    for child in children:
        report_ids += [r for r in child.get("report_ids", []) if r not in report_ids]
        sources += [s for s in child.get("sources", []) if s not in sources]
    levels = [str(c["urgency"]) for c in children] + ([current_urgency] if current_urgency else [])
    return {
        "child_ids": [str(c["_id"]) for c in children],
        "unit_codes": list(dict.fromkeys(str(c["unit_code"]) for c in children)),
        "report_ids": report_ids,
        "sources": sources,
        "source_count": len(sources),
        "channels": sorted({ch for c in children for ch in c.get("channels", [])}),
        "urgency": max(levels, key=ranks.index),
        "floor": max((str(c.get("floor", "routine")) for c in children), key=ranks.index, default="routine"),
        "first_seen": min(as_utc(c["first_seen"]) for c in children),
        "last_seen": max(as_utc(c["last_seen"]) for c in children),
    }
