-- Joins: inner, left, right, full, cross, USING, self joins, joins with
-- aggregates, anti- and semi-joins.

== inner and outer joins
CREATE TABLE customers (id INT PRIMARY KEY, name TEXT);
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total INT);
INSERT INTO customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cid');
INSERT INTO orders VALUES (10, 1, 50), (11, 1, 25), (12, 2, 10), (13, 9, 99);
----
SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id;
SELECT c.name, o.total FROM customers c INNER JOIN orders o ON o.customer_id = c.id WHERE o.total > 20 ORDER BY o.id;
SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id ORDER BY c.id, o.id;
SELECT c.name, o.id FROM customers c RIGHT JOIN orders o ON o.customer_id = c.id ORDER BY o.id;
SELECT c.name, o.id FROM customers c FULL OUTER JOIN orders o ON o.customer_id = c.id ORDER BY c.id, o.id;
SELECT c.name, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name;
SELECT c.name, coalesce(sum(o.total), 0) AS spent FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY c.id;
SELECT c.name FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE o.id IS NULL;
SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id;

== join using and natural
CREATE TABLE a (id INT, x TEXT);
CREATE TABLE b (id INT, y TEXT);
INSERT INTO a VALUES (1, 'a1'), (2, 'a2');
INSERT INTO b VALUES (2, 'b2'), (3, 'b3');
----
SELECT id, x, y FROM a JOIN b USING (id);
SELECT * FROM a JOIN b USING (id);
SELECT * FROM a NATURAL JOIN b;
SELECT * FROM a LEFT JOIN b USING (id) ORDER BY id;
SELECT * FROM a RIGHT JOIN b USING (id) ORDER BY id;
SELECT id, count(*) FROM a JOIN b USING (id) WHERE id > 1 GROUP BY id;
SELECT a.*, b.y FROM a NATURAL LEFT JOIN b ORDER BY a.id;
SELECT id, x, y FROM a FULL JOIN b USING (id) ORDER BY id;

== cross join and comma join
CREATE TABLE a (n INT);
CREATE TABLE b (s TEXT);
INSERT INTO a VALUES (1), (2);
INSERT INTO b VALUES ('x'), ('y');
----
SELECT n, s FROM a CROSS JOIN b ORDER BY n, s;
SELECT n, s FROM a, b WHERE n = 1 ORDER BY s;
SELECT count(*) FROM a, b;

== three way join
CREATE TABLE users (id INT, name TEXT);
CREATE TABLE posts (id INT, user_id INT, title TEXT);
CREATE TABLE comments (id INT, post_id INT, body TEXT);
INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
INSERT INTO posts VALUES (1, 1, 'hello'), (2, 2, 'world');
INSERT INTO comments VALUES (1, 1, 'nice'), (2, 1, 'great'), (3, 2, 'meh');
----
SELECT u.name, p.title, c.body FROM users u JOIN posts p ON p.user_id = u.id JOIN comments c ON c.post_id = p.id ORDER BY c.id;
SELECT u.name, count(c.id) AS comments FROM users u JOIN posts p ON p.user_id = u.id LEFT JOIN comments c ON c.post_id = p.id GROUP BY u.name ORDER BY u.name;

== join with extra condition in on
CREATE TABLE a (id INT);
CREATE TABLE b (a_id INT, kind TEXT);
INSERT INTO a VALUES (1), (2);
INSERT INTO b VALUES (1, 'x'), (2, 'y');
----
SELECT a.id, b.kind FROM a LEFT JOIN b ON b.a_id = a.id AND b.kind = 'x' ORDER BY a.id;
SELECT a.id, b.kind FROM a LEFT JOIN b ON b.a_id = a.id WHERE b.kind = 'x' ORDER BY a.id;

== join on non-equality
CREATE TABLE ranges (lo INT, hi INT, label TEXT);
CREATE TABLE vals (v INT);
INSERT INTO ranges VALUES (0, 10, 'low'), (10, 100, 'high');
INSERT INTO vals VALUES (5), (50), (500);
----
SELECT v, label FROM vals JOIN ranges ON v >= lo AND v < hi ORDER BY v;
SELECT v, label FROM vals LEFT JOIN ranges ON v >= lo AND v < hi ORDER BY v;

== ambiguous column error
CREATE TABLE a (id INT);
CREATE TABLE b (id INT);
----
SELECT id FROM a JOIN b ON a.id = b.id;

== join with duplicates on both sides
CREATE TABLE a (k INT, x TEXT);
CREATE TABLE b (k INT, y TEXT);
INSERT INTO a VALUES (1, 'a'), (1, 'b');
INSERT INTO b VALUES (1, 'c'), (1, 'd'), (2, 'e');
----
SELECT x, y FROM a JOIN b ON a.k = b.k ORDER BY x, y;
SELECT count(*) FROM a LEFT JOIN b ON a.k = b.k;

== join subquery in from
CREATE TABLE orders (id INT, customer_id INT, total INT);
INSERT INTO orders VALUES (1, 1, 10), (2, 1, 20), (3, 2, 5);
----
SELECT t.customer_id, t.s FROM (SELECT customer_id, sum(total) AS s FROM orders GROUP BY customer_id) t WHERE t.s > 6 ORDER BY t.customer_id;
SELECT o.id, t.s FROM orders o JOIN (SELECT customer_id, sum(total) AS s FROM orders GROUP BY customer_id) t ON t.customer_id = o.customer_id ORDER BY o.id;

== lateral join
CREATE TABLE c (id INT);
CREATE TABLE o (cid INT, total INT);
INSERT INTO c VALUES (1), (2);
INSERT INTO o VALUES (1, 5), (1, 9), (2, 3);
----
SELECT c.id, x.total FROM c CROSS JOIN LATERAL (SELECT total FROM o WHERE o.cid = c.id ORDER BY total DESC LIMIT 1) x ORDER BY c.id;

== left join with coalesce and filter on right side null
CREATE TABLE products (id INT PRIMARY KEY, name TEXT);
CREATE TABLE stock (product_id INT, qty INT);
INSERT INTO products VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO stock VALUES (1, 5), (3, 0);
----
SELECT p.name, coalesce(s.qty, 0) AS qty FROM products p LEFT JOIN stock s ON s.product_id = p.id ORDER BY p.id;
SELECT p.name FROM products p LEFT JOIN stock s ON s.product_id = p.id WHERE s.qty IS NULL OR s.qty = 0 ORDER BY p.name;
SELECT count(*) FROM products p JOIN stock s ON s.product_id = p.id;

== join with group by having and order by aggregate
CREATE TABLE c (id INT, name TEXT);
CREATE TABLE o (cid INT, amount INT);
INSERT INTO c VALUES (1, 'x'), (2, 'y'), (3, 'z');
INSERT INTO o VALUES (1, 10), (1, 20), (2, 5), (3, 50);
----
SELECT c.name, sum(o.amount) AS total FROM c JOIN o ON o.cid = c.id GROUP BY c.name HAVING sum(o.amount) >= 10 ORDER BY total DESC;
SELECT c.name, max(o.amount) AS biggest FROM c JOIN o ON o.cid = c.id GROUP BY c.name ORDER BY c.name;
