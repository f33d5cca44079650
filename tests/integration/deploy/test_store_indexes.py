"""The local store's indexes serve FerretDB's equality pushdown (deploy/local/postgres/ferretdb-gin-twins.sql).

FerretDB 1.24 sends an equality filter to PostgreSQL as `_jsonb->$1 @> $2`; its own btree indexes cannot
serve `@>`. scripts/infra.sh gives every FerretDB index a GIN twin on the same expressions and plans each
statement with its parameters. These tests run against the shared PostgreSQL that FerretDB stores in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.database import Database

MONGO = os.environ.get("PULSE_MONGO_URL", "mongodb://127.0.0.1:27017/")
PG_PORT = os.environ.get("PULSE_PG_PORT", "54329")


def psql_binary() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"), key=lambda p: int(p.parts[-3]))
    if found:
        return str(found[-1])
    path = shutil.which("psql")
    assert path, "psql not found: scripts/infra.sh installs Debian's postgresql package"
    return path


def sql(statement: str) -> str:
    """Run SQL in the ferretdb database as the cluster's user, as scripts/infra.sh does."""
    command = [psql_binary(), "-h", "127.0.0.1", "-p", PG_PORT, "-U", "pulse", "-d", "ferretdb"]
    command += ["-Atq", "-v", "ON_ERROR_STOP=1"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, input=statement, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def db() -> Iterator[Database[dict[str, object]]]:
    client: MongoClient[dict[str, object]] = MongoClient(MONGO)
    name = "gin_" + uuid.uuid4().hex[:10]
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


def indexes(schema: str) -> dict[str, str]:
    rows = sql(f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{schema}'")  # noqa: S608 (our names)
    return dict(line.split("|", 1) for line in rows.splitlines() if line)


def table_of(schema: str, collection: str) -> str:
    rows = sql(f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' AND tablename LIKE '{collection}_%'")  # noqa: S608
    assert rows, f"no table for {collection} in {schema}"
    return rows.splitlines()[0]


def test_every_ferretdb_index_gets_a_gin_twin_and_loses_it_when_dropped(db: Database[dict[str, object]]) -> None:
    db["things"].insert_one({"_id": "a", "unit": "00001", "meta": {"kind": "x"}})
    db["things"].create_index([("unit", 1), ("meta.kind", -1)], name="unit_kind")
    db["things"].create_index("code", unique=True, name="code_unique")

    found = indexes(db.name)
    btrees = {name: d for name, d in found.items() if "USING btree" in d and "_ferretdb_" not in name}
    assert len(btrees) == 3, found  # _id, unit_kind, code_unique
    for name, definition in btrees.items():
        twin = found.get(name[:59] + "_gin")
        assert twin is not None, f"{name} has no GIN twin: {found}"
        assert "USING gin" in twin
        # The same expressions, in the same order (GIN has no DESC).
        expressions = definition.split(" USING btree ", 1)[1].replace(" DESC", "")
        assert twin.split(" USING gin ", 1)[1] == expressions

    db["things"].drop_index("code_unique")
    after = indexes(db.name)
    assert not any("code_unique" in name for name in after), after
    assert any(name.endswith("_gin") and "unit_kind" in name for name in after)


def test_ferretdbs_pushed_down_equality_is_an_index_scan(db: Database[dict[str, object]]) -> None:
    db["reports"].insert_many([{"_id": f"r{i:05d}", "unit": f"{i % 50:05d}", "pad": "x" * 100} for i in range(3000)])
    db["reports"].create_index("unit")
    assert db["reports"].find_one({"_id": "r01234"}) == {"_id": "r01234", "unit": "00034", "pad": "x" * 100}
    assert db["reports"].count_documents({"unit": "00007"}) == 60

    table = table_of(db.name, "reports")
    sql(f"ANALYZE {db.name}.{table}")
    # The statement FerretDB prepares for an equality filter, planned as the database is set to plan it.
    plans = sql(
        f"""SET plan_cache_mode = force_custom_plan;
        PREPARE eq(text, jsonb) AS SELECT _jsonb FROM {db.name}.{table} WHERE _jsonb->$1 @> $2;
        EXPLAIN (FORMAT JSON) EXECUTE eq('_id', '"r01234"');
        EXPLAIN (FORMAT JSON) EXECUTE eq('unit', '"00007"');"""  # noqa: S608 (our names)
    )
    decoder = json.JSONDecoder()
    text, found = plans.strip(), []
    while text:
        plan, end = decoder.raw_decode(text)
        found.append(json.dumps(plan))
        text = text[end:].strip()
    assert len(found) == 2
    for plan in found:
        assert "Index Scan" in plan, plan
        assert '"Node Type": "Seq Scan"' not in plan, plan
    assert "plan_cache_mode=force_custom_plan" in sql(
        "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE d.datname = 'ferretdb'"
    )
