"""Domain errors of the intake service; routers map them to problem+json."""


class IntakeError(Exception):
    """Base of the intake service's domain errors."""
