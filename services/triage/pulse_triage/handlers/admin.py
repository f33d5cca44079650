"""Use cases behind the admin routes: policies, silences and rules (configuration as data)."""

from __future__ import annotations

import uuid
from typing import Any

from pulse_libs.auth import Principal
from pulse_libs.events.common import Urgency
from pulse_libs.store import Document

from pulse_triage.context import TriageContext
from pulse_triage.domain.errors import NotFoundError
from pulse_triage.domain.escalation import Policy
from pulse_triage.rules_schema import RulesDoc


def policy_doc(policy: Policy) -> Document:
    """A policy as its API document."""
    levels = [
        {"level": lv.level, "target": lv.target.value, "ack_timeout_seconds": lv.ack_timeout_seconds}
        for lv in policy.levels
    ]
    return {"urgency": policy.urgency.value, "levels": levels, "repeat_seconds": policy.repeat_seconds}


async def put_policy(
    *, ctx: TriageContext, urgency: Urgency, levels: list[dict[str, Any]], repeat_seconds: int | None, actor: str
) -> Document:
    """Replace the policy of an urgency; pending escalations use it from their next transition."""
    doc = {"levels": levels, "repeat_seconds": repeat_seconds, "updated_at": ctx.now(), "updated_by": actor}
    await ctx.repos.policies.put(urgency.value, doc)
    ctx.forget_policies()
    return policy_doc(await ctx.policy(urgency))


async def put_rules(*, ctx: TriageContext, rules: RulesDoc, actor: str) -> RulesDoc:
    """Replace the rule set (already validated); every replica picks it up within `rules_cache_seconds`."""
    doc = {"rules": rules.model_dump(mode="json"), "updated_at": ctx.now(), "updated_by": actor}
    await ctx.repos.rules.put(doc)
    ctx.forget_rules()
    return rules


async def create_silence(
    *, ctx: TriageContext, unit_code: str | None, topic_code: str | None, until: Any, reason: str, principal: Principal
) -> Document:
    """Silence paging for a unit, a topic or both until `until`."""
    doc = {
        "_id": uuid.uuid4().hex,
        "unit_code": unit_code,
        "topic_code": topic_code,
        "until": until,
        "reason": reason,
        "created_by": principal.subject,
        "created_at": ctx.now(),
    }
    await ctx.repos.silences.add(doc)
    return doc


async def delete_silence(*, ctx: TriageContext, silence_id: str, principal: Principal) -> None:
    """End a silence now; escalations it held are paged at the scheduler's next pass."""
    doc = await ctx.repos.silences.get(silence_id)
    if doc is None or (doc.get("unit_code") and not principal.sees_unit(doc["unit_code"])):
        raise NotFoundError("silence")
    await ctx.repos.silences.delete(silence_id)
    await ctx.repos.escalations.wake_silenced(silence_id, ctx.now())
