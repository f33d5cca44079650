"""Idempotent topic creation at start-up: `python -m pulse_libs.kafka.admin` creates them all."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from pulse_libs.events.topics import all_topics_with_dlqs
from pulse_libs.kafka.naming import TopicNamer
from pulse_libs.settings import ServiceSettings

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: ServiceSettings, topics: Iterable[str] | None = None, *, wait_seconds: float = 60.0
) -> list[str]:
    """Create the missing topics (default: all Pulse topics and DLQs); return the names created."""
    namer = TopicNamer(settings.kafka_topic_prefix)
    wanted = [namer.physical(t) for t in (topics if topics is not None else all_topics_with_dlqs())]
    deadline = time.monotonic() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(**settings.kafka_client_options(), client_id=f"{settings.service_name}-admin")
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                new = [
                    NewTopic(
                        name=t,
                        num_partitions=settings.kafka_topic_partitions,
                        replication_factor=settings.kafka_replication_factor,
                        topic_configs={"min.insync.replicas": str(min(2, settings.kafka_replication_factor))},
                    )
                    for t in missing
                ]
                try:
                    await admin.create_topics(new)
                except TopicAlreadyExistsError:
                    pass  # another replica created them first
                log.info("created topics", extra={"topics": missing})
            return missing
        except KafkaConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)
        finally:
            await admin.close()


def main() -> None:
    """Create every Pulse topic and DLQ on the configured cluster."""
    logging.basicConfig(level=logging.INFO)
    created = asyncio.run(ensure_topics(ServiceSettings()))
    print(f"topics ready ({len(created)} created)")


if __name__ == "__main__":
    main()
