"""What request handlers need from the running service, set on `app.state.ctx` in the lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from pulse_libs.outbox import OutboxRelay
from pulse_libs.store import Database

from pulse_intake.adapters.registry_cache import RegistryCache
from pulse_intake.adapters.repositories import IntakeStore
from pulse_intake.adapters.throttle import LoginThrottle
from pulse_intake.metrics import IntakeMetrics
from pulse_intake.settings import IntakeSettings


@dataclass(frozen=True)
class IntakeContext:
    """Store, repositories, caches, metrics and settings of one intake process."""

    db: Database
    store: IntakeStore
    settings: IntakeSettings
    registry: RegistryCache
    throttle: LoginThrottle
    metrics: IntakeMetrics
    relay: OutboxRelay

    def kick(self) -> None:
        """Publish freshly written events now rather than at the next poll."""
        self.relay.kick()


async def _context(request: Request) -> IntakeContext:
    ctx: IntakeContext = request.app.state.ctx
    return ctx


Ctx = Annotated[IntakeContext, Depends(_context)]
