"""The delivery worker loop and the backlog gauge loop (run by Runtime.add_loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from pulse_libs.clock import as_utc, utcnow
from pulse_libs.store import Document

from pulse_notify.adapters.channels import Channel, Outgoing
from pulse_notify.adapters.deliveries import DeliveryStore
from pulse_notify.adapters.directory import Directory
from pulse_notify.adapters.zalo import ZaloTokens
from pulse_notify.domain import rota
from pulse_notify.domain.model import CHANNELS, ChannelName, Message
from pulse_notify.domain.ratelimit import TokenBucket
from pulse_notify.domain.retry import Backoff, DeliveryFailed, permanent, transient
from pulse_notify.handlers import SUBSCRIPTION_PREFIX
from pulse_notify.metrics import NotifyMetrics
from pulse_notify.settings import NotifySettings

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Claims due deliveries with a lease, sends them, and records sent / retry / dead."""

    def __init__(
        self,
        *,
        settings: NotifySettings,
        store: DeliveryStore,
        directory: Directory,
        channels: Mapping[ChannelName, Channel],
        metrics: NotifyMetrics,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._directory = directory
        self._channels = channels
        self._metrics = metrics
        self._on_outbox = on_outbox
        self._backoff = Backoff(
            initial_seconds=settings.backoff_initial_seconds,
            max_seconds=settings.backoff_max_seconds,
            retry_after_max_seconds=settings.retry_after_max_seconds,
            max_attempts=settings.max_attempts,
        )
        self._buckets = {c: TokenBucket(settings.rate_per_second(c), settings.rate_burst) for c in CHANNELS}
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Wake idle senders now (new deliveries were recorded)."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Run one claimer and `worker_concurrency` senders until `stopping` is set."""
        if await _wait(stopping, self._settings.worker_start_delay_seconds) or self._settings.sending_paused:
            await stopping.wait()
            return
        queue: asyncio.Queue[Document] = asyncio.Queue(maxsize=self._settings.worker_concurrency)
        senders = [self._sender(stopping, queue) for _ in range(self._settings.worker_concurrency)]
        await asyncio.gather(self._claimer(stopping, queue), *senders)

    async def _claimer(self, stopping: asyncio.Event, queue: asyncio.Queue[Document]) -> None:
        # A single claimer per process: FerretDB updates are not atomic (see DeliveryStore.claim).
        # Claimed deliveries not sent when the process stops are not lost: their lease expires.
        while not stopping.is_set():
            try:
                docs = await self._store.claim(
                    now=utcnow(), lease_seconds=self._settings.lease_seconds, limit=self._settings.worker_concurrency
                )
            except Exception as exc:  # noqa: BLE001 - the store is down: back off, the loop must live on
                log.warning("claiming deliveries failed", extra={"error": repr(exc)})
                await _wait(stopping, 2.0)
                continue
            if not docs:
                self._wake.clear()
                await _wait_any(stopping, self._wake, self._settings.worker_poll_seconds)
                continue
            for doc in docs:
                await queue.put(doc)

    async def _sender(self, stopping: asyncio.Event, queue: asyncio.Queue[Document]) -> None:
        while not stopping.is_set():
            try:
                doc = await asyncio.wait_for(queue.get(), 0.5)
            except TimeoutError:
                continue
            try:
                await self._process(doc)
            except Exception as exc:  # noqa: BLE001 - the store failed while finishing: the lease will expire
                log.warning("finishing a delivery failed", extra={"delivery_id": doc["_id"], "error": repr(exc)})

    async def _process(self, doc: Document) -> None:
        channel: ChannelName = doc["channel"]
        try:
            await self._throttle(channel)
            out = await self._outgoing(doc)
            await self._channels[channel].send(out)
        except DeliveryFailed as failure:
            await self._failed(doc, failure)
            return
        except Exception as exc:
            log.exception("channel raised unexpectedly", extra={"delivery_id": doc["_id"]})
            await self._failed(doc, transient(f"{type(exc).__name__}: {exc}"))
            return
        now = utcnow()
        self._metrics.attempts.labels(channel, "ok").inc()
        if await self._store.mark_sent(doc, now=now):
            self._metrics.deliveries.labels(channel, "sent").inc()
            self._metrics.seconds.labels(channel).observe(max(0.0, (now - as_utc(doc["event_time"])).total_seconds()))
            self._on_outbox()

    async def _failed(self, doc: Document, failure: DeliveryFailed) -> None:
        channel = doc["channel"]
        now = utcnow()
        self._metrics.attempts.labels(channel, "transient" if failure.transient else "permanent").inc()
        attempts = int(doc["attempts"])
        if failure.transient and not self._backoff.exhausted(attempts):
            when = self._backoff.next_attempt_at(now, attempts, failure.retry_after)
            await self._store.schedule_retry(doc, when=when, now=now, error=failure.reason)
            log.info("delivery will be retried", extra={"delivery_id": doc["_id"], "error": failure.reason})
            return
        reason = failure.reason if not failure.transient else f"retry budget exhausted: {failure.reason}"
        if await self._store.mark_dead(doc, now=now, error=reason):
            self._metrics.deliveries.labels(channel, "dead").inc()
            self._on_outbox()
        log.warning("delivery is dead", extra={"delivery_id": doc["_id"], "error": reason})

    async def _throttle(self, channel: ChannelName) -> None:
        bucket = self._buckets[channel]
        wait = bucket.take()
        while wait > 0:
            await asyncio.sleep(wait)
            wait = bucket.take()

    async def _outgoing(self, doc: Document) -> Outgoing:
        secret: str | None = None
        if doc["channel"] == "webhook":
            rid = str(doc["recipient_id"])
            if rid.startswith(SUBSCRIPTION_PREFIX):
                sub = await self._directory.subscription(rid)
                if sub is None:
                    raise permanent("the webhook subscription was deleted")
                secret = sub.get("secret")
            else:
                secret = await self._directory.webhook_secret(rid)
        m = await self._store.message(doc["_id"])
        if m is None:
            raise permanent("the rendered message of this delivery is missing")
        return Outgoing(
            id=doc["_id"],
            address=doc["address"],
            message=Message(subject=m.get("subject", ""), text=m.get("text", ""), html=m.get("html"), data=m["data"]),
            event_type=doc["event_type"],
            event_time=as_utc(doc["event_time"]),
            secret=secret,
        )


async def pending_gauge_loop(
    stopping: asyncio.Event,
    *,
    store: DeliveryStore,
    metrics: NotifyMetrics,
    every: float,
    directory: Directory | None = None,
    tokens: ZaloTokens | None = None,
) -> None:
    """Refresh `pulse_deliveries_pending{channel}` and `pulse_duty_rota_gap` until stopped."""
    while not stopping.is_set():
        try:
            counts = await store.pending_by_channel()
            await store.sweep_claims(older_than=utcnow() - timedelta(days=1))
            for channel in CHANNELS:
                metrics.pending.labels(channel).set(counts.get(channel, 0))
            if directory is not None:
                metrics.rota_gap.set(1 if await rota_gap_now(directory) else 0)
            if tokens is not None:
                await tokens.sweep()
        except Exception as exc:  # noqa: BLE001 - a gauge refresh failing must not stop the loop
            log.warning("pending gauge refresh failed", extra={"error": repr(exc)})
        await _wait(stopping, every)


async def rota_gap_now(directory: Directory) -> bool:
    """True if a duty rota is set and names nobody who can be paged right now."""
    doc = await directory.rota("duty_officer")
    if doc is None:
        return False
    officers = await directory.recipients_for("duty_officer")
    return not rota.pick(rota.rota_from(doc).on_duty(utcnow()), officers)


async def _wait(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if stopping was set meanwhile."""
    if seconds <= 0:
        return stopping.is_set()
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _wait_any(stopping: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
