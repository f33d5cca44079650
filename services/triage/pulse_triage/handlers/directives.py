"""Use cases of directives: create on a hot spot, read within the caller's reach, record progress and
completion, the overdue timer, and the agencies mirror fed by intake's directory.

Who reaches what: the department and the Standing Committee see every directive (they hold no unit
limit); an `agency` user sees only the directives assigned to its agency and the hot spots they concern;
anything else is 404, never 403, so existence does not leak.

Every change emits `pulse.directive.changed.v1` (key: hot-spot id) through triage's insert-only outbox,
event first and state second as in the rest of triage, with deterministic ids (`<id>-created`,
`<id>-v<version>`, `<id>-overdue`). A change is written only by the winner of the verified claim of the
directive's next version, so two concurrent updates never both land (the loser gets 409 before emitting).
The overdue transition is emitted exactly once: only the holder of the `directive-overdue` lease runs the
timer, and the event's outbox document is unique by id, so even a holder that died after emitting and a
successor that decides the same transition store one event (and move the counts once).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import pulse_libs.events.intake as intake_events
import pulse_libs.events.triage as ev
from prometheus_client import CollectorRegistry, Counter, Gauge
from pulse_libs.auth import Principal
from pulse_libs.clock import utcnow
from pulse_libs.events.envelope import CloudEvent, new_event
from pulse_libs.events.topics import TRIAGE_DIRECTIVES
from pulse_libs.store import Document

from pulse_triage.adapters.directives import (
    Agencies,
    Agency,
    Counters,
    DirectiveFilter,
    Directives,
)
from pulse_triage.domain.directive import Change, Directive, DirectiveInvalid, DirectiveState
from pulse_triage.domain.errors import ConflictError, NotFoundError
from pulse_triage.handlers.events import Outgoing, event_id

log = logging.getLogger(__name__)


class TimerLease(Protocol):
    """The role of running the overdue timer, held by one process at a time (libs `Lease`)."""

    async def acquire(self, now: datetime | None = None) -> object | None:
        """Renew or win the role; None if another process holds it."""
        ...

    def held(self, now: datetime | None = None) -> object | None:
        """The term this process may act under right now, if any."""
        ...

    async def release(self) -> None:
        """Give the role up (on shutdown) so another process takes it at once."""
        ...


class AlwaysHeld:
    """A lease for a single process (unit tests)."""

    async def acquire(self, now: datetime | None = None) -> object | None:
        """Always held."""
        return self

    def held(self, now: datetime | None = None) -> object | None:
        """Always held."""
        return self

    async def release(self) -> None:
        """Nothing to give up."""


class Outbox(Protocol):
    """Stores an event for the relay, once per event id."""

    async def emit_once(self, event: Outgoing, now: datetime) -> bool:
        """Store the event; False if an event with its id is already stored."""
        ...


@dataclass(frozen=True)
class DirectiveMetrics:
    """Gauges of directives not done (from counters, no scans) and the timer's passes."""

    open: Gauge
    overdue: Gauge
    timer_runs: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> DirectiveMetrics:
        """Register the metrics."""
        return cls(
            open=Gauge("pulse_directives_open", "Directives not done and not yet due.", registry=registry),
            overdue=Gauge(
                "pulse_directives_overdue", "Directives past their due time and not done.", registry=registry
            ),
            timer_runs=Counter(
                "pulse_directive_timer_runs", "Passes of the directive overdue timer.", registry=registry
            ),
        )


@dataclass
class DirectiveService:
    """What the directive use cases need; built once in the lifespan (fakes in unit tests)."""

    directives: Directives
    agencies: Agencies
    counters: Counters
    outbox: Outbox
    hotspot: Callable[[str], Awaitable[Document | None]]
    lease: TimerLease = field(default_factory=AlwaysHeld)
    remind_cap_seconds: float = 86400.0
    interval_seconds: float = 5.0
    recount_seconds: float = 600.0
    """How often the lease holder recounts the directives to heal the gauge counters (one scan)."""
    now: Callable[[], datetime] = utcnow
    kick: Callable[[], None] = lambda: None
    metrics: DirectiveMetrics | None = None


