"""Survey questionnaires: shape checks and answer validation against question kinds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pulse_intake.domain.errors import InvalidAnswerError

Answer = str | int | list[str]
SCALE_DEFAULT = 5
TEXT_MAX = 2000


@dataclass(frozen=True)
class Question:
    """One question: `single`/`multi` choose among options, `scale` is 1..n, `text` is free."""

    code: str
    text: str
    kind: str
    options: list[str] = field(default_factory=list)
    required: bool = True

    @property
    def scale_max(self) -> int:
        """Highest value of a scale question: the number of labels given, else 5."""
        return len(self.options) if self.options else SCALE_DEFAULT


def questionnaire_problems(questions: Sequence[Question]) -> list[tuple[str, str]]:
    """Return (field, message) pairs for a malformed questionnaire; empty when fine."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.code in seen:
            problems.append((f"questions.{i}.code", "duplicate question code"))
        seen.add(q.code)
        if q.kind in ("single", "multi") and len(set(q.options)) < 2:
            problems.append((f"questions.{i}.options", "a choice question needs at least two distinct options"))
        if q.kind == "text" and q.options:
            problems.append((f"questions.{i}.options", "a text question takes no options"))
        if q.kind == "scale" and len(q.options) == 1:
            problems.append((f"questions.{i}.options", "a scale needs no labels or at least two"))
    return problems


def validate_answers(questions: Sequence[Question], answers: Mapping[str, object]) -> dict[str, Answer]:
    """Check every answer against its question; every required question must be answered."""
    by_code = {q.code: q for q in questions}
    for code in answers:
        if code not in by_code:
            raise InvalidAnswerError(f"answers.{code}", "no such question in this survey")
    out: dict[str, Answer] = {}
    for q in questions:
        if q.code not in answers:
            if not q.required:
                continue
            raise InvalidAnswerError(f"answers.{q.code}", "this question must be answered")
        out[q.code] = _check(q, answers[q.code])
    return out


def _check(q: Question, value: object) -> Answer:
    where = f"answers.{q.code}"
    if q.kind == "single":
        if not isinstance(value, str) or value not in q.options:
            raise InvalidAnswerError(where, "choose one of the options")
        return value
    if q.kind == "multi":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in q.options for v in value):
            raise InvalidAnswerError(where, "choose one or more of the options")
        if len(set(value)) != len(value):
            raise InvalidAnswerError(where, "an option is chosen twice")
        return list(value)
    if q.kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= q.scale_max:
            raise InvalidAnswerError(where, f"give a whole number from 1 to {q.scale_max}")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
        raise InvalidAnswerError(where, f"give a text of 1 to {TEXT_MAX} characters")
    return value.strip()
