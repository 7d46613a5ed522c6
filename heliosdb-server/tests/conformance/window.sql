-- Window functions: ranking, lag/lead, running totals, aggregates OVER
-- (PARTITION BY … ORDER BY …), frames used by reports.

== ranking functions
CREATE TABLE s (id INT, dept TEXT, pay INT);
INSERT INTO s VALUES (1, 'a', 10), (2, 'a', 20), (3, 'a', 20), (4, 'b', 5), (5, 'b', 7);
----
SELECT id, row_number() OVER (ORDER BY id) AS rn FROM s ORDER BY id;
SELECT id, row_number() OVER (PARTITION BY dept ORDER BY pay DESC, id) AS rn FROM s ORDER BY id;
SELECT id, rank() OVER (ORDER BY pay DESC) AS r FROM s ORDER BY id;
SELECT id, dense_rank() OVER (ORDER BY pay DESC) AS r FROM s ORDER BY id;
SELECT id, rank() OVER (PARTITION BY dept ORDER BY pay) AS r FROM s ORDER BY id;
SELECT id, ntile(2) OVER (ORDER BY id) AS bucket FROM s ORDER BY id;
SELECT id, percent_rank() OVER (ORDER BY pay) AS pr FROM s ORDER BY id;

== aggregates over partitions
CREATE TABLE s (id INT, dept TEXT, pay INT);
INSERT INTO s VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 5);
----
SELECT id, sum(pay) OVER (PARTITION BY dept) AS dept_total FROM s ORDER BY id;
SELECT id, count(*) OVER () AS total_rows FROM s ORDER BY id;
SELECT id, avg(pay) OVER (PARTITION BY dept) AS dept_avg FROM s ORDER BY id;
SELECT id, max(pay) OVER (PARTITION BY dept) AS top FROM s ORDER BY id;
SELECT id, pay * 100 / sum(pay) OVER () AS pct FROM s ORDER BY id;

== running totals
CREATE TABLE t (day INT, amount INT);
INSERT INTO t VALUES (1, 10), (2, 5), (3, 20), (4, 1);
----
SELECT day, sum(amount) OVER (ORDER BY day) AS running FROM t ORDER BY day;
SELECT day, sum(amount) OVER (ORDER BY day ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS two_day FROM t ORDER BY day;
SELECT day, avg(amount) OVER (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS avg_so_far FROM t ORDER BY day;
SELECT day, count(*) OVER (ORDER BY day DESC) AS remaining FROM t ORDER BY day;

== lag and lead
CREATE TABLE t (day INT, price INT);
INSERT INTO t VALUES (1, 100), (2, 110), (3, 105);
----
SELECT day, lag(price) OVER (ORDER BY day) AS prev FROM t ORDER BY day;
SELECT day, lead(price) OVER (ORDER BY day) AS next FROM t ORDER BY day;
SELECT day, price - lag(price) OVER (ORDER BY day) AS change FROM t ORDER BY day;
SELECT day, lag(price, 2, 0) OVER (ORDER BY day) AS prev2 FROM t ORDER BY day;

== first and last value
CREATE TABLE t (g TEXT, day INT, v INT);
INSERT INTO t VALUES ('a', 1, 5), ('a', 2, 6), ('b', 1, 7), ('b', 2, 8);
----
SELECT g, day, first_value(v) OVER (PARTITION BY g ORDER BY day) AS first_v FROM t ORDER BY g, day;
SELECT g, day, last_value(v) OVER (PARTITION BY g ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_v FROM t ORDER BY g, day;

== top n per group
CREATE TABLE s (id INT, dept TEXT, pay INT);
INSERT INTO s VALUES (1, 'a', 10), (2, 'a', 30), (3, 'a', 20), (4, 'b', 5), (5, 'b', 7);
----
SELECT id, dept FROM (SELECT id, dept, row_number() OVER (PARTITION BY dept ORDER BY pay DESC) AS rn FROM s) x WHERE rn = 1 ORDER BY id;
WITH ranked AS (SELECT id, dept, pay, rank() OVER (PARTITION BY dept ORDER BY pay DESC) AS r FROM s) SELECT dept, id, pay FROM ranked WHERE r <= 2 ORDER BY dept, r;
WITH totals AS (SELECT dept, sum(pay) OVER (PARTITION BY dept) AS total FROM s) SELECT DISTINCT dept, total FROM totals ORDER BY dept;
SELECT x.id, x.share FROM (SELECT id, pay * 100 / sum(pay) OVER () AS share FROM s) AS x JOIN s ON s.id = x.id WHERE s.dept = 'b' ORDER BY x.id;
SELECT id FROM s WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (ORDER BY pay) AS n FROM s) AS o WHERE n <= 2) ORDER BY id;
SELECT count(*) FROM (SELECT lag(pay) OVER (ORDER BY id) AS prev FROM s) AS l WHERE prev IS NULL;

== named window
CREATE TABLE t (id INT, v INT);
INSERT INTO t VALUES (1, 3), (2, 1), (3, 2);
----
SELECT id, row_number() OVER w AS rn, sum(v) OVER w AS run FROM t WINDOW w AS (ORDER BY id) ORDER BY id;

== window with group by
CREATE TABLE t (g TEXT, v INT);
INSERT INTO t VALUES ('a', 1), ('a', 2), ('b', 5);
----
SELECT g, sum(v) AS total, rank() OVER (ORDER BY sum(v) DESC) AS r FROM t GROUP BY g ORDER BY g;

== window function in where is an error
CREATE TABLE t (id INT);
----
SELECT id FROM t WHERE row_number() OVER (ORDER BY id) = 1;

== window order with ties uses peers
CREATE TABLE t (id INT, v INT);
INSERT INTO t VALUES (1, 10), (2, 10), (3, 20);
----
SELECT id, sum(v) OVER (ORDER BY v) AS running FROM t ORDER BY id;
SELECT id, count(*) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) AS n FROM t ORDER BY id;

== window over nulls
CREATE TABLE t (id INT, g TEXT, v INT);
INSERT INTO t VALUES (1, 'a', NULL), (2, 'a', 5), (3, NULL, 7), (4, NULL, 1);
----
SELECT id, sum(v) OVER (PARTITION BY g) AS s FROM t ORDER BY id;
SELECT id, count(v) OVER (PARTITION BY g) AS c FROM t ORDER BY id;
SELECT id, rank() OVER (ORDER BY v NULLS FIRST) AS r FROM t ORDER BY id;

== window with where and limit
CREATE TABLE t (id INT, v INT);
INSERT INTO t VALUES (1, 5), (2, 6), (3, 7), (4, 8);
----
SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t WHERE v > 5 ORDER BY id;
SELECT id, sum(v) OVER () AS total FROM t ORDER BY id LIMIT 2;

== moving average
CREATE TABLE prices (day INT, price NUMERIC(6,2));
INSERT INTO prices VALUES (1, 10.00), (2, 11.00), (3, 12.50), (4, 9.50);
----
SELECT day, avg(price) OVER (ORDER BY day ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS ma3 FROM prices ORDER BY day;
SELECT day, price, price - first_value(price) OVER (ORDER BY day) AS since_start FROM prices ORDER BY day;
