"""Domain errors of the reporting service; routers map them to problem+json."""

from pulse_libs.periods import InvalidPeriodError

__all__ = [
    "ForbiddenError",
    "InvalidPeriodError",
    "InvalidRangeError",
    "NotFoundError",
    "PeriodAlreadyClosedError",
    "PeriodNotClosedError",
    "PeriodNotEndedError",
    "ReportingError",
]


class ReportingError(Exception):
    """Base of the reporting service's domain errors."""


class InvalidRangeError(ReportingError):
    """A statistics time range that is malformed or reversed (422)."""


class PeriodNotEndedError(ReportingError):
    """A period cannot be closed before its window has ended (409)."""


class PeriodAlreadyClosedError(ReportingError):
    """The period's figures are already frozen (409)."""


class NotFoundError(ReportingError):
    """Absent or outside the caller's scope (404)."""


class PeriodNotClosedError(ReportingError):
    """Only a closed period can be reopened (409)."""


class ForbiddenError(ReportingError):
    """The caller's role may not do this (403)."""
