"""Domain errors of the reporting service; routers map them to problem+json."""


class ReportingError(Exception):
    """Base of the reporting service's domain errors."""
