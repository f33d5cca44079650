"""The reporting domain: plain dataclasses and functions, no I/O."""
