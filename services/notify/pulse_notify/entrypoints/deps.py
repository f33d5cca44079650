"""What routers need, wired once in bootstrap and found on `app.state.notify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from pulse_libs.auth import Principal
from pulse_libs.http.problems import ProblemError
from pulse_libs.http.security import CurrentPrincipal
from pulse_libs.store import Database

from pulse_notify.adapters.channels import WebhookChannel
from pulse_notify.adapters.deliveries import DeliveryStore
from pulse_notify.adapters.directory import Directory
from pulse_notify.adapters.zalo import ZaloTokens
from pulse_notify.handlers import Notifier
from pulse_notify.settings import NotifySettings


@dataclass(frozen=True)
class Services:
    """The notify use cases and stores."""

    settings: NotifySettings
    directory: Directory
    deliveries: DeliveryStore
    notifier: Notifier
    webhooks: WebhookChannel
    zalo_tokens: ZaloTokens
    db: Database
    """The store, for the audit chain (`adapters.audit`)."""


def _services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "notify", None)
    if services is None:
        raise ProblemError(503, "The service is starting; try again shortly.", headers={"Retry-After": "2"})
    return services


NotifyServices = Annotated[Services, Depends(_services)]


async def _recipient_reader(principal: CurrentPrincipal) -> Principal:
    if principal.has("recipients:read") or principal.role == "department":
        return principal
    raise ProblemError(403, "Reading recipients needs the admin or department role.")


RecipientReader = Annotated[Principal, Depends(_recipient_reader)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or bad credentials (problem+json)"},
    403: {"description": "The caller lacks the scope (problem+json)"},
    422: {"description": "Invalid input; `errors` lists each field (problem+json)"},
    503: {"description": "Store unavailable; retry after `Retry-After` (problem+json)"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Absent or outside the caller's scope"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The resource is managed elsewhere or in a conflicting state (problem+json)"}
}
