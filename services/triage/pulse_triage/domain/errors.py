"""Domain errors of the triage service; routers map them to problem+json."""


class TriageError(Exception):
    """Base of the triage service's domain errors."""


class NotFoundError(TriageError):
    """The thing is absent or outside the caller's units (404, no existence leak)."""


class ConflictError(TriageError):
    """The thing is not in a state that allows the action (409)."""
