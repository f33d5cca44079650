"""Hot spots: which open hot spot a report joins, and how the hot spot's counts change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pulse_libs.events.common import Urgency

from pulse_triage.domain.features import folded_terms
from pulse_triage.domain.similarity import SimilarityModel, cosine_of

MAX_SAMPLES = 12
"""Texts kept per hot spot to compare newcomers against (the first ones and the latest ones)."""
BURST = timedelta(hours=3)
"""Urgent reports of one ward and topic this close in time join one hot spot even when worded differently."""


@dataclass(frozen=True)
class Candidate:
    """An open hot spot of the same unit and topic inside the window, with its sample texts."""

    hotspot_id: str
    samples: tuple[str, ...]
    last_seen: datetime
    urgency: Urgency = Urgency.ROUTINE


def best_match(
    terms: Sequence[str],
    candidates: Sequence[Candidate],
    model: SimilarityModel,
    *,
    urgency: Urgency = Urgency.ROUTINE,
    observed_at: datetime | None = None,
) -> str | None:
    """The hot spot whose most similar sample reaches the model's threshold (most similar first); failing that,
    for an urgent or higher report, the latest urgent-or-higher hot spot seen within BURST of it."""
    mine = model.vector(terms)
    best: tuple[float, datetime, str] | None = None
    for candidate in candidates:
        score = max((cosine_of(mine, model.vector(folded_terms(s))) for s in candidate.samples), default=0.0)
        if score >= model.threshold and (best is None or (score, candidate.last_seen) > best[:2]):
            best = (score, candidate.last_seen, candidate.hotspot_id)
    if best is not None:
        return best[2]
    if urgency.rank < Urgency.URGENT.rank or observed_at is None:
        return None
    burst = [c for c in candidates if c.urgency.rank >= Urgency.URGENT.rank and abs(observed_at - c.last_seen) <= BURST]
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
