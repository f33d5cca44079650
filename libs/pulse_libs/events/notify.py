"""Events produced by notify: delivery outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pulse_libs.events.common import EventModel

SOURCE = "pulse/notify"

DELIVERY_SENT = "pulse.delivery.sent.v1"
DELIVERY_DEAD = "pulse.delivery.dead.v1"


class DeliveryOutcome(EventModel):
    """A delivery reached its final state (topic notify.deliveries.v1, key delivery id)."""

    delivery_id: str
    event_id: str
    event_type: str
    recipient_id: str
    channel: Literal["zalo", "sms", "email", "webhook"]
    status: Literal["sent", "dead"]
    attempts: int
    last_error: str | None = None
    escalation_id: str | None = None
    level: int | None = None
    created_at: datetime
    finished_at: datetime
