-- Aggregates and GROUP BY / HAVING as reports and dashboards use them.

== count sum avg min max
CREATE TABLE sales (id INT, region TEXT, amount INT);
INSERT INTO sales VALUES (1, 'n', 10), (2, 'n', 20), (3, 's', 5), (4, 's', 15), (5, 'w', 7);
----
SELECT count(*), sum(amount), min(amount), max(amount) FROM sales;
SELECT avg(amount) FROM sales;
SELECT region, count(*) AS n, sum(amount) AS total FROM sales GROUP BY region ORDER BY region;
SELECT region, avg(amount) AS mean FROM sales GROUP BY region ORDER BY region;
SELECT region, sum(amount) FROM sales GROUP BY region HAVING sum(amount) > 10 ORDER BY region;
SELECT region FROM sales GROUP BY region HAVING count(*) = 1;
SELECT region, max(amount) - min(amount) AS spread FROM sales GROUP BY region ORDER BY spread DESC, region;

== group by ordinal and expression
CREATE TABLE t (name TEXT, n INT);
INSERT INTO t VALUES ('Ab', 1), ('ab', 2), ('cd', 3);
----
SELECT lower(name), sum(n) FROM t GROUP BY lower(name) ORDER BY 1;
SELECT lower(name) AS l, count(*) FROM t GROUP BY 1 ORDER BY 1;

== sum and avg types
CREATE TABLE t (i INT, b BIGINT, n NUMERIC(10,2), f DOUBLE PRECISION);
INSERT INTO t VALUES (1, 10, 1.50, 0.5), (2, 20, 2.25, 1.5);
----
SELECT sum(i), sum(b), sum(n), sum(f) FROM t;
SELECT avg(i), avg(n), avg(f) FROM t;
SELECT max(n), min(f) FROM t;

== count distinct
CREATE TABLE t (g INT, v INT);
INSERT INTO t VALUES (1, 1), (1, 1), (1, 2), (2, 3);
----
SELECT count(DISTINCT v) FROM t;
SELECT g, count(DISTINCT v) AS dv FROM t GROUP BY g ORDER BY g;
SELECT sum(DISTINCT v) FROM t;

== string_agg and array_agg
CREATE TABLE t (g INT, s TEXT);
INSERT INTO t VALUES (1, 'a'), (1, 'b'), (2, 'c');
----
SELECT g, string_agg(s, ',' ORDER BY s) AS joined FROM t GROUP BY g ORDER BY g;
SELECT array_agg(s ORDER BY s) FROM t;

