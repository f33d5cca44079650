-- Local store only (scripts/infra.sh applies this at every PostgreSQL start; idempotent).
--
-- FerretDB 1.24's PostgreSQL handler pushes an equality filter down as `_jsonb->$1 @> $2`, while
-- the indexes it creates are btree indexes on `(_jsonb->'field')`. A btree cannot serve `@>`, so
-- every equality query was a sequential scan (find by _id: 2 ms at 1,000 documents, 20 ms at
-- 30,000). Here every FerretDB index gets a GIN twin on the same expressions, which serves `@>`
-- (find by _id at 30,000 documents: 1.0 ms). Production runs MongoDB and needs none of this.
--
-- The key `$1` is a bound parameter, so only a custom plan (parameters folded in) can match the
-- index expression: the database plans every statement with its parameters.

CREATE OR REPLACE FUNCTION pulse_gin_twin(idx oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  ix pg_index%ROWTYPE;
  name text;
  am text;
  exprs text := '';
  k int;
BEGIN
  SELECT * INTO ix FROM pg_index WHERE indexrelid = idx;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT c.relname, a.amname INTO name, am FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = idx;
  IF am <> 'btree' OR right(name, 4) = '_gin' THEN RETURN; END IF;
  FOR k IN 1..ix.indnkeyatts LOOP
    -- FerretDB's indexes are expressions only; a plain column means somebody else's index.
    IF ix.indkey[k - 1] <> 0 THEN RETURN; END IF;
    exprs := exprs || CASE WHEN k > 1 THEN ', ' ELSE '' END || '(' || pg_get_indexdef(idx, k, false) || ')';
  END LOOP;
  IF position('_jsonb' IN exprs) = 0 THEN RETURN; END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s)', left(name, 59) || '_gin', ix.indrelid::regclass, exprs);
END $$;

CREATE OR REPLACE FUNCTION pulse_gin_twins_created() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM pulse_gin_twin(r.objid);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION pulse_gin_twins_dropped() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
           WHERE object_type = 'index' AND right(object_name, 4) <> '_gin' AND NOT is_temporary LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', r.schema_name, left(r.object_name, 59) || '_gin');
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS pulse_gin_twins_created;
CREATE EVENT TRIGGER pulse_gin_twins_created ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION pulse_gin_twins_created();
DROP EVENT TRIGGER IF EXISTS pulse_gin_twins_dropped;
CREATE EVENT TRIGGER pulse_gin_twins_dropped ON sql_drop WHEN TAG IN ('DROP INDEX')
  EXECUTE FUNCTION pulse_gin_twins_dropped();

-- Indexes made before this file was applied (an existing cluster).
SELECT pulse_gin_twin(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%';

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;
