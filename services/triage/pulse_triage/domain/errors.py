"""Domain errors of the triage service; routers map them to problem+json."""


class TriageError(Exception):
    """Base of the triage service's domain errors."""
