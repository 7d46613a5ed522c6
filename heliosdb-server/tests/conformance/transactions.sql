-- Transactions: BEGIN/COMMIT/ROLLBACK, savepoints, aborted transactions,
-- transactional DDL, isolation settings drivers send.

== commit and rollback
CREATE TABLE t (id INT);
----
BEGIN;
INSERT INTO t VALUES (1);
COMMIT;
BEGIN;
INSERT INTO t VALUES (2);
ROLLBACK;
SELECT id FROM t;

== start transaction and end
CREATE TABLE t (id INT);
----
START TRANSACTION;
INSERT INTO t VALUES (1);
END;
SELECT count(*) FROM t;

== aborted transaction rejects statements
CREATE TABLE t (id INT PRIMARY KEY);
----
BEGIN;
INSERT INTO t VALUES (1);
INSERT INTO t VALUES (1);
SELECT 1;
ROLLBACK;
SELECT count(*) FROM t;

== commit of aborted transaction rolls back
CREATE TABLE t (id INT);
----
BEGIN;
INSERT INTO t VALUES (1);
SELECT * FROM nosuchtable;
COMMIT;
SELECT count(*) FROM t;

== savepoint rollback to
CREATE TABLE t (id INT);
----
BEGIN;
INSERT INTO t VALUES (1);
SAVEPOINT sp1;
INSERT INTO t VALUES (2);
ROLLBACK TO SAVEPOINT sp1;
INSERT INTO t VALUES (3);
COMMIT;
SELECT id FROM t ORDER BY id;

== savepoint recovers from error
CREATE TABLE t (id INT PRIMARY KEY);
----
BEGIN;
INSERT INTO t VALUES (1);
SAVEPOINT s;
INSERT INTO t VALUES (1);
ROLLBACK TO s;
INSERT INTO t VALUES (2);
COMMIT;
SELECT id FROM t ORDER BY id;

== release savepoint
CREATE TABLE t (id INT);
----
BEGIN;
SAVEPOINT a;
INSERT INTO t VALUES (1);
RELEASE SAVEPOINT a;
ROLLBACK TO SAVEPOINT a;
ROLLBACK;
SELECT count(*) FROM t;

== nested savepoints
CREATE TABLE t (id INT);
----
BEGIN;
INSERT INTO t VALUES (1);
SAVEPOINT a;
INSERT INTO t VALUES (2);
SAVEPOINT b;
INSERT INTO t VALUES (3);
ROLLBACK TO a;
INSERT INTO t VALUES (4);
COMMIT;
SELECT id FROM t ORDER BY id;

== transactional ddl
----
BEGIN;
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1);
ROLLBACK;
SELECT * FROM t;

== drop table inside a rolled back transaction
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'a'), (2, 'b');
----
BEGIN;
DROP TABLE t;
SELECT count(*) FROM t;
ROLLBACK;
SELECT id, name FROM t ORDER BY id;

== drop table inside a committed transaction
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
CREATE TABLE u (id INT);
INSERT INTO t VALUES (1, 'a');
----
BEGIN;
INSERT INTO u VALUES (1);
INSERT INTO t VALUES (2, 'b');
DROP TABLE t;
DROP TABLE IF EXISTS t;
COMMIT;
SELECT count(*) FROM t;
SELECT id FROM u;
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
SELECT count(*) FROM t;

== drop table rolled back to a savepoint
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1);
----
BEGIN;
SAVEPOINT s;
DROP TABLE t;
ROLLBACK TO SAVEPOINT s;
SELECT id FROM t;
COMMIT;
SELECT id FROM t;

== ddl inside committed transaction
----
BEGIN;
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'a');
COMMIT;
SELECT id, name FROM t;

== isolation level statements
CREATE TABLE t (id INT);
----
BEGIN ISOLATION LEVEL SERIALIZABLE;
INSERT INTO t VALUES (1);
COMMIT;
BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;
SHOW transaction_isolation;
COMMIT;
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM t;
COMMIT;
START TRANSACTION READ ONLY;
SELECT count(*) FROM t;
INSERT INTO t VALUES (2);
ROLLBACK;

== read-only transactions and the default access mode
CREATE TABLE t (id INT);
CREATE SEQUENCE s;
----
BEGIN READ ONLY;
SHOW transaction_read_only;
SELECT count(*) FROM t;
UPDATE t SET id = 1;
ROLLBACK;
SHOW transaction_read_only;
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
SHOW default_transaction_read_only;
SHOW transaction_read_only;
INSERT INTO t VALUES (1);
SELECT nextval('s');
CREATE TABLE u (a INT);
DROP TABLE t;
SELECT count(*) FROM t;
BEGIN READ WRITE;
INSERT INTO t VALUES (2);
COMMIT;
SET default_transaction_read_only = off;
INSERT INTO t VALUES (3);
BEGIN;
SET TRANSACTION READ ONLY;
DELETE FROM t;
ROLLBACK;
BEGIN;
SET TRANSACTION READ ONLY;
SELECT id FROM t ORDER BY id;
COMMIT;
INSERT INTO t VALUES (4);
SELECT id FROM t ORDER BY id;

== commit without transaction
----
COMMIT;
ROLLBACK;

== rollback discards updates and deletes
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 1), (2, 2);
----
BEGIN;
UPDATE t SET n = 100;
DELETE FROM t WHERE id = 2;
SELECT id, n FROM t ORDER BY id;
ROLLBACK;
SELECT id, n FROM t ORDER BY id;

== error outside transaction does not affect next statement
CREATE TABLE t (id INT PRIMARY KEY);
----
INSERT INTO t VALUES (1);
INSERT INTO t VALUES (1);
INSERT INTO t VALUES (2);
SELECT id FROM t ORDER BY id;

== set and show session parameters
----
SET application_name = 'conformance';
SHOW application_name;
SET statement_timeout = 0;
SHOW statement_timeout;
SET client_encoding = 'UTF8';
SHOW client_encoding;
SET search_path TO public;
SHOW search_path;
SET extra_float_digits = 3;
SHOW extra_float_digits;
RESET extra_float_digits;
SHOW extra_float_digits;
SHOW default_transaction_isolation;
SHOW standard_conforming_strings;
SHOW server_encoding;
SET DateStyle = 'ISO, MDY';
SHOW DateStyle;
SHOW nosuch_param;
SELECT current_setting('application_name');
SELECT set_config('application_name', 'other', false);

== discard and deallocate
----
DEALLOCATE ALL;
DISCARD ALL;

== cursors
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1), (2), (3);
----
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id;
FETCH 2 FROM c;
FETCH NEXT FROM c;
FETCH NEXT FROM c;
CLOSE c;
COMMIT;
