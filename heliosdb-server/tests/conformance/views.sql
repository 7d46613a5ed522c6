-- Views and sequences: reading views (filters, joins, aggregates, views
-- over views), their DDL and its failures, sequences and their functions,
-- and both in the catalogs.

== view with filter, join and aggregate
CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept INT, active BOOLEAN);
CREATE TABLE dept (id INT PRIMARY KEY, title TEXT);
INSERT INTO emp VALUES (1, 'ann', 1, true), (2, 'bob', 1, false), (3, 'cy', 2, true), (4, 'di', 2, true);
INSERT INTO dept VALUES (1, 'eng'), (2, 'ops');
----
CREATE VIEW active_emp AS SELECT id, name, dept FROM emp WHERE active;
SELECT * FROM active_emp ORDER BY id;
SELECT name FROM active_emp WHERE dept = 2 ORDER BY name;
SELECT d.title, count(*) FROM active_emp a JOIN dept d ON d.id = a.dept GROUP BY d.title ORDER BY d.title;
SELECT max(id), min(name) FROM active_emp;
SELECT count(*) FROM active_emp WHERE id IN (SELECT id FROM emp WHERE dept = 1);
UPDATE emp SET active = true WHERE id = 2;
SELECT count(*) FROM active_emp;

== view over view with column names
CREATE TABLE t (id INT, v TEXT);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
----
CREATE VIEW big (k, label) AS SELECT id, v FROM t WHERE id > 1;
CREATE VIEW bigger AS SELECT label FROM big WHERE k > 2;
SELECT * FROM big ORDER BY k;
SELECT * FROM bigger;
SELECT b.k FROM big AS b ORDER BY b.k DESC;
CREATE VIEW counts AS SELECT v, count(*) AS n FROM t GROUP BY v;
SELECT v, n FROM counts ORDER BY v;

== create or replace view keeps its columns
CREATE TABLE t (id INT, v TEXT);
INSERT INTO t VALUES (1, 'a');
----
CREATE VIEW w AS SELECT id FROM t;
CREATE OR REPLACE VIEW w AS SELECT id, v FROM t;
SELECT * FROM w;
CREATE OR REPLACE VIEW w AS SELECT v FROM t;
CREATE OR REPLACE VIEW w AS SELECT id FROM t;
SELECT * FROM w;

== view name clashes and bad definitions
CREATE TABLE t (id INT);
----
CREATE VIEW t AS SELECT 1 AS x;
CREATE VIEW w AS SELECT id FROM t;
CREATE VIEW w AS SELECT id FROM t;
CREATE TABLE w (x INT);
CREATE VIEW bad AS SELECT * FROM nope;
CREATE VIEW bad AS SELECT nope FROM t;
DROP VIEW t;
DROP TABLE w;
DROP VIEW nope;
DROP VIEW IF EXISTS nope;

== drop table a view reads
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1);
CREATE VIEW w AS SELECT id FROM t;
CREATE VIEW w2 AS SELECT id FROM w;
----
DROP TABLE t;
DROP VIEW w;
SELECT * FROM w2;
DROP VIEW w2, w;
DROP TABLE t;
SELECT * FROM w;

== drop table cascade drops its views
CREATE TABLE t (id INT);
CREATE VIEW w AS SELECT id FROM t;
----
DROP TABLE t CASCADE;
SELECT * FROM w;
CREATE TABLE w (id INT);
SELECT count(*) FROM w;

== a view that is not updatable refuses writes
CREATE TABLE t (id INT, g INT);
INSERT INTO t VALUES (1, 1), (2, 1);
CREATE VIEW per_g AS SELECT g, count(*) AS n FROM t GROUP BY g;
----
INSERT INTO per_g VALUES (2, 5);
UPDATE per_g SET n = 0;
DELETE FROM per_g;
SELECT g, n FROM per_g;

== views in the catalogs
CREATE TABLE t (id INT, name TEXT);
CREATE VIEW t_names AS SELECT name FROM t;
----
SELECT relname, relkind FROM pg_catalog.pg_class WHERE relname IN ('t', 't_names') ORDER BY relname;
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;
SELECT table_name FROM information_schema.views WHERE table_schema = 'public';
SELECT viewname FROM pg_catalog.pg_views WHERE schemaname = 'public';
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't_names';

== sequence options
----
CREATE SEQUENCE s1 MINVALUE 1 MAXVALUE 3 START WITH 2 CYCLE;
SELECT nextval('s1');
SELECT nextval('s1');
SELECT nextval('s1');
CREATE SEQUENCE s2 INCREMENT BY -5;
SELECT nextval('s2'), nextval('s2');
CREATE SEQUENCE s3 AS integer START 7;
SELECT nextval('s3');
SELECT setval('s3', 20, false);
SELECT nextval('s3');
SELECT currval('s3');

== sequence errors
CREATE TABLE t (id INT);
----
CREATE SEQUENCE s MAXVALUE 2;
SELECT currval('s');
SELECT nextval('s');
SELECT nextval('s');
SELECT nextval('s');
SELECT setval('s', 0);
SELECT nextval('nope');
CREATE SEQUENCE s;
CREATE SEQUENCE IF NOT EXISTS s;
CREATE SEQUENCE t;
CREATE SEQUENCE z INCREMENT BY 0;
CREATE SEQUENCE z MINVALUE 10 MAXVALUE 1;
DROP SEQUENCE nope;
DROP SEQUENCE IF EXISTS nope;
DROP SEQUENCE s;
SELECT nextval('s');

== nextval is not rolled back
CREATE SEQUENCE s;
----
BEGIN;
SELECT nextval('s');
ROLLBACK;
SELECT nextval('s');

== column default nextval
CREATE SEQUENCE ids START 10;
----
CREATE TABLE item (id BIGINT PRIMARY KEY DEFAULT nextval('ids'), name TEXT);
INSERT INTO item (name) VALUES ('a'), ('b');
INSERT INTO item VALUES (DEFAULT, 'c');
INSERT INTO item (name) VALUES ('d') RETURNING id;
SELECT id, name FROM item ORDER BY id;
SELECT currval('ids');
SELECT column_default FROM information_schema.columns WHERE table_name = 'item' AND column_name = 'id';

== serial sequence by name
CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT);
INSERT INTO t (v) VALUES ('a');
----
SELECT nextval('t_id_seq');
SELECT setval('t_id_seq', 10);
INSERT INTO t (v) VALUES ('b');
SELECT id, v FROM t ORDER BY id;
SELECT currval('t_id_seq');

== sequences in the catalogs
CREATE SEQUENCE s INCREMENT 2 START 5;
----
SELECT relname, relkind FROM pg_catalog.pg_class WHERE relname = 's';
SELECT sequence_name, data_type, start_value, minimum_value, increment, cycle_option FROM information_schema.sequences;
SELECT sequencename, start_value, increment_by, last_value FROM pg_catalog.pg_sequences;
SELECT nextval('s');
SELECT sequencename, last_value FROM pg_catalog.pg_sequences;

== insert into a simple view
CREATE TABLE t (id INT PRIMARY KEY, v TEXT, flag BOOLEAN DEFAULT true);
CREATE VIEW tv (k, label) AS SELECT id, v FROM t;
----
INSERT INTO tv VALUES (1, 'a');
INSERT INTO tv (label, k) VALUES ('b', 2);
SELECT id, v, flag FROM t ORDER BY id;
SELECT * FROM tv ORDER BY k;
INSERT INTO tv (nope) VALUES (1);