== array_agg and string_agg ordered with nulls and quoting
CREATE TABLE t (g INT, s TEXT, n INT);
INSERT INTO t VALUES (1, 'a b', 3), (1, NULL, 1), (1, 'NULL', 2), (2, '', 5), (2, 'x,y', NULL), (2, 'q"\', 4), (3, '{}', 6);
----
SELECT g, array_agg(s ORDER BY n) AS ss FROM t GROUP BY g ORDER BY g;
SELECT g, array_agg(n ORDER BY n DESC) FROM t GROUP BY g ORDER BY g DESC;
SELECT array_agg(n ORDER BY n NULLS FIRST) FROM t;
SELECT array_agg(s) FROM t WHERE false;
SELECT count(*), array_agg(g ORDER BY n, g), min(s), max(n), bool_and(n > 0), count(n) FROM t;
SELECT g, string_agg(s, '|' ORDER BY n DESC) AS joined, count(*) FROM t GROUP BY g ORDER BY joined;
SELECT array_agg(n > 2 ORDER BY g, n) FROM t WHERE g = 1;
SELECT g AS grp, array_agg(n ORDER BY n) FROM t WHERE n IS NOT NULL GROUP BY 1 ORDER BY grp LIMIT 2 OFFSET 1;
SELECT x.g, x.a FROM (SELECT g, array_agg(n ORDER BY n) AS a FROM t GROUP BY g) x ORDER BY x.g;

== bool aggregates
CREATE TABLE t (g INT, ok BOOLEAN);
INSERT INTO t VALUES (1, true), (1, false), (2, true);
----
SELECT g, bool_and(ok) AS all_ok, bool_or(ok) AS any_ok FROM t GROUP BY g ORDER BY g;

== aggregate filter clause
CREATE TABLE t (status TEXT, n INT);
INSERT INTO t VALUES ('paid', 10), ('open', 5), ('paid', 7);
----
SELECT count(*) FILTER (WHERE status = 'paid') AS paid, sum(n) FILTER (WHERE status = 'open') AS open_total FROM t;

== conditional aggregation with case
CREATE TABLE t (status TEXT, n INT);
INSERT INTO t VALUES ('paid', 10), ('open', 5), ('paid', 7);
----
SELECT sum(CASE WHEN status = 'paid' THEN n ELSE 0 END) AS paid, count(CASE WHEN status = 'open' THEN 1 END) AS open_count FROM t;

== having without group by column in select
CREATE TABLE t (cust INT, amount INT);
INSERT INTO t VALUES (1, 5), (1, 6), (2, 100), (3, 1);
----
SELECT cust FROM t GROUP BY cust HAVING sum(amount) > 10 ORDER BY cust;
SELECT count(*) FROM (SELECT cust FROM t GROUP BY cust) AS g;

== group by multiple columns
CREATE TABLE t (a TEXT, b TEXT, n INT);
INSERT INTO t VALUES ('x', 'p', 1), ('x', 'p', 2), ('x', 'q', 3), ('y', 'p', 4);
----
SELECT a, b, sum(n) AS s FROM t GROUP BY a, b ORDER BY a, b;

== avg of integers is numeric
CREATE TABLE t (n INT);
INSERT INTO t VALUES (1), (2);
----
SELECT avg(n) FROM t;
SELECT avg(n)::int FROM t;
SELECT round(avg(n), 2) FROM t;

== ungrouped column error
CREATE TABLE t (a INT, b INT);
----
SELECT a, b FROM t GROUP BY a;

== aggregate in where error
CREATE TABLE t (a INT);
----
SELECT a FROM t WHERE count(*) > 1;

== min max on text and dates
CREATE TABLE t (s TEXT, d DATE);
INSERT INTO t VALUES ('pear', '2024-01-05'), ('apple', '2023-12-31'), ('zoo', '2024-03-01');
----
SELECT min(s), max(s), min(d), max(d) FROM t;

== sum overflow to bigint and numeric
CREATE TABLE t (n INT, b BIGINT);
INSERT INTO t VALUES (2000000000, 9000000000000000000), (2000000000, 9000000000000000000);
----
SELECT sum(n) FROM t;
SELECT sum(b) FROM t;

== bool aggregates and filter with nulls
CREATE TABLE t (g INT, ok BOOLEAN, n INT);
INSERT INTO t VALUES (1, NULL, 1), (1, NULL, NULL), (2, true, 5), (2, NULL, 7);
----
SELECT g, bool_and(ok), bool_or(ok), every(ok) FROM t GROUP BY g ORDER BY g;
SELECT count(*) FILTER (WHERE n > 1), sum(n) FILTER (WHERE ok), max(n) FILTER (WHERE n IS NULL) FROM t;
SELECT g, count(n) FILTER (WHERE ok IS NOT TRUE) FROM t GROUP BY g ORDER BY g;

== grouping accepted by postgresql
CREATE TABLE t (id INT PRIMARY KEY, a INT, b TEXT);
INSERT INTO t VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z');
----
SELECT id, b, count(*) FROM t GROUP BY id ORDER BY id;
SELECT a + 1, count(*) FROM t GROUP BY a + 1 ORDER BY 1;
SELECT t.a, max(b) FROM t GROUP BY a ORDER BY a;

== avg() in HAVING and ORDER BY
CREATE TABLE av (g INT, x INT, n NUMERIC(6,2), f FLOAT8);
INSERT INTO av VALUES (1, 1, 1.10, 0.5), (1, 2, 2.20, 0.25), (1, 2, 2.25, NULL), (2, 10, NULL, 1);
----
SELECT g, avg(x), avg(n), avg(f) FROM av GROUP BY g HAVING avg(x) > 0 ORDER BY g;
SELECT g, avg(x) FROM av GROUP BY g HAVING avg(x) < 5 ORDER BY g;
SELECT g, avg(x) FROM av GROUP BY g ORDER BY avg(x);
SELECT g, avg(x) FROM av GROUP BY g ORDER BY 2 DESC;
SELECT g, avg(n) FROM av GROUP BY g HAVING avg(n) = 1.85;
SELECT g, avg(x) AS a FROM av GROUP BY g ORDER BY a DESC;
SELECT g, count(*) FROM av GROUP BY g HAVING avg(x) > 2 ORDER BY g;
SELECT g FROM av GROUP BY g HAVING avg(f) > 0.3 ORDER BY avg(x) DESC;

== integer and numeric aggregates combined are numeric
CREATE TABLE ag2 (id INT PRIMARY KEY, cust TEXT, total NUMERIC(10,2), qty INT, placed DATE);
INSERT INTO ag2 VALUES (1,'ann',10.00,1,'2024-01-05'),(2,'ann',20.50,2,'2024-01-20'),(3,'bob',5.25,3,'2024-02-01'),(4,'cid',NULL,NULL,NULL),(5,'bob',100,10,'2024-03-31');
----
SELECT sum(qty) * sum(total), count(*) * sum(total), sum(qty) + sum(total), max(qty) - min(total), count(*) / sum(total), sum(qty) % sum(total) FROM ag2;
SELECT cust, count(*) * avg(total), sum(qty) * 1.5 FROM ag2 GROUP BY cust ORDER BY cust;
SELECT total % 3, total % 2.5, 7 % total, 16::numeric % 135.75, -7.5 % 2, 10.125 % 0.1 FROM ag2 WHERE id = 1;
SELECT id, (qty + 1) * total, length(cust) * total, CASE WHEN qty > 2 THEN qty ELSE total END FROM ag2 ORDER BY id;
SELECT date_trunc('month', placed) AS m, count(*), sum(total) FROM ag2 GROUP BY m ORDER BY m NULLS LAST;
SELECT cust AS c, sum(qty) FROM ag2 GROUP BY c ORDER BY c DESC NULLS LAST;
