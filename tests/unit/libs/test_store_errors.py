"""A store outage is told apart from a bad request: 503 and retry for the first, never for the second."""

from __future__ import annotations

from pulse_libs.kafka.errors import is_transient
from pulse_libs.store import store_unavailable, unstorable_text
from pymongo.errors import DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

# What FerretDB answered in the fault suite while its PostgreSQL was killed and restarting.
POSTMASTER_EXIT = (
    "[msg_insert.go:168 handler.(*Handler).MsgInsert] FATAL: terminating connection due to unexpected postmaster "
    "exit (SQLSTATE 57P01)"
)
REFUSED = (
    "[msg_insert.go:168 handler.(*Handler).MsgInsert] failed to connect to `user=pulse database=ferretdb`:\n"
    "\t127.0.0.1:54449 (127.0.0.1): dial error: dial tcp 127.0.0.1:54449: connect: connection refused"
)
STARTING = (
    "failed to connect: server error: FATAL: the database system is not yet accepting connections (SQLSTATE 57P03)"
)


def test_ferretdb_without_its_postgresql_is_an_outage() -> None:
    for message in (POSTMASTER_EXIT, REFUSED, STARTING):
        exc = OperationFailure(message, 1, {"ok": 0.0, "errmsg": message, "code": 1, "codeName": "InternalError"})
        assert store_unavailable(exc)
        assert is_transient(exc)
    assert store_unavailable(ServerSelectionTimeoutError("no servers"))


def test_bad_requests_are_not_outages() -> None:
    assert not store_unavailable(DuplicateKeyError("E11000 duplicate key error", 11000))
    bad = OperationFailure("unknown operator: $foo", 2, {"ok": 0.0, "errmsg": "unknown operator: $foo", "code": 2})
    assert not store_unavailable(bad)
    assert not is_transient(bad)


def test_a_nul_character_refused_by_postgresql_is_bad_input_not_an_outage() -> None:
    message = (
        "[msg_update.go:133 handler.(*Handler).updateDocument] [collection.go:218 postgresql.(*collection).UpdateAll] "
        "ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)"
    )
    exc = OperationFailure(message, 1, {"ok": 0.0, "errmsg": message, "code": 1})
    assert unstorable_text(exc)
    assert not store_unavailable(exc)
    assert not is_transient(exc)
