"""Use cases of campaigns: orientations and surveys, each published through the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pulse_libs.clock import utcnow
from pulse_libs.events import intake as ev
from pulse_libs.events.envelope import new_event
from pulse_libs.events.topics import INTAKE_CAMPAIGNS
from pulse_libs.outbox import strip_outbox, with_outbox
from pulse_libs.periods import Period, local_days

from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.domain.reports import new_report_id


class AlreadyAnswered(Exception):
    """This respondent has answered the survey already."""


def orientation_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An orientation for the API."""
    return {"id": doc["_id"], **{k: v for k, v in strip_outbox(dict(doc)).items() if k != "_id"}}


async def publish_orientation(
    *, store: IntakeStore, period: Period, cutoff_day: int, body: Mapping[str, Any], by: str
) -> dict[str, Any]:
    """Store an orientation and its OrientationPublished event; its days are the Decree 09 window of the period."""
    oid, now = new_report_id(), utcnow()
    first, last = local_days(period, cutoff_day)
    doc = {
        "_id": oid,
        "period": period.name,
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "title": body["title"],
        "guidance": body["guidance"],
        "topic_codes": list(body["topic_codes"]),
        "unit_codes": sorted(set(body.get("unit_codes") or [])),
        "published_at": now,
        "published_by": by,
    }
    data = ev.OrientationPublished(
        orientation_id=oid, **{k: doc[k] for k in ("period", "title", "guidance", "topic_codes", "unit_codes")},
        published_at=now, published_by=by,
    )  # fmt: skip
    event = new_event(ev.ORIENTATION_PUBLISHED, source=ev.SOURCE, data=data, key=oid, event_id=f"orientation-{oid}")
    await store.orientations.create(with_outbox(doc, [(INTAKE_CAMPAIGNS, event)]))
    return orientation_view(doc)


async def list_orientations(
    *, store: IntakeStore, units: Sequence[str] | None, day: date | None, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Orientations newest first, visible to `units`; only those covering `day` when given."""
    docs = await store.orientations.visible(units=units, day=day, before=before, limit=limit)
    return [orientation_view(d) for d in docs]


async def get_orientation(
    *, store: IntakeStore, orientation_id: str, units: Sequence[str] | None
) -> dict[str, Any] | None:
    """An orientation visible to `units`, or None."""
    doc = await store.orientations.visible_one(orientation_id, units)
    return None if doc is None else orientation_view(doc)


def survey_state(doc: Mapping[str, Any], now: datetime) -> str:
    """scheduled, open or closed at `now`."""
    if now < doc["opens_at"]:
        return "scheduled"
    return "open" if now < doc["closes_at"] else "closed"


def survey_view(doc: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A survey for the API."""
    fields = ("title", "questions", "unit_codes", "opens_at", "closes_at", "published_at")
    return {"id": doc["_id"], **{f: doc[f] for f in fields}, "state": survey_state(doc, now)}


async def publish_survey(*, store: IntakeStore, body: Mapping[str, Any]) -> dict[str, Any]:
    """Store a survey and its SurveyPublished event."""
    sid, now = new_report_id(), utcnow()
    doc = {
        "_id": sid,
        "title": body["title"],
        "questions": list(body["questions"]),
        "unit_codes": sorted(set(body.get("unit_codes") or [])),
        "opens_at": body["opens_at"],
        "closes_at": body["closes_at"],
        "published_at": now,
    }
    data = ev.SurveyPublished(survey_id=sid, **{k: v for k, v in doc.items() if k != "_id"})
    event = new_event(ev.SURVEY_PUBLISHED, source=ev.SOURCE, data=data, key=sid, event_id=f"survey-{sid}")
    await store.surveys.create(with_outbox(doc, [(INTAKE_CAMPAIGNS, event)]))
    return survey_view(doc, now)


async def get_survey(*, store: IntakeStore, survey_id: str, units: Sequence[str] | None) -> dict[str, Any] | None:
    """A survey visible to `units`, or None."""
    return await store.surveys.visible_one(survey_id, units)


async def list_surveys(
    *, store: IntakeStore, units: Sequence[str] | None, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Surveys newest first, visible to `units`."""
    return await store.surveys.visible(units=units, before=before, limit=limit)


async def record_response(
    *,
    store: IntakeStore,
    survey_id: str,
    unit_code: str,
    collaborator: str,
    answers: Mapping[str, Any],
    demographics: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Store one response and its SurveyResponseSubmitted event.

    Without demographics the collaborator (`collaborator`, a pseudonym) answers for themself: once per
    survey. With demographics (possibly all empty) it is a citizen they interviewed, a respondent of its
    own: the respondent id is derived from the response, so one collaborator may record many.
    """
    rid, now = uuid.uuid4().hex, utcnow()
    interview = demographics is not None
    clean = None if demographics is None else {k: v for k, v in demographics.items() if v is not None}
    doc = {
        "_id": rid,
        "survey_id": survey_id,
        "unit_code": unit_code,
        "respondent_id": f"interview-{rid}" if interview else collaborator,
        "respondent_kind": "interview" if interview else "self",
        "demographics": clean,
        "recorded_by": collaborator,
        "answers": dict(answers),
        "submitted_at": now,
    }
    data = ev.SurveyResponseSubmitted(
        response_id=rid, **{k: v for k, v in doc.items() if k not in ("_id", "recorded_by")}
    )
    event = new_event(
        ev.SURVEY_RESPONSE_SUBMITTED, source=ev.SOURCE, data=data, key=survey_id, event_id=f"survey-response-{rid}"
    )
    if not await store.responses.insert(with_outbox(doc, [(INTAKE_CAMPAIGNS, event)])):
        raise AlreadyAnswered(survey_id)
    return {"id": rid, **{k: v for k, v in doc.items() if k not in ("_id", "answers", "recorded_by")}}
