-- Everyday SELECT: projection, WHERE, ORDER BY, LIMIT/OFFSET, DISTINCT,
-- CASE, IN, BETWEEN, LIKE, aliases, column names PostgreSQL gives.

== select literals and column names
----
SELECT 1;
SELECT 1 AS one, 'x' AS letter;
SELECT 1 + 2;
SELECT 'hello';
SELECT true, false;

== basic table query
CREATE TABLE emp (id INT PRIMARY KEY, name TEXT, dept TEXT, salary INT);
INSERT INTO emp VALUES (1, 'ann', 'eng', 100), (2, 'bob', 'eng', 80), (3, 'cid', 'ops', 90), (4, 'dee', 'ops', 70), (5, 'eve', 'hr', 60);
----
SELECT * FROM emp ORDER BY id;
SELECT name, salary FROM emp WHERE dept = 'eng' ORDER BY salary DESC;
SELECT name FROM emp WHERE salary > 75 AND dept <> 'hr' ORDER BY name;
SELECT name FROM emp WHERE dept = 'hr' OR salary >= 100 ORDER BY name;
SELECT id FROM emp WHERE id IN (1, 3, 5) ORDER BY id;
SELECT id FROM emp WHERE id NOT IN (1, 3, 5) ORDER BY id;
SELECT id FROM emp WHERE salary BETWEEN 70 AND 90 ORDER BY id;
SELECT id FROM emp WHERE salary NOT BETWEEN 70 AND 90 ORDER BY id;

== order by limit offset
CREATE TABLE t (id INT, v TEXT);
INSERT INTO t VALUES (1, 'e'), (2, 'd'), (3, 'c'), (4, 'b'), (5, 'a');
----
SELECT id FROM t ORDER BY id LIMIT 2;
SELECT id FROM t ORDER BY id LIMIT 2 OFFSET 2;
SELECT id FROM t ORDER BY id OFFSET 4;
SELECT id FROM t ORDER BY v;
SELECT id, v FROM t ORDER BY 2 DESC LIMIT 1;
SELECT id FROM t ORDER BY id DESC FETCH FIRST 2 ROWS ONLY;
SELECT id FROM t ORDER BY id LIMIT ALL;
SELECT id FROM t ORDER BY id LIMIT 0;

== order by expression and alias
CREATE TABLE t (id INT, a INT, b INT);
INSERT INTO t VALUES (1, 5, 1), (2, 1, 1), (3, 3, 3);
----
SELECT id, a + b AS total FROM t ORDER BY total DESC, id;
SELECT id FROM t ORDER BY a * -1;
SELECT id, a FROM t ORDER BY b DESC, a ASC;

== distinct
CREATE TABLE t (a INT, b TEXT);
INSERT INTO t VALUES (1, 'x'), (1, 'x'), (2, 'x'), (2, 'y');
----
SELECT DISTINCT a FROM t ORDER BY a;
SELECT DISTINCT a, b FROM t ORDER BY a, b;
SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC;
SELECT DISTINCT ON (1) a AS k, b FROM t ORDER BY 1, 2;
SELECT DISTINCT ON (b) b, a FROM t ORDER BY b, a DESC LIMIT 1;
SELECT count(*) FROM (SELECT DISTINCT ON (a) a, b FROM t) s;

== like patterns
CREATE TABLE t (id INT, s TEXT);
INSERT INTO t VALUES (1, 'apple'), (2, 'Apricot'), (3, 'banana'), (4, 'a_b'), (5, 'axb');
----
SELECT id FROM t WHERE s LIKE 'a%' ORDER BY id;
SELECT id FROM t WHERE s ILIKE 'a%' ORDER BY id;
SELECT id FROM t WHERE s LIKE '%an%' ORDER BY id;
SELECT id FROM t WHERE s LIKE 'a_b' ORDER BY id;
SELECT id FROM t WHERE s LIKE 'a\_b' ORDER BY id;
SELECT id FROM t WHERE s NOT ILIKE '%p%' ORDER BY id;

