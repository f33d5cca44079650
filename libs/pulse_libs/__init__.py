"""Shared plumbing of the Pulse services."""
