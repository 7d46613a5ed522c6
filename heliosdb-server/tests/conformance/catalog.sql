-- Catalog queries drivers, ORMs and admin tools send: information_schema
-- and pg_catalog, filtered and projected like any table. Only facts that
-- follow from the case's own tables are selected (no OIDs, no versions).

== information_schema tables
CREATE TABLE alpha (id INT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE beta (id INT);
CREATE VIEW alpha_v AS SELECT id FROM alpha;
----
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;
SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE';
SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'beta';
SELECT table_name FROM information_schema.views WHERE table_schema = 'public';

== information_schema columns
CREATE TABLE alpha (id INT PRIMARY KEY, name TEXT NOT NULL, score NUMERIC(6,2), note VARCHAR(20) DEFAULT 'none', created DATE);
----
SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'alpha' ORDER BY ordinal_position;
SELECT column_name, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'alpha' ORDER BY ordinal_position;
SELECT column_name, character_maximum_length FROM information_schema.columns WHERE table_name = 'alpha' AND data_type = 'character varying';
SELECT column_name, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'score';
SELECT column_name, column_default FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'note';

== information_schema constraints
CREATE TABLE parent (id INT PRIMARY KEY, code TEXT UNIQUE);
CREATE TABLE child (id INT, pid INT REFERENCES parent (id), PRIMARY KEY (id));
----
SELECT table_name, constraint_type FROM information_schema.table_constraints WHERE table_schema = 'public' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') ORDER BY table_name, constraint_type;
SELECT kcu.table_name, kcu.column_name FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' ORDER BY kcu.table_name;
SELECT constraint_name FROM information_schema.table_constraints WHERE table_name = 'child' AND constraint_type = 'FOREIGN KEY';
SELECT count(*) FROM information_schema.key_column_usage WHERE table_name = 'parent';

== information_schema schemata
----
SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'public';
SELECT count(*) > 0 FROM information_schema.schemata WHERE schema_name IN ('pg_catalog', 'information_schema');

== pg_tables and pg_class
CREATE TABLE alpha (id INT PRIMARY KEY);
CREATE TABLE beta (id INT);
----
SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename;
SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename;
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname;
SELECT relname, relkind FROM pg_class WHERE relname = 'alpha';
SELECT count(*) FROM pg_class WHERE relname = 'alpha_pkey' AND relkind = 'i';

== pg_attribute columns of a table
CREATE TABLE alpha (id INT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(6,2));
----
SELECT a.attname, a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'alpha' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = 'alpha'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'alpha'::regclass AND a.attname = 'name';

== pg_type lookups drivers make
----
SELECT typname FROM pg_type WHERE oid = 23;
SELECT oid, typname FROM pg_type WHERE typname IN ('int4', 'text', 'bool', 'int8') ORDER BY oid;
SELECT typname, typlen FROM pg_catalog.pg_type WHERE typname = 'int8';

== pg_namespace
----
SELECT nspname FROM pg_namespace WHERE nspname = 'public';
SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname IN ('public', 'pg_catalog', 'information_schema');

== pg_index and pg_constraint
CREATE TABLE alpha (id INT PRIMARY KEY, code TEXT UNIQUE, n INT CHECK (n > 0));
CREATE INDEX alpha_n_idx ON alpha (n);
----
SELECT i.relname, ix.indisunique, ix.indisprimary FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid WHERE t.relname = 'alpha' ORDER BY i.relname;
SELECT conname, contype FROM pg_constraint WHERE conrelid = 'alpha'::regclass ORDER BY conname;
SELECT indexname FROM pg_indexes WHERE tablename = 'alpha' ORDER BY indexname;

== pg_database and current names
----
SELECT count(*) > 0 FROM pg_database;
SELECT current_schema();
SELECT current_schemas(false);
SELECT has_table_privilege('pg_class', 'SELECT');

== pg_settings
----
SELECT name, setting FROM pg_settings WHERE name = 'standard_conforming_strings';
SELECT setting FROM pg_catalog.pg_settings WHERE name = 'max_identifier_length';

== sqlalchemy has_table query
CREATE TABLE sa_author (id INT PRIMARY KEY);
----
SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relname = 'sa_author' AND pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND pg_catalog.pg_namespace.nspname != 'pg_catalog';

== table existence check as migrations do
CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY);
----
SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'schema_migrations');
SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'nope');
SELECT to_regclass('public.schema_migrations') IS NOT NULL, to_regclass('public.nope') IS NULL;

== catalog reflects ddl
CREATE TABLE t (id INT);
----
ALTER TABLE t ADD COLUMN extra TEXT;
SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position;
DROP TABLE t;
SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public';

== keys through unnest generate_subscripts and array_agg as sqlalchemy reads them
CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (c, a));
CREATE TABLE p (id INT PRIMARY KEY, code TEXT UNIQUE);
CREATE TABLE r (x INT REFERENCES p (id) ON DELETE CASCADE, y TEXT UNIQUE);
CREATE INDEX r_y_x ON r (x);
----
SELECT k.ord, a.attname FROM pg_attribute a JOIN (SELECT i.indrelid, unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord FROM pg_index i WHERE i.indisprimary) k ON a.attrelid = k.indrelid AND a.attnum = k.attnum WHERE a.attrelid = 't'::regclass ORDER BY k.ord;
SELECT array_agg(CAST(a.attname AS TEXT) ORDER BY k.ord) AS cols, count(*) AS n FROM pg_attribute a JOIN (SELECT c.conrelid, unnest(c.conkey) AS attnum, generate_subscripts(c.conkey, 1) AS ord FROM pg_constraint c WHERE c.contype = 'p') k ON a.attrelid = k.conrelid AND a.attnum = k.attnum WHERE k.conrelid = 't'::regclass GROUP BY k.conrelid;
SELECT unnest(indkey) AS k, generate_subscripts(indkey, 1) AS o FROM pg_index WHERE indrelid = 't'::regclass;
SELECT c.conname, pg_get_constraintdef(c.oid, true) FROM pg_constraint c WHERE c.conrelid IN ('t'::regclass, 'r'::regclass, 'p'::regclass) AND c.contype IN ('p', 'u', 'f') ORDER BY c.conname;
SELECT attr.conname, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1::INTEGER) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_description.description AS description FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_constraint' AS REGCLASS) WHERE pg_catalog.pg_constraint.contype IN ('p', 'u') AND pg_catalog.pg_constraint.conrelid IN ('t'::regclass, 'p'::regclass, 'r'::regclass)) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conname;
SELECT i.indisunique, i.indnkeyatts, i.indisvalid, i.indpred IS NULL, i.indoption, cl.relname FROM pg_index i JOIN pg_class cl ON cl.oid = i.indexrelid WHERE i.indrelid = 'r'::regclass ORDER BY cl.relname;
SELECT i.indclass, i.indkey FROM pg_index i WHERE i.indexrelid = 't_pkey'::regclass;
SELECT amname FROM pg_am WHERE amname = 'btree';
