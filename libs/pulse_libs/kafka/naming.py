"""Topic namespacing: one cluster can host several Pulse deployments (or test runs) side by side."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicNamer:
    """Maps the logical topic names of `pulse_libs.events.topics` to names on the broker."""

    prefix: str = ""

    def physical(self, topic: str) -> str:
        """Return the broker-side name of a logical topic."""
        return self.prefix + topic

    def logical(self, physical: str) -> str:
        """Return the logical name of a broker-side topic."""
        return physical.removeprefix(self.prefix)