== case expressions
CREATE TABLE t (id INT, score INT);
INSERT INTO t VALUES (1, 95), (2, 75), (3, 40);
----
SELECT id, CASE WHEN score >= 90 THEN 'A' WHEN score >= 70 THEN 'B' ELSE 'F' END AS grade FROM t ORDER BY id;
SELECT id, CASE id WHEN 1 THEN 'one' WHEN 2 THEN 'two' END AS word FROM t ORDER BY id;
SELECT CASE WHEN 1 > 2 THEN 1 END AS x;

== column name rules
CREATE TABLE t (id INT, name TEXT);
INSERT INTO t VALUES (1, 'a');
----
SELECT t.id, t.name FROM t;
SELECT id AS "Id", name AS "The Name" FROM t;
SELECT x.id FROM t AS x;
SELECT count(*), max(id), upper(name) FROM t GROUP BY name;
SELECT id + 1, name || 'z', -id FROM t;
SELECT CAST(id AS TEXT), id::bigint FROM t;
SELECT (SELECT 1), EXISTS (SELECT 1), CASE WHEN true THEN 1 END FROM t;

== quoted identifiers
----
CREATE TABLE "Mixed Case" ("Col A" INT, "select" TEXT);
INSERT INTO "Mixed Case" VALUES (1, 'kw');
SELECT "Col A", "select" FROM "Mixed Case";
SELECT "col a" FROM "Mixed Case";

== identifiers fold to lower case
CREATE TABLE Accounts (Id INT, UserName TEXT);
INSERT INTO accounts VALUES (1, 'u');
----
SELECT ID, USERNAME FROM ACCOUNTS;
SELECT * FROM accounts;

== where with arithmetic and comparison mix
CREATE TABLE t (id INT, a INT, b INT);
INSERT INTO t VALUES (1, 10, 3), (2, 6, 2), (3, 9, 4);
----
SELECT id FROM t WHERE a % b = 0 ORDER BY id;
SELECT id FROM t WHERE a / b = 2 ORDER BY id;
SELECT id FROM t WHERE (a > 5 AND b < 4) OR id = 3 ORDER BY id;
SELECT id FROM t WHERE NOT (a > 8) ORDER BY id;

== select without from
----
SELECT 2 * 3 AS six, 'a' || 'b' AS ab, 10 > 5 AS gt;

== values list
----
VALUES (1, 'one'), (2, 'two');
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v (n, s) ORDER BY n;

== table aliases and self reference
CREATE TABLE emp (id INT, name TEXT, manager_id INT);
INSERT INTO emp VALUES (1, 'boss', NULL), (2, 'ann', 1), (3, 'bob', 1);
----
SELECT e.name, m.name AS manager FROM emp e LEFT JOIN emp m ON e.manager_id = m.id ORDER BY e.id;

== limit with parameter-like expression
CREATE TABLE t (id INT);
INSERT INTO t VALUES (1), (2), (3);
----
SELECT id FROM t ORDER BY id LIMIT 1 + 1;

== boolean columns in where
CREATE TABLE t (id INT, done BOOLEAN);
INSERT INTO t VALUES (1, true), (2, false), (3, NULL);
----
SELECT id FROM t WHERE done;
SELECT id FROM t WHERE NOT done;
SELECT id FROM t WHERE done IS NOT TRUE ORDER BY id;
SELECT id FROM t WHERE done = false;

== explain runs
CREATE TABLE t (id INT);
----
EXPLAIN SELECT * FROM t;

== like escapes
CREATE TABLE l (id INT, s TEXT);
INSERT INTO l VALUES (1, 'axb'), (2, 'a_b'), (3, 'a%b'), (4, NULL), (5, 'A_B');
----
SELECT id FROM l WHERE s LIKE 'a!%b' ESCAPE '!' ORDER BY id;
SELECT id FROM l WHERE s ILIKE 'a\_b' ORDER BY id;
SELECT id, s NOT LIKE 'a\_%' FROM l ORDER BY id;

