"""HTTP schemas of orientations and surveys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StrictInt, StrictStr

from pulse_intake.domain.text import nfc
from pulse_intake.entrypoints.schemas import Code, Name, Strict

Guidance = Annotated[StrictStr, AfterValidator(nfc), Field(min_length=1, max_length=20_000)]
QuestionText = Annotated[StrictStr, AfterValidator(nfc), Field(min_length=1, max_length=1000)]
Option = Annotated[StrictStr, AfterValidator(nfc), Field(min_length=1, max_length=200)]


class OrientationCreate(Strict):
    """The orientation (định hướng) for a period: topics to watch, guidance, target units (none = all)."""

    period: Annotated[
        StrictStr,
        Field(
            min_length=4,
            max_length=7,
            examples=["2026-11", "2026-Q4", "2026-H2", "2026"],
            description="A reporting period of pulse_libs.periods (Decree 09 windows: `2026-11` = 15 Oct – 14 Nov)",
        ),
    ]
    title: Name
    guidance: Guidance
    topic_codes: Annotated[list[Code], Field(min_length=1, max_length=50)]
    unit_codes: Annotated[list[Code], Field(max_length=500)] = []


class OrientationOut(BaseModel):
    """A published orientation with the local days its period covers (both included), as in reporting."""

    id: str
    period: str
    period_start: date
    period_end: date
    title: str
    guidance: str
    topic_codes: list[str]
    unit_codes: list[str]
    published_at: datetime
    published_by: str


class CurrentOrientations(BaseModel):
    """Orientations whose period contains today (in the service's time zone) and that target the caller's units."""

    date: date
    timezone: str
    items: list[OrientationOut]


class QuestionIn(Strict):
    """A survey question: `single`/`multi` need options; `scale` is 1..5 or 1..len(options); `text` is free."""

    code: Code
    text: QuestionText
    kind: Literal["single", "multi", "scale", "text"]
    options: Annotated[list[Option], Field(max_length=50)] = []
    required: bool = True
    """An optional question (`false`) may be left unanswered."""


class SurveyCreate(Strict):
    """A questionnaire open to collaborators of the target units (none = all) between two times."""

    title: Name
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=100)]
    unit_codes: Annotated[list[Code], Field(max_length=500)] = []
    opens_at: AwareDatetime
    closes_at: AwareDatetime


class SurveyOut(BaseModel):
    """A survey and whether it is scheduled, open or closed now."""

    id: str
    title: str
    questions: list[QuestionIn]
    unit_codes: list[str]
    opens_at: datetime
    closes_at: datetime
    published_at: datetime
    state: Literal["scheduled", "open", "closed"]


Answer = StrictStr | StrictInt | list[StrictStr]


Gender = Literal["male", "female", "other"]
AgeGroup = Literal["under_18", "18_30", "31_45", "46_60", "over_60"]
Occupation = Literal["farmer", "worker", "civil_servant", "business", "student", "retired", "armed_forces", "other"]


class RespondentIn(Strict):
    """A citizen interviewed by the collaborator: optional demographics from closed lists, never a name."""

    gender: Gender | None = None
    age_group: AgeGroup | None = None
    occupation: Occupation | None = None


class ResponseCreate(Strict):
    """Answers keyed by question code; `unit_code` may be left out when the caller has one target unit.

    Without `respondent` the collaborator answers for themself (once per survey); with `respondent`
    they record the answers of a citizen they interviewed (điều tra xã hội học; as many as they interview).
    """

    unit_code: Code | None = None
    answers: Annotated[dict[StrictStr, Answer], Field(min_length=1, max_length=100)]
    respondent: RespondentIn | None = None


class ResponseOut(BaseModel):
    """A stored response; the respondent appears only as a pseudonym (an interviewee: an id of the response)."""

    id: str
    survey_id: str
    unit_code: str
    respondent_id: str
    respondent_kind: Literal["self", "interview"]
    demographics: RespondentIn | None
    submitted_at: datetime
