"""HTTP edge: problem+json errors, body limits, pagination, auth dependencies, health routes."""
