"""How consumers classify failures: transient ones are retried, permanent ones dead-lettered."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NotEnoughReplicasError
from pydantic import ValidationError
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)

from pulse_libs.events.envelope import InvalidEventError
from pulse_libs.store import store_unavailable


class TransientError(Exception):
    """A failure that will pass (a dependency is down): retry without limit, with backoff."""


class PermanentError(Exception):
    """A failure retrying cannot fix (bad payload, broken invariant): dead-letter at once."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotEnoughReplicasError,
    asyncio.TimeoutError,
    ConnectionError,
)

PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentError,
    ValidationError,
    InvalidEventError,
)


def is_transient(exc: BaseException) -> bool:
    """True if `exc` signals a dependency outage rather than a bad message."""
    return isinstance(exc, TRANSIENT_ERRORS) or store_unavailable(exc)
