"""The intake domain: plain dataclasses and functions, no I/O."""
