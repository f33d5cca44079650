"""Survey results: counts and percentages per option, scale statistics, free-text answers, breakdowns.

Percentages are of the respondents who answered the question (for `multi` they may add up to more
than 100). Free-text answers are returned only when the caller may read them (department, admin),
sorted, never with who gave them, and never inside breakdowns (a small group could point to a person).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

Breakdown = Literal["unit", "gender", "age_group", "occupation"]
DEMOGRAPHICS = ("gender", "age_group", "occupation")
NOT_GIVEN = "not_given"

GENDER = {"male": "Nam", "female": "Nữ", "other": "Khác", NOT_GIVEN: "Không rõ"}
AGE_GROUP = {
    "under_18": "Dưới 18 tuổi",
    "18_30": "18–30 tuổi",
    "31_45": "31–45 tuổi",
    "46_60": "46–60 tuổi",
    "over_60": "Trên 60 tuổi",
    NOT_GIVEN: "Không rõ",
}
OCCUPATION = {
    "farmer": "Nông dân",
    "worker": "Công nhân",
    "civil_servant": "Cán bộ, công chức, viên chức",
    "business": "Kinh doanh, dịch vụ",
    "student": "Học sinh, sinh viên",
    "retired": "Hưu trí",
    "armed_forces": "Lực lượng vũ trang",
    "other": "Khác",
    NOT_GIVEN: "Không rõ",
}
DEMOGRAPHIC_LABELS = {"gender": GENDER, "age_group": AGE_GROUP, "occupation": OCCUPATION}
RESPONDENT_KIND = {"self": "Cộng tác viên tự trả lời", "interview": "Người dân được phỏng vấn"}


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal; None when nobody answered."""
    return None if whole == 0 else round(part * 100.0 / whole, 1)


def demographic(sheet: Mapping[str, Any], field: str) -> str:
    """A sheet's value of one demographic field, `not_given` when absent."""
    return str((sheet.get("demographics") or {}).get(field) or NOT_GIVEN)


def survey_results(
    *,
    survey: Mapping[str, Any],
    answer_sheets: Iterable[Mapping[str, Any]],
    show_text: bool = False,
    by: Breakdown | None = None,
    unit_name: Callable[[str], str] = lambda code: code,
) -> dict[str, Any]:
    """Tally every question of a survey, with the respondents' make-up and an optional breakdown."""
    sheets = list(answer_sheets)
    out: dict[str, Any] = {
        "survey_id": str(survey["_id"]),
        "title": survey.get("title", ""),
        "opens_at": survey.get("opens_at"),
        "closes_at": survey.get("closes_at"),
        "responses": len(sheets),
        "respondents": _respondents(sheets),
        "questions": _questions(survey, sheets, show_text=show_text),
    }
    if by is not None:
        groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for sheet in sheets:
            key = str(sheet.get("unit_code", "")) if by == "unit" else demographic(sheet, by)
            groups[key].append(sheet)
        labels = DEMOGRAPHIC_LABELS.get(by, {})
        out["breakdown"] = {
            "by": by,
            "groups": [
                {
                    "key": key,
                    "name": unit_name(key) if by == "unit" else labels.get(key, key),
                    "responses": len(items),
                    "percent": percent(len(items), len(sheets)),
                    "questions": _questions(survey, items, show_text=False),
                }
                for key, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            ],
        }
    return out


def _respondents(sheets: list[Mapping[str, Any]]) -> dict[str, Any]:
    kinds = Counter(str(s.get("respondent_kind") or "self") for s in sheets)
    out: dict[str, Any] = {
        "by_kind": [
            {
                "value": k,
                "label": RESPONDENT_KIND[k],
                "count": kinds.get(k, 0),
                "percent": percent(kinds.get(k, 0), len(sheets)),
            }
            for k in ("self", "interview")
        ]
    }
    for field in DEMOGRAPHICS:
        counts = Counter(demographic(s, field) for s in sheets)
        labels = DEMOGRAPHIC_LABELS[field]
        out[field] = [
            {"value": v, "label": labels.get(v, v), "count": n, "percent": percent(n, len(sheets))}
            for v, n in sorted(counts.items(), key=lambda kv: (kv[0] == NOT_GIVEN, -kv[1], kv[0]))
        ]
    return out


def _questions(survey: Mapping[str, Any], sheets: list[Mapping[str, Any]], *, show_text: bool) -> list[dict[str, Any]]:
    answers_of = [dict(sheet.get("answers") or {}) for sheet in sheets]
    questions = []
    for q in survey.get("questions", []):
        answers = [a[q["code"]] for a in answers_of if q["code"] in a]
        tally = _tally(q, answers, show_text=show_text)
        questions.append(
            {
                "code": q["code"],
                "text": q["text"],
                "kind": q["kind"],
                "required": bool(q.get("required", True)),
                "skipped": len(sheets) - int(tally["answered"]),
                **tally,
            }
        )
    return questions


def _tally(question: Mapping[str, Any], answers: list[Any], *, show_text: bool) -> dict[str, Any]:
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
            "options": [
                {"option": o, "count": counts.get(o, 0), "percent": percent(counts.get(o, 0), len(answers))}
                for o in options + extra
            ],
        }
    if kind == "scale":
        values = [float(a) for a in answers if isinstance(a, int | float) or _is_number(a)]
        distribution = Counter(int(v) if v.is_integer() else v for v in values)
        return {
            "answered": len(values),
            "mean": round(statistics.fmean(values), 2) if values else None,
            "median": statistics.median(values) if values else None,
            "distribution": [
                {"value": k, "count": distribution[k], "percent": percent(distribution[k], len(values))}
                for k in sorted(distribution)
            ],
        }
    texts = sorted(str(a).strip() for a in answers if str(a).strip())
    out: dict[str, Any] = {"answered": len(texts)}
    if show_text:
        out["answers"] = texts
    return out


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, list)
