"""Tamper-evident audit log: hash chains, one per writing process, and `python -m pulse_libs.audit verify`.

Every entry carries the hash of the entry before it in its chain and its own hash (SHA-256 over
a canonical JSON of all its fields, the previous hash, its chain and its position included). An
edited entry no longer matches its hash; a deleted or reordered one breaks the sequence or the
link to its predecessor; a deleted tail no longer matches the chain's head, which the chain's
record in `audit_chains` keeps (and which the process also writes to its log, an anchor outside
the store).

One writer per chain, by construction: each process starts its own chain (service, host, start
time, random suffix) and appends to it under a lock; entry ids are `<chain>:<seq>`, so a second
writer on the same chain would collide on the id instead of forking it. Two replicas therefore
write two chains, never one forked chain. `verify` walks every chain of a database; without `--db`
it walks the four services' databases (their `PULSE_<SERVICE>_MONGO_DB`, else `pulse_<service>`).

Services append through `AuditTrail` (the route dependency `pulse_libs.http.audit_routes.Audit`)
and serve `GET /v1/audit` from `pulse_libs.http.audit_routes.router`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError

from pulse_libs.auth import Principal
from pulse_libs.clock import as_utc, utcnow
from pulse_libs.store import Database

log = logging.getLogger(__name__)

ENTRIES = "audit_log"
CHAINS = "audit_chains"
GENESIS = "0" * 64
HASHED_FIELDS = ("chain", "seq", "at", "actor_id", "actor_kind", "actor_name", "actor_role", "action", "target")

AUDIT_INDEXES: dict[str, Sequence[IndexModel]] = {
    ENTRIES: [
        IndexModel([("at", DESCENDING)], name="at"),
        IndexModel([("chain", ASCENDING), ("seq", ASCENDING)], name="chain_seq"),
    ],
}


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers: its fields, details and previous hash, in a fixed form."""
    body: dict[str, Any] = {f: entry.get(f) for f in HASHED_FIELDS}
    body["at"] = as_utc(entry["at"]).isoformat(timespec="milliseconds")
    body["details"] = entry.get("details") or {}
    body["prev_hash"] = entry["prev_hash"]
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical form."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def _plain(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details as the store will give them back (JSON types only), so the hash recomputes."""
    value: dict[str, Any] = json.loads(json.dumps(dict(details or {}), ensure_ascii=False, default=str))
    return value


class AuditChainError(RuntimeError):
    """This process's chain collided with another writer (its id was taken)."""


