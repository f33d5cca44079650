"""Domain errors of the intake service; routers map them to problem+json."""

from __future__ import annotations


class IntakeError(Exception):
    """Base of the intake service's domain errors."""


class InvalidAnswerError(IntakeError):
    """A survey answer that does not fit its question."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