def directive_changed(directive: Directive, change: str, entry: Change | None, now: datetime) -> Outgoing:
    """The event of a change (`entry` is the history entry, None for the creation)."""
    if change == "created":
        ident = event_id(directive.id, "created")
    elif change == "overdue":
        ident = event_id(directive.id, "overdue")
    else:
        ident = event_id(directive.id, f"v{directive.version}")
    data = ev.DirectiveChanged(
        directive_id=directive.id,
        hotspot_id=directive.hotspot_id,
        unit_code=directive.unit_code,
        topic_code=directive.topic_code,
        assignee=directive.assignee,
        instruction=directive.instruction,
        due_at=directive.due_at,
        state="overdue" if change == "overdue" else directive.state(now),
        change=change,
        note=entry.note if entry else None,
        result=entry.result if entry else None,
        by=entry.by if entry else directive.created_by,
        at=now,
        remind_before_seconds=directive.remind_before_seconds,
    )
    event = new_event(
        ev.DIRECTIVE_CHANGED,
        source=ev.SOURCE,
        data=data,
        key=directive.hotspot_id,
        subject=directive.id,
        event_id=ident,
    )
    return TRIAGE_DIRECTIVES, event


def _is_agency(principal: Principal) -> bool:
    return principal.role == "agency"


def _reaches(principal: Principal, directive: Directive) -> bool:
    if _is_agency(principal):
        return principal.agency_code is not None and directive.assignee == principal.agency_code
    return principal.sees_unit(directive.unit_code)


async def create_directive(
    svc: DirectiveService,
    *,
    hotspot_id: str,
    principal: Principal,
    assignee: str,
    instruction: str,
    due_at: datetime,
) -> Directive:
    """Direct an agency to act on a hot spot by a due time (standing_committee, department).

    404 for a hot spot outside reach, 409 on a resolved one, DirectiveInvalid (422) for an unknown or
    inactive agency, an empty instruction or a due time not ahead; nothing is stored on refusal."""
    hotspot = await svc.hotspot(hotspot_id)
    if hotspot is None or _is_agency(principal) or not principal.sees_unit(hotspot["unit_code"]):
        raise NotFoundError("hot spot")
    if hotspot["status"] == "resolved":
        raise ConflictError("the hot spot is resolved; it takes no new directives")
    now = svc.now()
    directive = Directive.create(
        directive_id="dir-" + uuid.uuid4().hex[:16],
        hotspot_id=hotspot["_id"],
        unit_code=hotspot["unit_code"],
        topic_code=hotspot["topic_code"],
        assignee=assignee,
        instruction=instruction,
        due_at=due_at,
        by=principal.subject,
        by_name=principal.name,
        now=now,
        remind_cap_seconds=svc.remind_cap_seconds,
    )
    agency = await svc.agencies.get(assignee)
    if agency is None or not agency.active:
        raise DirectiveInvalid("assignee", "is not a known active agency")
    await svc.outbox.emit_once(directive_changed(directive, "created", None, now), now)
    await svc.directives.add(directive)
    await svc.counters.add(open_delta=1)
    svc.kick()
    return directive


async def visible_directive(svc: DirectiveService, directive_id: str, principal: Principal) -> Directive:
    """The directive if it exists and the caller reaches it (404 otherwise)."""
    directive = await svc.directives.get(directive_id)
    if directive is None or not _reaches(principal, directive):
        raise NotFoundError("directive")
    return directive


async def list_directives(
    svc: DirectiveService,
    principal: Principal,
    *,
    state: DirectiveState | None,
    assignee: str | None,
    hotspot_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Directive]:
    """Directives in the caller's reach, newest first, up to limit + 1 (the extra one says there is more)."""
    if _is_agency(principal):
        if principal.agency_code is None or (assignee is not None and assignee != principal.agency_code):
            return []
        assignees: frozenset[str] | None = frozenset({principal.agency_code})
        units = None
    else:
        assignees = frozenset({assignee}) if assignee is not None else None
        allowed = principal.unit_filter()
        units = frozenset(allowed) if allowed is not None else None
        if units is not None and not units:
            return []
    flt = DirectiveFilter(state=state, assignees=assignees, hotspot_id=hotspot_id, units=units)
    return await svc.directives.page(flt, now=svc.now(), after=after, limit=limit)


async def record_update(
    svc: DirectiveService,
    *,
    directive_id: str,
    principal: Principal,
    note: str | None,
    done: bool,
    result: str | None,
) -> tuple[Directive, Change]:
    """Progress or completion by the assignee's agency users or the department (404 outside reach,
    409 once done or on a concurrent change, DirectiveInvalid for bad input)."""
    directive = await visible_directive(svc, directive_id, principal)
    expected = directive.version
    now = svc.now()
    entry = directive.record(
        by=principal.subject,
        by_name=principal.name,
        by_role=principal.role,
        note=note,
        done=done,
        result=result,
        now=now,
    )
    if not await svc.directives.claim_version(directive_id, directive.version, now):
        raise ConflictError("the directive changed meanwhile; reload it")
    was_overdue = await svc.directives.timer_fired(directive_id) if done else False
    change = "done" if done else "updated"
    await svc.outbox.emit_once(directive_changed(directive, change, entry, now), now)
    if not await svc.directives.save(directive, expected_version=expected):
        raise ConflictError("the directive changed meanwhile; reload it")
    if done:
        await svc.counters.add(**({"overdue_delta": -1} if was_overdue else {"open_delta": -1}))
    svc.kick()
    return directive, entry