class AuditLog:
    """The chain of one process on one database; `append` is the only way entries are written."""

    def __init__(self, db: Database, *, service: str, replica: str | None = None) -> None:
        self._db = db
        self._service = service
        self._replica = replica or f"{socket.gethostname()}-{os.getpid()}"
        self._chain: str | None = None
        self._seq = 0
        self._prev = GENESIS
        self._lock = asyncio.Lock()

    @property
    def client(self) -> object:
        """The store client this chain writes through."""
        return self._db.client

    @property
    def chain(self) -> str | None:
        """This process's chain id (None until the first entry)."""
        return self._chain

    async def _start(self) -> None:
        started = utcnow()
        self._chain = f"{self._service}.{self._replica}.{started.strftime('%Y%m%dT%H%M%S')}.{uuid.uuid4().hex[:6]}"
        self._seq, self._prev = 0, GENESIS
        await self._db[CHAINS].insert_one(
            {
                "_id": self._chain,
                "service": self._service,
                "replica": self._replica,
                "started_at": started,
                "last_seq": 0,
                "last_hash": GENESIS,
            }
        )
        log.info("audit chain started", extra={"chain": self._chain})

    async def append(
        self,
        *,
        action: str,
        target: str,
        actor_id: str,
        actor_kind: str,
        actor_name: str,
        actor_role: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry at the end of this process's chain and move the chain's head."""
        async with self._lock:
            if self._chain is None:
                await self._start()
            assert self._chain is not None
            entry: dict[str, Any] = {
                "chain": self._chain,
                "seq": self._seq + 1,
                "at": utcnow(),
                "actor_id": actor_id,
                "actor_kind": actor_kind,
                "actor_name": actor_name,
                "actor_role": actor_role,
                "action": action,
                "target": target,
                "details": _plain(details),
                "prev_hash": self._prev,
            }
            entry["hash"] = entry_hash(entry)
            entry["_id"] = f"{self._chain}:{entry['seq']:012d}"
            try:
                await self._db[ENTRIES].insert_one(entry)
            except DuplicateKeyError:
                # Someone else wrote at our position: never fork, start a fresh chain for the next entry.
                self._chain = None
                raise AuditChainError("audit chain position taken by another writer") from None
            self._seq, self._prev = entry["seq"], entry["hash"]
            await self._db[CHAINS].update_one(
                {"_id": self._chain},
                {"$set": {"last_seq": self._seq, "last_hash": self._prev, "updated_at": entry["at"]}},
            )
            log.info("audit", extra={"chain": self._chain, "seq": self._seq, "hash": self._prev, "action": action})
            return entry


_LOGS: dict[tuple[int, str], AuditLog] = {}


def audit_log_for(db: Database, *, service: str) -> AuditLog:
    """The process's chain on `db` (one per process and database)."""
    key = (id(db.client), db.name)
    found = _LOGS.get(key)
    if found is None or found.client is not db.client:  # a new client that reused a freed client's id
        found = _LOGS[key] = AuditLog(db, service=service)
    return found


class AuditTrail:
    """A service's audit entries on one database: who did what to which thing (or read what), and when."""

    def __init__(self, db: Database, *, service: str) -> None:
        self.db = db
        self.service = service

    async def record(
        self, *, actor: Principal, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Append one entry by a signed-in person or an API key."""
        return await audit_log_for(self.db, service=self.service).append(
            action=action,
            target=target,
            actor_id=actor.subject,
            actor_kind=actor.kind,
            actor_name=actor.name,
            actor_role=actor.role,
            details=details,
        )

    async def record_system(
        self, *, action: str, target: str, actor_id: str = "anonymous", details: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Append an entry whose actor is not signed in (a sign-in attempt, a signed link, a webhook)."""
        return await audit_log_for(self.db, service=self.service).append(
            action=action,
            target=target,
            actor_id=actor_id,
            actor_kind="anonymous",
            actor_name=actor_id,
            details=details,
        )


SERVICE_DATABASES = {
    "intake": ("PULSE_INTAKE_MONGO_DB", "pulse_intake"),
    "triage": ("PULSE_TRIAGE_MONGO_DB", "pulse_triage"),
    "notify": ("PULSE_NOTIFY_MONGO_DB", "pulse_notify"),
    "reporting": ("PULSE_REPORTING_MONGO_DB", "pulse_reporting"),
}
"""Where each service keeps its chains, as its settings read them."""


def service_databases(environ: Mapping[str, str] | None = None) -> list[str]:
    """The four services' database names (what `verify` walks when no `--db` is given)."""
    env = os.environ if environ is None else environ
    return [env.get(variable) or default for variable, default in SERVICE_DATABASES.values()]


@dataclass
class VerifyReport:
    """What `verify` found."""

    chains: int = 0
    entries: int = 0
    legacy: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no chain is broken."""
        return not self.problems


async def verify(db: Database) -> VerifyReport:
    """Walk every chain: hashes recompute, positions run 1, 2, 3…, each links to the one before, the head matches."""
    report = VerifyReport()
    report.legacy = await db[ENTRIES].count_documents({"chain": {"$exists": False}})
    heads = {str(d["_id"]): d async for d in db[CHAINS].find({})}
    names = set(heads) | {str(c) for c in await db[ENTRIES].distinct("chain") if c}
    for chain in sorted(names):
        report.chains += 1
        expected_seq, prev = 1, GENESIS
        async for entry in db[ENTRIES].find({"chain": chain}).sort("seq", ASCENDING):
            report.entries += 1
            seq = entry.get("seq")
            where = f"{chain} #{seq}"
            if seq != expected_seq:
                report.problems.append(f"{where}: expected position {expected_seq} (entries deleted or reordered)")
            if entry.get("_id") != f"{chain}:{int(seq or 0):012d}":
                report.problems.append(f"{where}: id {entry.get('_id')} does not match its position (moved)")
            if entry.get("prev_hash") != prev:
                report.problems.append(f"{where}: does not link to the entry before it (deleted or reordered)")
            if entry_hash(entry) != entry.get("hash"):
                report.problems.append(f"{where}: content does not match its hash (edited)")
            prev = str(entry.get("hash"))
            expected_seq = int(seq or 0) + 1
        head = heads.get(chain)
        last_seq = expected_seq - 1
        if head is None:
            report.problems.append(f"{chain}: no chain record (the record was deleted)")
        elif head.get("last_seq") == last_seq - 1 and last_seq > 0:
            report.warnings.append(f"{chain}: head lags one entry (the process stopped between two writes)")
        elif head.get("last_seq") != last_seq or head.get("last_hash") != prev:
            report.problems.append(
                f"{chain}: ends at #{last_seq} but its head says #{head.get('last_seq')} (entries deleted at the end)"
            )
    return report


async def _main(args: argparse.Namespace) -> int:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongo_url, tz_aware=True)
    try:
        status = 0
        for name in args.db or service_databases():
            report = await verify(client[name])
            print(
                f"{name}: {report.chains} chain(s), {report.entries} entries, {report.legacy} legacy (unchained)"
                f" — {'OK' if report.ok else 'BROKEN'}"
            )
            for warning in report.warnings:
                print(f"  warning: {warning}")
            for problem in report.problems:
                print(f"  {problem}")
            status = status or (0 if report.ok else 1)
        return status
    finally:
        await client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pulse_libs.audit verify [--db pulse_intake ...]`: exit 1 on any broken chain (default: all four)."""
    parser = argparse.ArgumentParser(prog="python -m pulse_libs.audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="verify every audit chain of the given databases")
    check.add_argument("--mongo-url", default=os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/"))
    check.add_argument(
        "--db", action="append", help="database name (repeatable; default: the four services' databases)"
    )
    args = parser.parse_args(argv)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
