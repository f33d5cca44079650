"""The orientations, surveys and survey responses collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pulse_libs.store import Document

from pulse_intake.adapters.collection import NO_OUTBOX, Collection, any_unit
from pulse_intake.adapters.store import ORIENTATIONS, SURVEY_RESPONSES, SURVEYS


class Orientations(Collection):
    """Repository of the department's orientations."""

    name = ORIENTATIONS

    async def visible(
        self, *, units: Sequence[str] | None, day: date | None, before: str | None, limit: int
    ) -> list[Document]:
        """Orientations newest first, for every unit or one of `units`; only those covering `day` when given."""
        clauses = [any_unit(units)]
        if day is not None:
            clauses += [{"period_start": {"$lte": day.isoformat()}}, {"period_end": {"$gte": day.isoformat()}}]
        if before is not None:
            clauses.append({"_id": {"$lt": before}})
        return await self.page({"$and": clauses}, limit=limit, newest_first=True)

    async def visible_one(self, orientation_id: str, units: Sequence[str] | None) -> Document | None:
        """The orientation if it is for every unit or one of `units`, else None."""
        return await self.col.find_one({"_id": orientation_id, **any_unit(units)})


class Surveys(Collection):
    """Repository of surveys."""

    name = SURVEYS

    async def visible(self, *, units: Sequence[str] | None, before: str | None, limit: int) -> list[Document]:
        """Surveys newest first, for every unit or one of `units`."""
        return await self.page(any_unit(units), limit=limit, after=before, newest_first=True, projection=NO_OUTBOX)

    async def visible_one(self, survey_id: str, units: Sequence[str] | None) -> Document | None:
        """The survey (without its outbox) if it is for every unit or one of `units`, else None."""
        return await self.col.find_one({"_id": survey_id, **any_unit(units)}, NO_OUTBOX)


class Responses(Collection):
    """Repository of survey responses (one per respondent and survey: a unique index)."""

    name = SURVEY_RESPONSES
