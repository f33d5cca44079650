"""The repositories of intake, bundled: adapters/ is the only code that knows its collections and operators."""

from __future__ import annotations

from dataclasses import dataclass

from pulse_libs.store import Database

from pulse_intake.adapters.agencies import Agencies
from pulse_intake.adapters.campaigns import Orientations, Responses, Surveys
from pulse_intake.adapters.people import ApiKeys, Users
from pulse_intake.adapters.ports import (
    AgencyRepository,
    ApiKeyRepository,
    OrientationRepository,
    ResponseRepository,
    SurveyRepository,
    TopicRepository,
    UnitRepository,
    UserRepository,
)
from pulse_intake.adapters.registry import Topics, Units
from pulse_intake.adapters.reports import Reports


@dataclass(frozen=True)
class IntakeStore:
    """Every repository of intake over one database (typed by the Protocols of adapters/ports.py, so the use
    cases run on the in-memory fakes as well)."""

    reports: Reports
    users: UserRepository
    api_keys: ApiKeyRepository
    units: UnitRepository
    topics: TopicRepository
    agencies: AgencyRepository
    orientations: OrientationRepository
    surveys: SurveyRepository
    responses: ResponseRepository

    @classmethod
    def of(cls, db: Database) -> IntakeStore:
        """The MongoDB repositories of `db`."""
        return cls(
            reports=Reports(db),
            users=Users(db),
            api_keys=ApiKeys(db),
            units=Units(db),
            topics=Topics(db),
            agencies=Agencies(db),
            orientations=Orientations(db),
            surveys=Surveys(db),
            responses=Responses(db),
        )
