"""The triage domain: plain dataclasses and functions, no I/O."""
