"""The notify domain: plain dataclasses and functions, no I/O."""
