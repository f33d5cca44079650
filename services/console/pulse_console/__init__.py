"""Pulse web console: Vietnamese pages for people, over the intake, triage, notify and reporting APIs."""
