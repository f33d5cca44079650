"""Replay dead letters: `python -m pulse_libs.kafka.dlq_replay --topic intake.reports.v1 [--limit N] [--dry-run]`.

Reads `<topic>.dlq` as the group `pulse-dlq-replay`, republishes each record
(original key, value and CloudEvents headers; the `pulse_dlq_*` headers
stripped) to the topic it came from, and commits after each record, so a
second run does not replay the same letters again. Consumers dedupe by
`ce_id`, so replaying an event that did get processed is harmless. Fix the
cause first (deploy the fix), then replay.

One run replays only the letters that were in the DLQ when it started (its end
offsets, read before anything is republished): if the cause is not fixed, each
replayed event comes back as a new letter, and a run that followed them would
never end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition

from pulse_libs.events.topics import ALL_TOPICS, dlq
from pulse_libs.kafka.naming import TopicNamer
from pulse_libs.kafka.producer import EventProducer
from pulse_libs.settings import ServiceSettings

DLQ_HEADER_PREFIX = "pulse_dlq_"
REPLAY_GROUP = "pulse-dlq-replay"


async def replay(
    settings: ServiceSettings, topic: str, *, limit: int | None = None, dry_run: bool = False, idle_seconds: float = 3.0
) -> int:
    """Republish up to `limit` dead letters of `topic`; return how many were (or would be) replayed."""
    namer = TopicNamer(settings.kafka_topic_prefix)
    consumer = AIOKafkaConsumer(
        namer.physical(dlq(topic)),
        **settings.kafka_client_options(),
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = EventProducer(settings, client_id="pulse-dlq-replay")
    await consumer.start()
    count = 0
    stop_at: dict[TopicPartition, int] | None = None
    try:
        while limit is None or count < limit:
            batch = await consumer.getmany(timeout_ms=int(idle_seconds * 1000), max_records=100)
            if not batch:
                break  # idle: nothing more to replay
            if stop_at is None:
                stop_at = await consumer.end_offsets(list(consumer.assignment()))  # before we republish anything
            for tp, records in batch.items():
                for record in records:
                    if (limit is not None and count >= limit) or record.offset >= stop_at.get(tp, 0):
                        break  # over the limit, or a letter written after this run started (perhaps by our replays)
                    headers = [(k, v) for k, v in record.headers or () if not k.startswith(DLQ_HEADER_PREFIX)]
                    reason = dict(record.headers or ()).get("pulse_dlq_error", b"").decode("utf-8", "replace")
                    print(f"{'would replay' if dry_run else 'replaying'} offset {record.offset}: {reason}")
                    if not dry_run:
                        await producer.send_raw(topic, value=record.value, key=record.key, headers=headers)
                        await consumer.commit({TopicPartition(tp.topic, tp.partition): record.offset + 1})
                    count += 1
            if dry_run or await _all_reached(consumer, stop_at):
                break
    finally:
        await consumer.stop()
        await producer.stop()
    return count


async def _all_reached(consumer: AIOKafkaConsumer, stop_at: dict[TopicPartition, int]) -> bool:
    """True once every partition was read up to where it ended when the run started."""
    for tp, end in stop_at.items():
        if await consumer.position(tp) < end:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topic", required=True, choices=ALL_TOPICS, help="the logical topic whose DLQ to replay")
    parser.add_argument("--limit", type=int, default=None, help="replay at most this many letters")
    parser.add_argument("--dry-run", action="store_true", help="list the letters without republishing")
    args = parser.parse_args(argv)
    count = asyncio.run(replay(ServiceSettings(), args.topic, limit=args.limit, dry_run=args.dry_run))
    print(f"{count} dead letter(s) {'found' if args.dry_run else 'replayed'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
