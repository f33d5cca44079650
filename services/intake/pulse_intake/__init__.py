"""Pulse intake service: reports, people, registries, orientations, surveys, Open311."""
