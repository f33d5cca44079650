"""Survey results: counts per option, scale mean and median, number of text answers."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any


def survey_results(*, survey: Mapping[str, Any], answer_sheets: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Tally every question of a survey; free-text answers are counted, never shown (they may identify people)."""
    sheets = [dict(sheet.get("answers", {})) for sheet in answer_sheets]
    questions = []
    for q in survey.get("questions", []):
        answers = [sheet[q["code"]] for sheet in sheets if q["code"] in sheet]
        questions.append({"code": q["code"], "text": q["text"], "kind": q["kind"], **_tally(q, answers)})
    return {
        "survey_id": str(survey["_id"]),
        "title": survey.get("title", ""),
        "opens_at": survey.get("opens_at"),
        "closes_at": survey.get("closes_at"),
        "responses": len(sheets),
        "questions": questions,
    }


def _tally(question: Mapping[str, Any], answers: list[Any]) -> dict[str, Any]:
    kind = question["kind"]
    if kind in ("single", "multi"):
        counts: Counter[str] = Counter()
        for answer in answers:
            for choice in answer if isinstance(answer, list) else [answer]:
                counts[str(choice)] += 1
        options = list(question.get("options", []))
        extra = sorted(set(counts) - set(options))
        return {
            "answered": len(answers),
            "options": [{"option": o, "count": counts.get(o, 0)} for o in options + extra],
        }
    if kind == "scale":
        values = [float(a) for a in answers if isinstance(a, int | float) or _is_number(a)]
        distribution = Counter(int(v) if v.is_integer() else v for v in values)
        return {
            "answered": len(values),
            "mean": round(statistics.fmean(values), 2) if values else None,
            "median": statistics.median(values) if values else None,
            "distribution": [{"value": k, "count": distribution[k]} for k in sorted(distribution)],
        }
    return {"answered": sum(1 for a in answers if str(a).strip())}


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, list)
