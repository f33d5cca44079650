"""REST routers of the triage service."""