== fetch first and for update
CREATE TABLE t (id INT PRIMARY KEY);
INSERT INTO t VALUES (1), (2), (3);
----
SELECT id FROM t ORDER BY id FETCH FIRST 1 ROW ONLY;
SELECT id FROM t ORDER BY id FETCH NEXT 2 ROWS ONLY;
SELECT id FROM t WHERE id = 2 FOR UPDATE;
SELECT id FROM t ORDER BY id OFFSET 1 ROWS FETCH FIRST 1 ROWS ONLY;

== explain without costs
CREATE TABLE t (id INT, s TEXT);
----
EXPLAIN (COSTS OFF) SELECT * FROM t;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE id > 1;

== generate_series in from
CREATE TABLE gs (id INT PRIMARY KEY, v TEXT);
----
SELECT * FROM generate_series(1, 5);
SELECT g FROM generate_series(1, 10, 3) AS g;
SELECT x * 2 AS y FROM generate_series(5, 1, -2) AS s(x) ORDER BY y;
SELECT count(*) FROM generate_series(1, 1000) g;
SELECT * FROM generate_series(3, 1);
SELECT * FROM generate_series(1, 3, 0);
INSERT INTO gs SELECT g, 'v' || g FROM generate_series(1, 250) AS g;
SELECT count(*), min(id), max(id) FROM gs;
SELECT a.g, b.h FROM generate_series(1, 2) a(g) CROSS JOIN generate_series(10, 11) b(h) ORDER BY 1, 2;
SELECT gs.v FROM gs JOIN generate_series(1, 3) AS k ON gs.id = k ORDER BY 1;
SELECT sum(g) FROM pg_catalog.generate_series(-3, 3) g;
SELECT g FROM generate_series(2147483646, 2147483648) g ORDER BY g;
SELECT * FROM generate_series(1, 3) WITH ORDINALITY;
SELECT * FROM generate_series(5, 7) WITH ORDINALITY AS t(v, i) ORDER BY i;
SELECT t.v, t.i FROM generate_series(5, 7) WITH ORDINALITY AS t(v, i) WHERE t.i > 1 ORDER BY 1;
SELECT generate_series(1, 3);
SELECT generate_series(2, 8, 3) AS n, 'x' AS tag ORDER BY n DESC;
SELECT generate_series(1, 10) LIMIT 3;

== case and coalesce of integers and numerics resolve to numeric
CREATE TABLE cs (id INT PRIMARY KEY, status TEXT, total NUMERIC(8,2));
INSERT INTO cs VALUES (1, 'new', 10.50), (2, 'paid', NULL), (3, 'gone', 5);
----
SELECT id, CASE status WHEN 'new' THEN 1 WHEN 'paid' THEN 2.5 ELSE 0 END FROM cs ORDER BY id;
SELECT id, CASE WHEN id = 1 THEN NULL WHEN id = 2 THEN 2 ELSE 3.75 END AS v FROM cs ORDER BY id;
SELECT id, coalesce(total, 1), coalesce(NULL, id, 2.5), greatest(id, 1.5), least(id, 2.5::float8) FROM cs ORDER BY id;
SELECT CASE WHEN true THEN 1 ELSE 2.0 END, CASE WHEN false THEN 1.5::float8 ELSE 2 END, CASE WHEN false THEN 1 END;

== like and ilike any of an array
CREATE TABLE la (id INT PRIMARY KEY, name TEXT, email TEXT);
INSERT INTO la VALUES (1, 'Ann', 'ann@x.io'), (2, 'Bob', 'bob@y.io'), (3, 'Cy', NULL);
----
SELECT name FROM la WHERE name ILIKE ANY(ARRAY['a%','c%']) ORDER BY 1;
SELECT name FROM la WHERE name LIKE ANY (ARRAY['A%', NULL]) ORDER BY 1;
SELECT name, email NOT LIKE ANY(ARRAY['%x.io', 'b%']) FROM la ORDER BY 1;
SELECT name FROM la WHERE name ILIKE ANY('{a%,c%}') ORDER BY 1;
SELECT 'abc' LIKE ANY(ARRAY['x', 'a%']), 'abc' ILIKE ANY(ARRAY[]::text[]), NULL LIKE ANY(ARRAY['a']);
