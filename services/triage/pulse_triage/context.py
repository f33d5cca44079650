"""What the use cases need at hand: the store, settings, metrics, rules and a way to wake the relay."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pulse_libs.clock import utcnow
from pulse_libs.events.common import EscalationTarget, Urgency

from pulse_triage.adapters.repositories import TriageRepositories, mongo_repositories
from pulse_triage.adapters.store import TriageStore
from pulse_triage.domain.escalation import DEFAULT_POLICIES, Policy, PolicyLevel
from pulse_triage.domain.rules import RuleSet, TopicRule
from pulse_triage.domain.text import phrase_syllables
from pulse_triage.metrics import TriageMetrics
from pulse_triage.rules_schema import RulesDoc, default_rules
from pulse_triage.settings import TriageSettings


@dataclass
class TriageContext:
    """Dependencies of the triage use cases, built once in the lifespan."""

    settings: TriageSettings
    store: TriageStore
    metrics: TriageMetrics
    kick: Callable[[], None] = lambda: None
    now: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    repositories: TriageRepositories | None = None
    """The repositories the use cases work through; by default the MongoDB ones over `store`."""
    _rules: RuleSet | None = None
    _rules_at: float = 0.0
    _policies: dict[Urgency, tuple[float, Policy]] = field(default_factory=dict)

    @property
    def repos(self) -> TriageRepositories:
        """The repositories (built over `store` on first use unless given)."""
        if self.repositories is None:
            self.repositories = mongo_repositories(self.store)
        return self.repositories

    async def rules_doc(self) -> RulesDoc:
        """The stored rule set, or the shipped defaults."""
        stored = await self.repos.rules.get()
        return RulesDoc.model_validate(stored["rules"]) if stored else default_rules()

    async def rules(self) -> RuleSet:
        """The compiled rules plus registry topics, reused for `rules_cache_seconds`."""
        fresh = time.monotonic() - self._rules_at < self.settings.rules_cache_seconds
        if self._rules is not None and fresh:
            return self._rules
        rules = (await self.rules_doc()).to_rule_set()
        extra: list[TopicRule] = []
        for topic in await self.repos.topics.every():
            known = next((t for t in rules.topics if t.code == topic["_id"]), None)
            if known is None and topic.get("keywords"):
                keywords = tuple(p for p in (phrase_syllables(k) for k in topic["keywords"]) if p)
                extra.append(
                    TopicRule(
                        topic["_id"], str(topic.get("name") or topic["_id"]), bool(topic.get("sensitive")), keywords
                    )
                )
            elif known is not None and topic.get("sensitive") and not known.sensitive:
                extra.append(TopicRule(known.code, known.name, True, known.keywords))
        if extra:
            merged = {t.code: t for t in rules.topics} | {t.code: t for t in extra}
            rules = RuleSet(**{**rules.__dict__, "topics": tuple(merged.values())})
        self._rules, self._rules_at = rules, time.monotonic()
        return rules

    def forget_rules(self) -> None:
        """Drop the cached rules (after PUT /v1/rules)."""
        self._rules = None

    async def policy(self, urgency: Urgency) -> Policy:
        """The stored policy of an urgency, or its default, reused for `rules_cache_seconds`."""
        cached = self._policies.get(urgency)
        if cached is not None and time.monotonic() - cached[0] < self.settings.rules_cache_seconds:
            return cached[1]
        policy = await self._load_policy(urgency)
        self._policies[urgency] = (time.monotonic(), policy)
        return policy

    def forget_policies(self) -> None:
        """Drop cached policies (after PUT /v1/policies)."""
        self._policies.clear()

    async def _load_policy(self, urgency: Urgency) -> Policy:
        doc = await self.repos.policies.get(urgency.value)
        if doc is None:
            return DEFAULT_POLICIES[urgency]
        levels = tuple(
            PolicyLevel(lv["level"], EscalationTarget(lv["target"]), lv["ack_timeout_seconds"]) for lv in doc["levels"]
        )
        return Policy(urgency, levels, doc.get("repeat_seconds"))
