"""Use cases of the triage service."""
