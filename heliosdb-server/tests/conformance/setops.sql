-- UNION / INTERSECT / EXCEPT with and without ALL.

== union and union all
CREATE TABLE a (n INT);
CREATE TABLE b (n INT);
INSERT INTO a VALUES (1), (2), (2), (3);
INSERT INTO b VALUES (2), (3), (4);
----
SELECT n FROM a UNION SELECT n FROM b ORDER BY n;
SELECT n FROM a UNION ALL SELECT n FROM b ORDER BY n;
SELECT n FROM a INTERSECT SELECT n FROM b ORDER BY n;
SELECT n FROM a INTERSECT ALL SELECT n FROM b ORDER BY n;
SELECT n FROM a EXCEPT SELECT n FROM b ORDER BY n;
SELECT n FROM a EXCEPT ALL SELECT n FROM b ORDER BY n;
SELECT n FROM a UNION SELECT n FROM b;
SELECT count(*) FROM (SELECT n FROM a UNION ALL SELECT n FROM b) u;

== union column names and literals
----
SELECT 1 AS x, 'a' AS y UNION ALL SELECT 2, 'b' ORDER BY x;
SELECT 1 UNION SELECT 1;
SELECT 'a' AS kind, 1 AS n UNION ALL SELECT 'b', 2 UNION ALL SELECT 'c', 3 ORDER BY n DESC LIMIT 2;

== union with null
----
SELECT NULL::int AS v UNION SELECT NULL::int;
SELECT 1 AS v UNION ALL SELECT NULL ORDER BY v;

== union column count mismatch
----
SELECT 1, 2 UNION SELECT 1;

== union with different tables and filters
CREATE TABLE staff (name TEXT, active BOOLEAN);
CREATE TABLE contractors (name TEXT, active BOOLEAN);
INSERT INTO staff VALUES ('ann', true), ('bob', false);
INSERT INTO contractors VALUES ('cid', true), ('ann', true);
----
SELECT name FROM staff WHERE active UNION SELECT name FROM contractors WHERE active ORDER BY name;
SELECT name, 'staff' AS src FROM staff UNION ALL SELECT name, 'contractor' FROM contractors ORDER BY name, src;

== set operation inside cte and subquery
CREATE TABLE a (n INT);
CREATE TABLE b (n INT);
INSERT INTO a VALUES (1), (2);
INSERT INTO b VALUES (2), (3);
----
WITH u AS (SELECT n FROM a UNION SELECT n FROM b) SELECT count(*) FROM u;
SELECT n FROM a WHERE n IN (SELECT n FROM b INTERSECT SELECT n FROM a);
SELECT max(n) FROM (SELECT n FROM a EXCEPT SELECT n FROM b) x;
(SELECT n FROM a ORDER BY n DESC LIMIT 1) UNION ALL (SELECT n FROM b ORDER BY n LIMIT 1);
