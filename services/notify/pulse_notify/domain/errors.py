"""Domain errors of the notify service; routers map them to problem+json."""


class NotifyError(Exception):
    """Base of the notify service's domain errors."""
