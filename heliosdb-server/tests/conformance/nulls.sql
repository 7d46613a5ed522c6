-- NULL handling and three-valued logic: comparisons, AND/OR, IN with NULL,
-- IS DISTINCT FROM, COALESCE/NULLIF, LIKE and concat with NULL.

== null comparisons
----
SELECT NULL = NULL AS eq, NULL <> 1 AS ne, NULL IS NULL AS isnull, 1 IS NOT NULL AS notnull;
SELECT 1 = NULL IS NULL AS unknown_is_null;

== three-valued and or not
----
SELECT (NULL AND false) AS a, (NULL AND true) AS b, (NULL OR true) AS c, (NULL OR false) AS d, (NOT NULL::boolean) AS e;

== null in where filters rows
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 1), (2, NULL), (3, 3);
----
SELECT id FROM t WHERE n > 1;
SELECT id FROM t WHERE NOT (n > 1);
SELECT id FROM t WHERE n IS NULL;
SELECT id FROM t WHERE n IS NOT NULL ORDER BY id;
SELECT id FROM t WHERE n <> 1 ORDER BY id;

== in with null
----
SELECT 1 IN (1, NULL) AS a, 2 IN (1, NULL) AS b, 2 NOT IN (1, NULL) AS c, NULL IN (1, 2) AS d;

== not in subquery containing null
CREATE TABLE a (id INT);
CREATE TABLE b (id INT);
INSERT INTO a VALUES (1), (2);
INSERT INTO b VALUES (1), (NULL);
----
SELECT id FROM a WHERE id NOT IN (SELECT id FROM b);
SELECT id FROM a WHERE id IN (SELECT id FROM b);
SELECT id FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.id = a.id);

== is distinct from
----
SELECT NULL IS DISTINCT FROM NULL AS a, 1 IS DISTINCT FROM NULL AS b, 1 IS NOT DISTINCT FROM 1 AS c, NULL IS NOT DISTINCT FROM NULL AS d;

== coalesce nullif
----
SELECT coalesce(NULL, NULL, 3, 4) AS c, nullif(5, 5) AS n1, nullif(5, 6) AS n2;
SELECT coalesce(NULL::text, 'default') AS c;

== coalesce on column
CREATE TABLE t (id INT, nick TEXT, name TEXT);
INSERT INTO t VALUES (1, NULL, 'Ann'), (2, 'bo', 'Bob');
----
SELECT id, coalesce(nick, name) AS display FROM t ORDER BY id;

== like on nullable column
CREATE TABLE t (id INT, name TEXT);
INSERT INTO t VALUES (1, 'alpha'), (2, NULL), (3, 'beta');
----
SELECT id FROM t WHERE name LIKE 'a%';
SELECT id FROM t WHERE name ILIKE '%A%' ORDER BY id;
SELECT id FROM t WHERE name NOT LIKE 'a%';
SELECT id, name LIKE 'b%' AS starts_b FROM t ORDER BY id;

== concat and || with null
----
SELECT concat('a', NULL, 'b') AS c;
SELECT 'a' || NULL AS c;
SELECT concat_ws(',', 'a', NULL, 'b') AS c;

== arithmetic with null
----
SELECT 1 + NULL AS a, NULL * 2 AS b, -NULL::int AS c;

== null ordering
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 2), (2, NULL), (3, 1);
----
SELECT id, n FROM t ORDER BY n;
SELECT id, n FROM t ORDER BY n DESC;
SELECT id, n FROM t ORDER BY n NULLS FIRST;
SELECT id, n FROM t ORDER BY n DESC NULLS LAST;

== aggregates ignore null
CREATE TABLE t (n INT);
INSERT INTO t VALUES (1), (NULL), (3);
----
SELECT count(*) AS all_rows, count(n) AS non_null, sum(n) AS s, avg(n) AS a, min(n) AS mn, max(n) AS mx FROM t;

== aggregates over no rows
CREATE TABLE t (n INT);
----
SELECT count(*) AS c, sum(n) AS s, max(n) AS m, avg(n) AS a FROM t;

== null in case
----
SELECT CASE WHEN NULL THEN 'yes' ELSE 'no' END AS a, CASE NULL WHEN NULL THEN 'match' ELSE 'nomatch' END AS b;

== distinct treats nulls equal
CREATE TABLE t (n INT);
INSERT INTO t VALUES (NULL), (NULL), (1);
----
SELECT DISTINCT n FROM t;
SELECT count(DISTINCT n) AS c FROM t;

== group by null
CREATE TABLE t (g TEXT, n INT);
INSERT INTO t VALUES ('a', 1), (NULL, 2), (NULL, 3);
----
SELECT g, sum(n) AS s FROM t GROUP BY g;

== unique allows multiple nulls
CREATE TABLE t (id INT, code TEXT UNIQUE);
----
INSERT INTO t VALUES (1, NULL);
INSERT INTO t VALUES (2, NULL);
SELECT count(*) FROM t;

== between with null
----
SELECT NULL BETWEEN 1 AND 2 AS a, 1 BETWEEN NULL AND 2 AS b, 3 BETWEEN NULL AND 2 AS c;

== greatest least with null
----
SELECT greatest(1, NULL, 3) AS g, least(NULL, 2, 5) AS l;

== not in and any all with nulls in the subquery
CREATE TABLE a (id INT);
CREATE TABLE b (v INT);
INSERT INTO a VALUES (1), (2), (NULL);
INSERT INTO b VALUES (1), (NULL);
----
SELECT id, id NOT IN (SELECT v FROM b) AS ni, id IN (SELECT v FROM b) AS i FROM a ORDER BY id;
SELECT count(*) FROM a WHERE id NOT IN (SELECT v FROM b WHERE v IS NOT NULL);
SELECT 1 = ANY (SELECT v FROM b) AS a1, 2 = ANY (SELECT v FROM b) AS a2, 2 > ALL (SELECT v FROM b) AS a3, 0 < ALL (SELECT v FROM b WHERE v IS NOT NULL) AS a4;
SELECT NULL NOT IN (SELECT v FROM b WHERE v > 5) AS e1, 3 > ALL (SELECT v FROM b WHERE v > 5) AS e2;

== is true false unknown on nulls
CREATE TABLE t (id INT, ok BOOLEAN);
INSERT INTO t VALUES (1, true), (2, false), (3, NULL);
----
SELECT id, ok IS TRUE, ok IS NOT TRUE, ok IS FALSE, ok IS NOT FALSE, ok IS UNKNOWN, ok IS NOT UNKNOWN FROM t ORDER BY id;
SELECT id, ok IS DISTINCT FROM true AS d, ok IS NOT DISTINCT FROM NULL AS nd FROM t ORDER BY id;
