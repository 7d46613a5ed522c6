-- Subqueries and CTEs: scalar, IN, EXISTS, correlated, derived tables,
-- WITH, WITH RECURSIVE, data-modifying CTEs.

== scalar subqueries
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);
----
SELECT id, n - (SELECT avg(n) FROM t) AS diff FROM t ORDER BY id;
SELECT (SELECT max(n) FROM t) AS mx;
SELECT id FROM t WHERE n = (SELECT max(n) FROM t);
SELECT id FROM t WHERE n > (SELECT n FROM t WHERE id = 1) ORDER BY id;
SELECT (SELECT n FROM t WHERE id = 99) AS missing;
SELECT (SELECT n FROM t) AS too_many;

== in and exists
CREATE TABLE c (id INT, name TEXT);
CREATE TABLE o (id INT, cid INT);
INSERT INTO c VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO o VALUES (1, 1), (2, 1), (3, 3);
----
SELECT name FROM c WHERE id IN (SELECT cid FROM o) ORDER BY name;
SELECT name FROM c WHERE id NOT IN (SELECT cid FROM o);
SELECT name FROM c WHERE EXISTS (SELECT 1 FROM o WHERE o.cid = c.id) ORDER BY name;
SELECT name FROM c WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.cid = c.id);
SELECT name, (SELECT count(*) FROM o WHERE o.cid = c.id) AS orders FROM c ORDER BY name;

== any all
CREATE TABLE t (n INT);
INSERT INTO t VALUES (1), (5), (10);
----
SELECT 5 = ANY (SELECT n FROM t) AS a, 5 > ALL (SELECT n FROM t) AS b, 11 > ALL (SELECT n FROM t) AS c;
SELECT n FROM t WHERE n > ANY (SELECT n FROM t WHERE n < 6) ORDER BY n;

== correlated subquery in where
CREATE TABLE emp (id INT, dept TEXT, salary INT);
INSERT INTO emp VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 15), (4, 'b', 5);
----
SELECT id FROM emp e WHERE salary > (SELECT avg(salary) FROM emp WHERE dept = e.dept) ORDER BY id;
SELECT id FROM emp e WHERE salary = (SELECT max(salary) FROM emp x WHERE x.dept = e.dept) ORDER BY id;

== derived table
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 10), (2, 20);
----
SELECT s.total FROM (SELECT sum(n) AS total FROM t) AS s;
SELECT x.id FROM (SELECT id, n FROM t WHERE n > 10) x;
SELECT count(*) FROM (SELECT DISTINCT n FROM t) sub;

== simple cte
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);
----
WITH big AS (SELECT id, n FROM t WHERE n > 10) SELECT id FROM big ORDER BY id;
WITH a AS (SELECT sum(n) AS s FROM t), b AS (SELECT count(*) AS c FROM t) SELECT s, c FROM a, b;
WITH a AS (SELECT id FROM t), b AS (SELECT id FROM a WHERE id > 1) SELECT count(*) FROM b;
WITH x (k, v) AS (VALUES (1, 'one'), (2, 'two')) SELECT k, v FROM x ORDER BY k;

== cte joined with table
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);
----
WITH totals AS (SELECT sum(n) AS s FROM t) SELECT t.id, t.n * 100 / totals.s AS pct FROM t, totals ORDER BY t.id;

== recursive cte counting
----
WITH RECURSIVE nums (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 5) SELECT n FROM nums;
WITH RECURSIVE f (n, fact) AS (SELECT 1, 1 UNION ALL SELECT n + 1, fact * (n + 1) FROM f WHERE n < 6) SELECT max(fact) FROM f;

== recursive cte tree
CREATE TABLE cat (id INT, parent INT, name TEXT);
INSERT INTO cat VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'a1'), (5, 4, 'a1x');
----
WITH RECURSIVE tree AS (SELECT id, name, 0 AS depth FROM cat WHERE parent IS NULL UNION ALL SELECT c.id, c.name, tree.depth + 1 FROM cat c JOIN tree ON c.parent = tree.id) SELECT id, name, depth FROM tree ORDER BY id;
WITH RECURSIVE up AS (SELECT id, parent FROM cat WHERE id = 5 UNION ALL SELECT c.id, c.parent FROM cat c JOIN up ON c.id = up.parent) SELECT count(*) FROM up;

== data modifying cte
CREATE TABLE t (id INT, n INT);
CREATE TABLE archive (id INT, n INT);
INSERT INTO t VALUES (1, 1), (2, 2);
----
WITH moved AS (DELETE FROM t WHERE id = 1 RETURNING id, n) INSERT INTO archive SELECT id, n FROM moved;
SELECT id FROM t;
SELECT id FROM archive;

== subquery in select list with alias
CREATE TABLE p (id INT, name TEXT);
CREATE TABLE c (pid INT, v INT);
INSERT INTO p VALUES (1, 'x'), (2, 'y');
INSERT INTO c VALUES (1, 3), (1, 4);
----
SELECT p.name, (SELECT sum(v) FROM c WHERE c.pid = p.id) AS total FROM p ORDER BY p.id;

== in list subquery with multiple columns error
CREATE TABLE t (a INT, b INT);
----
SELECT * FROM t WHERE a IN (SELECT a, b FROM t);
