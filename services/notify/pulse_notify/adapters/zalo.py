"""Zalo Official Account: the access-token lifecycle (OAuth v4 refresh, one claimant at a time) and the channel.

The refresh token is single-use and rotates: every refresh answers a new access token *and* a new
refresh token, and the old refresh token stops working. Two replicas refreshing at once would burn
it (the second call fails and the OA is locked out until an operator authorises the app again), so
a refresh is done by one claimant at a time: the holder of the `zalo-token-refresh` lease of
`pulse_libs.claims` (each term a unique-key insert into `leases`, since FerretDB updates are not atomic).
The holder reads the token again under the lease, calls Zalo, writes generation + 1 and gives the lease
up; the others wait for the new generation and use it. A holder that died or hung loses the lease after
`zalo_refresh_lease_seconds`, and the next contender takes it over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pulse_libs.claims import LEASES, Lease
from pulse_libs.clock import as_utc, utcnow
from pulse_libs.store import Database, Document
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from pulse_notify.domain import zns
from pulse_notify.domain.model import ChannelName
from pulse_notify.domain.retry import DeliveryFailed, parse_retry_after, permanent, transient
from pulse_notify.metrics import NotifyMetrics
from pulse_notify.settings import NotifySettings

log = logging.getLogger(__name__)

TOKENS = "zalo_tokens"
REFRESH_LEASE = "zalo-token-refresh"
TOKEN_ID = "oa"  # noqa: S105 - the id of the token document, not a secret
INDEXES = {LEASES: [IndexModel([("name", ASCENDING), ("term", DESCENDING)], name="name_term")]}
ZALO_TEXT_MAX = 2000
DEFAULT_EXPIRES_IN = 90000  # Zalo OA access tokens live about 25 hours


class TokenUnavailable(Exception):
    """No usable access token: none was ever stored, or the refresh failed."""


@dataclass(frozen=True)
class AccessToken:
    """The access token of one generation."""

    value: str
    generation: int
    expires_at: datetime


class ZaloTokens:
    """The OA's access and refresh tokens in notify's store, refreshed by the one holder of a lease."""

    def __init__(
        self, db: Database, settings: NotifySettings, client: httpx.AsyncClient, metrics: NotifyMetrics
    ) -> None:
        self._tokens = db[TOKENS]
        self._settings = settings
        self._client = client
        self._metrics = metrics
        self._owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._lease = Lease(
            db, REFRESH_LEASE, holder=self._owner, ttl=timedelta(seconds=settings.zalo_refresh_lease_seconds)
        )
        self._lock = asyncio.Lock()

    async def bootstrap(self) -> None:
        """Store the configured first tokens if the store has none (an insert: a second replica changes nothing)."""
        s = self._settings
        if not (s.zalo_refresh_token or s.zalo_access_token):
            return
        now = utcnow()
        expires = now + timedelta(seconds=DEFAULT_EXPIRES_IN) if s.zalo_access_token else now
        try:
            await self._tokens.insert_one(
                {
                    "_id": TOKEN_ID,
                    "generation": 0,
                    "access_token": s.zalo_access_token,
                    "refresh_token": s.zalo_refresh_token,
                    "expires_at": expires,
                    "updated_at": now,
                    "last_error": None,
                }
            )
        except DuplicateKeyError:
            return

    async def replace(self, *, refresh_token: str, access_token: str | None, expires_in: int | None) -> int:
        """An operator stores new tokens (after authorising the app again); returns the new generation."""
        doc = await self._tokens.find_one({"_id": TOKEN_ID})
        generation = int(doc["generation"]) + 1 if doc else 0
        now = utcnow()
        fields = {
            "generation": generation,
            "access_token": access_token or "",
            "refresh_token": refresh_token,
            "expires_at": now + timedelta(seconds=expires_in or DEFAULT_EXPIRES_IN) if access_token else now,
            "updated_at": now,
            "last_error": None,
            "failed_at": None,
        }
        await self._tokens.update_one({"_id": TOKEN_ID}, {"$set": fields}, upsert=True)
        return generation

    async def status(self) -> Document | None:
        """The stored token state without the secrets (for the admin API and the health of the channel)."""
        doc = await self._tokens.find_one({"_id": TOKEN_ID})
        if doc is None:
            return None
        return {
            "generation": doc.get("generation", 0),
            "expires_at": doc.get("expires_at"),
            "updated_at": doc.get("updated_at"),
            "has_refresh_token": bool(doc.get("refresh_token")),
            "last_error": doc.get("last_error"),
        }

    async def current(self) -> AccessToken:
        """A valid access token, refreshing first when it expires within the margin."""
        doc = await self._tokens.find_one({"_id": TOKEN_ID})
        if doc is None:
            raise TokenUnavailable("no Zalo OA token is stored: bootstrap PULSE_NOTIFY_ZALO_REFRESH_TOKEN")
        token = _token(doc)
        margin = timedelta(seconds=self._settings.zalo_refresh_margin_seconds)
        if token.value and token.expires_at - margin > utcnow():
            return token
        return await self.refresh(token.generation)

    async def refresh(self, stale_generation: int) -> AccessToken:
        """Replace the token of `stale_generation` (or return a newer one another claimant already got)."""
        async with self._lock:  # one contender per process; across processes the lease decides
            deadline = asyncio.get_running_loop().time() + self._settings.zalo_refresh_lease_seconds + 5
            while True:
                doc, newer = await self._still_stale(stale_generation)
                if newer is not None:
                    return newer
                if await self._lease.acquire() is not None:
                    try:
                        # read again under the lease: a holder before us may have refreshed meanwhile
                        doc, newer = await self._still_stale(stale_generation)
                        if newer is not None:
                            return newer
                        return await self._refresh_as_claimant(doc)
                    finally:
                        await self._lease.release()
                if asyncio.get_running_loop().time() > deadline:
                    raise TokenUnavailable("another replica is refreshing the Zalo token and has not finished")
                await asyncio.sleep(0.2)

    async def _still_stale(self, stale_generation: int) -> tuple[Document, AccessToken | None]:
        """The token document and, when a newer generation is stored, its token; raise while a refresh just failed."""
        doc = await self._tokens.find_one({"_id": TOKEN_ID})
        if doc is None:
            raise TokenUnavailable("no Zalo OA token is stored")
        if int(doc["generation"]) > stale_generation:
            return doc, _token(doc)
        failed_at = doc.get("failed_at")
        lease = self._settings.zalo_refresh_lease_seconds
        if failed_at is not None and (utcnow() - as_utc(failed_at)).total_seconds() < lease:
            # a refresh of this generation just failed: fail fast (senders of other channels must not
            # wait on Zalo); the next attempt is made once the lease after the failure is over
            raise TokenUnavailable(f"the Zalo token refresh failed: {doc.get('last_error')}")
        return doc, None

    async def _refresh_as_claimant(self, doc: Document) -> AccessToken:
        generation = int(doc["generation"])
        s = self._settings
        try:
            response = await self._client.post(
                s.zalo_oauth_url,
                headers={"secret_key": s.zalo_secret_key},
                data={
                    "app_id": s.zalo_app_id,
                    "refresh_token": doc.get("refresh_token", ""),
                    "grant_type": "refresh_token",
                },
            )
            answer: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            await self._failed(generation, f"Zalo OAuth unreachable or not JSON: {type(exc).__name__}: {exc}")
            raise TokenUnavailable("the Zalo token refresh failed") from None
        if not isinstance(answer, dict) or not answer.get("access_token") or not answer.get("refresh_token"):
            error = answer.get("error") if isinstance(answer, dict) else None
            reason = answer.get("error_description") or answer.get("error_name") if isinstance(answer, dict) else None
            await self._failed(
                generation,
                f"Zalo OAuth refused the refresh (HTTP {response.status_code}, "
                f"error {error}: {str(reason or '')[:200]})",
            )
            raise TokenUnavailable("the Zalo token refresh failed")
        try:
            expires_in = int(answer.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        now = utcnow()
        fields = {
            "generation": generation + 1,
            "access_token": str(answer["access_token"]),
            "refresh_token": str(answer["refresh_token"]),
            "expires_at": now + timedelta(seconds=expires_in),
            "updated_at": now,
            "last_error": None,
            "failed_at": None,
        }
        await self._tokens.update_one({"_id": TOKEN_ID, "generation": generation}, {"$set": fields})
        self._metrics.zalo_refreshes.labels("ok").inc()
        log.info("Zalo OA token refreshed", extra={"generation": generation + 1})
        return AccessToken(fields["access_token"], generation + 1, fields["expires_at"])  # type: ignore[arg-type]

    async def _failed(self, generation: int, reason: str) -> None:
        self._metrics.zalo_refreshes.labels("failed").inc()
        log.error("Zalo OA token refresh failed", extra={"generation": generation, "error": reason})
        await self._tokens.update_one(
            {"_id": TOKEN_ID, "generation": generation},
            {"$set": {"last_error": reason, "failed_at": utcnow(), "updated_at": utcnow()}},
        )

    async def sweep(self) -> int:
        """Forget old terms of the refresh lease (the latest ten are kept)."""
        return await self._lease.sweep()


def _token(doc: Document) -> AccessToken:
    return AccessToken(str(doc.get("access_token") or ""), int(doc["generation"]), as_utc(doc["expires_at"]))


class ZaloChannel:
    """Consultation message to the follower; ZNS template message by phone when Zalo answers -230."""

    name: ChannelName = "zalo"

    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient, tokens: ZaloTokens) -> None:
        self._settings = settings
        self._client = client
        self._tokens = tokens

    async def send(self, out: Any) -> None:
        """Send `out` (an `Outgoing`); raise DeliveryFailed with Zalo's code in the reason."""
        body = {"recipient": {"user_id": out.address}, "message": {"text": out.message.text[:ZALO_TEXT_MAX]}}
        code, message = await self._call("Zalo OA", self._settings.zalo_url, body)
        verdict = zns.verdict(code)
        if verdict == "ok":
            return
        if verdict == "not_interacted":
            await self._send_zns(out, code, message)
            return
        raise _failure("Zalo OA", code, message, verdict)

    async def _send_zns(self, out: Any, code: int, message: str) -> None:
        spec = out.message.data.get("zns") if isinstance(out.message.data, dict) else None
        if not spec or not spec.get("phone") or not spec.get("template_id"):
            raise permanent(
                f"Zalo OA error {code}: {message[:120]} (not interacted in 7 days) and no ZNS fallback: "
                "the recipient has no phone or the notice kind no ZNS template"
            )
        body = {
            "phone": spec["phone"],
            "template_id": spec["template_id"],
            "template_data": spec.get("template_data", {}),
            "tracking_id": out.id,
        }
        zcode, zmessage = await self._call("Zalo ZNS", self._settings.zalo_zns_url, body)
        verdict = zns.verdict(zcode)
        if verdict == "ok":
            return
        raise _failure("Zalo ZNS", zcode, zmessage, "permanent" if verdict == "not_interacted" else verdict)

    async def _call(self, what: str, url: str, body: dict[str, Any]) -> tuple[int, str]:
        """POST with the current token; on a token error refresh once and resend. Returns (code, message)."""
        try:
            token = await self._tokens.current()
        except TokenUnavailable as exc:
            raise transient(f"{what}: {exc}", 300.0) from None
        for attempt in (1, 2):
            code, message = await self._post(what, url, body, token.value)
            if zns.verdict(code) != "token" or attempt == 2:
                return code, message
            log.info("Zalo token refused; refreshing", extra={"code": code, "generation": token.generation})
            try:
                token = await self._tokens.refresh(token.generation)
            except TokenUnavailable as exc:
                raise transient(f"{what} error {code} ({message[:100]}) and {exc}", 300.0) from None
        raise AssertionError("unreachable")

    async def _post(self, what: str, url: str, body: dict[str, Any], token: str) -> tuple[int, str]:
        try:
            response = await self._client.post(url, json=body, headers={"access_token": token})
        except httpx.TimeoutException:
            raise transient(f"{what} timed out") from None
        except httpx.TransportError as exc:
            raise transient(f"{what} unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utcnow())
            raise transient(f"{what} answered HTTP {response.status_code}", retry_after)
        if response.status_code != 200:
            raise permanent(f"{what} answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer = response.json()
            return int(answer.get("error", 0)), str(answer.get("message", ""))
        except (ValueError, AttributeError, TypeError):
            raise transient(f"{what} answered a non-JSON body: {response.text[:200]}") from None


def _failure(what: str, code: int, message: str, verdict: str) -> DeliveryFailed:
    reason = f"{what} error {code}: {message[:200]}"
    if verdict in ("transient", "token"):
        return transient(reason, zns.TRANSIENT_CODES.get(code) or 60.0)
    return permanent(reason)
