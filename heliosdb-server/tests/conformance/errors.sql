-- Errors applications react to by SQLSTATE class: syntax, undefined
-- objects, integrity violations, data exceptions. A case passes when both
-- servers fail with the same class (first two characters).

== syntax errors
----
SELEC 1;
SELECT * FROM;
SELECT 1 +;
INSERT INTO VALUES (1);
CREATE TABLE (id INT);

== undefined objects
CREATE TABLE t (id INT);
----
SELECT * FROM missing_table;
SELECT nosuchcol FROM t;
SELECT t.nosuchcol FROM t;
SELECT nosuchfunction(1);
INSERT INTO missing_table VALUES (1);
UPDATE t SET nosuchcol = 1;
DROP TABLE missing_table;
SELECT * FROM t ORDER BY nosuchcol;

== duplicate objects
CREATE TABLE t (id INT);
----
CREATE TABLE t (id INT);
CREATE TABLE u (id INT, id INT);
ALTER TABLE t ADD COLUMN id INT;

== integrity violations
CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT NOT NULL REFERENCES p (id), n INT CHECK (n > 0));
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (1, 1, 1);
----
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (2, NULL, 1);
INSERT INTO c VALUES (3, 42, 1);
INSERT INTO c VALUES (4, 1, 0);
DELETE FROM p WHERE id = 1;
UPDATE c SET pid = 7;

== data exceptions
CREATE TABLE t (i INT, d DATE, v VARCHAR(2));
----
SELECT 1 / 0;
SELECT 5 % 0;
INSERT INTO t (i) VALUES ('x');
INSERT INTO t (d) VALUES ('not a date');
INSERT INTO t (v) VALUES ('toolong');
SELECT 'abc'::int;
SELECT 99999999999::int;
SELECT CAST('2024-02-30' AS DATE);

== type mismatch
CREATE TABLE t (i INT, s TEXT);
----
SELECT i FROM t WHERE i = 'abc';
SELECT 1 + 'a';
SELECT s + 1 FROM t;
SELECT i FROM t WHERE s = 1;

== wrong number of arguments
----
SELECT upper('a', 'b');
SELECT substr();

== error position does not leak state
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1);
----
SELECT id FROM t WHERE id = 1 AND;
SELECT id FROM t;

== statement with string containing catalog names runs
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1), (2);
----
DELETE FROM t WHERE id = 1;
SELECT 'x from pg_catalog.y' AS s;
SELECT 'see information_schema.tables' AS s;
SELECT id FROM t;

== multiple statements in one query string
CREATE TABLE t (id INT);
----
INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);
SELECT count(*) FROM t;

== plan time errors on empty tables
CREATE TABLE t (id INT PRIMARY KEY, a INT, b TEXT);
CREATE TABLE u (id INT PRIMARY KEY, t_id INT);
----
SELECT a, count(*) FROM t;
SELECT t.nosuch FROM t;
SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE nosuch = 1);
SELECT a FROM t WHERE a < 'x1';
SELECT id FROM t JOIN u ON t.id = u.t_id;
SELECT b, sum(a) FROM t GROUP BY a;