async def agency_reaches_hotspot(svc: DirectiveService, principal: Principal, hotspot_id: str) -> bool:
    """True if an agency user's agency has a directive on the hot spot."""
    code = principal.agency_code
    return _is_agency(principal) and code is not None and await svc.directives.concerns(hotspot_id, code)


async def agency_hotspot_ids(svc: DirectiveService, principal: Principal) -> list[str]:
    """The hot spots an agency user's directives concern."""
    if not _is_agency(principal) or principal.agency_code is None:
        return []
    return await svc.directives.hotspots_of(principal.agency_code)


async def run_overdue(svc: DirectiveService, batch: int = 100, cutoff: datetime | None = None) -> int:
    """One timer pass, if this process holds the lease: emit the overdue transition, once, of each directive
    due by `cutoff` (default now), up to `batch` of them."""
    if await svc.lease.acquire(svc.now()) is None:
        return 0
    done = 0
    for directive_id in await svc.directives.due_timers(cutoff or svc.now(), batch):
        now = svc.now()
        if svc.lease.held(now) is None:
            break  # the term ran out mid-pass: the next holder carries on
        directive = await svc.directives.get(directive_id)
        if directive is None or directive.done:
            await svc.directives.fire(directive_id, now, "done")
            continue
        overdue = directive.overdue_change()
        first = await svc.outbox.emit_once(directive_changed(directive, "overdue", overdue, now), now)
        await svc.directives.fire(directive_id, now, "overdue")
        if first:  # the one stored overdue event moves the counts, whoever decided it
            await svc.counters.add(open_delta=-1, overdue_delta=1)
            svc.kick()
        done += 1
    return done


async def recount(svc: DirectiveService, cutoff: datetime) -> tuple[int, int] | None:
    """Heal the gauges' counters from the directives themselves (lease holder only, after a full timer pass
    up to `cutoff`, so "due by the cutoff" and "overdue emitted" agree); the (open, overdue) counted."""
    if svc.lease.held(svc.now()) is None:
        return None
    counted = await svc.directives.count_open(cutoff)
    await svc.counters.rebase(open_count=counted[0], overdue_count=counted[1])
    return counted


async def refresh_gauges(svc: DirectiveService) -> None:
    """Set the open/overdue gauges from the counters."""
    if svc.metrics is None:
        return
    open_count, overdue = await svc.counters.totals()
    svc.metrics.open.set(max(0, open_count))
    svc.metrics.overdue.set(max(0, overdue))


async def overdue_loop(svc: DirectiveService, stopping: asyncio.Event) -> None:
    """Run the overdue timer every `interval_seconds` until stopping (gauges refreshed on the way)."""
    last_recount = float("-inf")
    loop = asyncio.get_running_loop()
    try:
        while not stopping.is_set():
            try:
                cutoff = svc.now()
                batch = 100
                fired = await run_overdue(svc, batch, cutoff)
                due_recount = fired < batch and loop.time() - last_recount >= svc.recount_seconds
                if due_recount and await recount(svc, cutoff) is not None:
                    last_recount = loop.time()
                await refresh_gauges(svc)
            finally:
                if svc.metrics is not None:
                    svc.metrics.timer_runs.inc()
            try:
                await asyncio.wait_for(stopping.wait(), svc.interval_seconds)
            except TimeoutError:
                pass
    finally:
        try:
            await svc.lease.release()
        except Exception:  # the store may be gone at shutdown; the term then simply expires
            log.warning("could not release the directive-overdue lease", exc_info=True)


async def apply_agency_changed(svc: DirectiveService, event: CloudEvent) -> None:
    """Mirror an agency from intake's directory (idempotent; a late older change is ignored)."""
    data = intake_events.AgencyChanged.model_validate(event.data)
    agency = Agency(data.code, data.name, data.kind, data.unit_code, data.active)
    await svc.agencies.apply(agency, data.changed_at)


AGENCIES_GROUP = "triage-agencies"


def directory_handlers(svc: DirectiveService) -> dict[str, Callable[[CloudEvent], Awaitable[None]]]:
    """Handlers of intake.directory.v1 for the agencies mirror (user events belong to other consumers)."""

    async def agency_changed(event: CloudEvent) -> None:
        await apply_agency_changed(svc, event)

    return {intake_events.AGENCY_CHANGED: agency_changed}
