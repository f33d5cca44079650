"""Hot spots: which open hot spot a report joins, and how the hot spot's counts change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pulse_triage.domain.text import shingles, similarity

SIMILARITY_THRESHOLD = 0.5
"""Containment of 4-character shingles of the diacritic-folded title and content."""
MAX_SAMPLES = 12
"""Texts kept per hot spot to compare newcomers against (the first ones and the latest ones)."""


@dataclass(frozen=True)
class Candidate:
    """An open hot spot of the same unit and topic inside the window, with its sample texts."""

    hotspot_id: str
    samples: tuple[str, ...]
    last_seen: datetime


def best_match(folded: str, candidates: Sequence[Candidate], threshold: float = SIMILARITY_THRESHOLD) -> str | None:
    """The hot spot whose most similar sample is at least `threshold` similar to the text (best first)."""
    mine = shingles(folded)
    best: tuple[float, datetime, str] | None = None
    for candidate in candidates:
        score = max((similarity(mine, shingles(s)) for s in candidate.samples), default=0.0)
        if score >= threshold and (best is None or (score, candidate.last_seen) > best[:2]):
            best = (score, candidate.last_seen, candidate.hotspot_id)
    return best[2] if best else None


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


def escalation_id_for(hotspot_id: str) -> str:
    """One escalation per hot spot, named after it."""
    return "esc-" + hotspot_id.removeprefix("hs-")
