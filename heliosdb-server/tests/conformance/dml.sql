-- INSERT, UPDATE, DELETE as applications send them: multi-row VALUES,
-- RETURNING, ON CONFLICT, INSERT … SELECT, UPDATE … FROM, affected counts.

== insert multi-row values
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
----
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO t (name, id) VALUES ('d', 4);
SELECT id, name FROM t ORDER BY id;

== insert returning columns
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
----
INSERT INTO t (id, name) VALUES (1, 'a') RETURNING id;
INSERT INTO t (id, name) VALUES (2, 'b'), (3, 'c') RETURNING *;
INSERT INTO t (id, name) VALUES (4, 'd') RETURNING t.id;

== insert returning expression
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
----
INSERT INTO t VALUES (1, 'ab') RETURNING id * 10 AS tenfold, upper(name);
SELECT count(*) FROM t;

== insert returning alias
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
----
INSERT INTO t VALUES (5, 'x') RETURNING id AS new_id, name AS new_name;

== insert select
CREATE TABLE src (id INT, v INT);
CREATE TABLE dst (id INT, v INT);
INSERT INTO src VALUES (1, 10), (2, 20), (3, 30);
----
INSERT INTO dst SELECT id, v * 2 FROM src WHERE v > 10;
SELECT id, v FROM dst ORDER BY id;
INSERT INTO dst (id) SELECT max(id) + 100 FROM src;
SELECT id, v FROM dst ORDER BY id;

== insert select into some columns
CREATE TABLE src (id INT, v INT);
CREATE TABLE dst (id INT PRIMARY KEY, v INT DEFAULT 7, note TEXT);
INSERT INTO src VALUES (1, 10), (2, 20), (3, 30);
----
INSERT INTO dst (note, id) SELECT 'n' || v, id FROM src WHERE v > 10;
INSERT INTO dst (id) SELECT id FROM src WHERE id > 99;
INSERT INTO dst (id, note) SELECT id + 10, NULL FROM src ORDER BY id LIMIT 2;
SELECT id, v, note FROM dst ORDER BY id;
INSERT INTO dst (id) SELECT id FROM src;
SELECT count(*) FROM dst;

== update with affected count
CREATE TABLE t (id INT PRIMARY KEY, n INT);
INSERT INTO t VALUES (1, 1), (2, 2), (3, 3);
----
UPDATE t SET n = n + 10 WHERE id >= 2;
UPDATE t SET n = 0 WHERE id = 99;
SELECT id, n FROM t ORDER BY id;

== update multiple columns
CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b INT);
INSERT INTO t VALUES (1, 'x', 1);
----
UPDATE t SET a = 'y', b = b * 5 WHERE id = 1;
SELECT * FROM t;

== update returning
CREATE TABLE t (id INT PRIMARY KEY, n INT);
INSERT INTO t VALUES (1, 1), (2, 2);
----
UPDATE t SET n = n * 100 WHERE id = 2 RETURNING id, n;
UPDATE t SET n = n + 1 RETURNING *;

== update set null and expression referencing other column
CREATE TABLE t (id INT, a INT, b INT);
INSERT INTO t VALUES (1, 1, 2);
----
UPDATE t SET a = b, b = a;
SELECT a, b FROM t;
UPDATE t SET a = NULL;
SELECT a, b FROM t;

== update from another table
CREATE TABLE prices (id INT PRIMARY KEY, price INT);
CREATE TABLE changes (id INT, delta INT);
INSERT INTO prices VALUES (1, 100), (2, 200);
INSERT INTO changes VALUES (2, 5);
----
UPDATE prices SET price = prices.price + c.delta FROM changes c WHERE c.id = prices.id;
SELECT id, price FROM prices ORDER BY id;

== update from with several columns, a filter and a join
CREATE TABLE p (id INT PRIMARY KEY, price INT, note TEXT);
CREATE TABLE c (id INT, delta INT, tag TEXT);
CREATE TABLE k (tag TEXT, factor INT);
INSERT INTO p VALUES (1, 100, 'a'), (2, 200, 'b'), (3, 300, 'c');
INSERT INTO c VALUES (2, 5, 'x'), (3, -1, 'y'), (9, 1, 'z');
INSERT INTO k VALUES ('x', 10), ('y', 20);
----
UPDATE p SET price = p.price + c.delta, note = p.note || c.tag FROM c WHERE c.id = p.id AND c.delta > 0;
SELECT id, price, note FROM p ORDER BY id;
UPDATE p SET price = c.delta * k.factor FROM c JOIN k ON k.tag = c.tag WHERE c.id = p.id;
SELECT id, price, note FROM p ORDER BY id;
UPDATE p SET price = 0 FROM c WHERE c.id = p.id AND c.delta > 100;
SELECT count(*) FROM p WHERE price = 0;

== update with subquery
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 5), (2, 10);
----
UPDATE t SET n = (SELECT max(n) FROM t) WHERE id = 1;
SELECT id, n FROM t ORDER BY id;

== delete with affected count
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 1), (2, 2), (3, 3);
----
DELETE FROM t WHERE n < 3;
SELECT id FROM t;
DELETE FROM t;
SELECT count(*) FROM t;

== delete returning
CREATE TABLE t (id INT, n INT);
INSERT INTO t VALUES (1, 1), (2, 2);
----
DELETE FROM t WHERE id = 2 RETURNING *;
DELETE FROM t RETURNING id, n + 1 AS next;

== update and delete returning expressions
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
----
UPDATE t SET name = name || 'z' WHERE id >= 2 RETURNING id, upper(name) AS up, length(name);
UPDATE t SET name = 'q' WHERE id = 99 RETURNING id * 2;
DELETE FROM t WHERE id = 1 RETURNING id * 100, t.name || '!';
INSERT INTO t VALUES (4, 'd'), (5, 'e') RETURNING t.id, name || id;
SELECT id, name FROM t ORDER BY id;

== update of unique columns to their own or new values
CREATE TABLE a (id SERIAL PRIMARY KEY, name VARCHAR(50) UNIQUE, n INT);
INSERT INTO a (name, n) VALUES ('ann', 1), ('bob', 2), (NULL, 3), (NULL, 4);
CREATE TABLE h (name TEXT UNIQUE, v INT);
INSERT INTO h VALUES ('p', 1), ('q', 2);
----
UPDATE a SET name = 'ann' WHERE name = 'ann';
UPDATE a SET name = 'ann', n = 6 WHERE id = 1;
UPDATE a SET name = 'bob' WHERE id = 1;
UPDATE a SET name = 'x' WHERE id > 1;
UPDATE a SET name = name WHERE id > 0;
UPDATE a SET name = NULL WHERE id > 2;
UPDATE a SET name = 'cid' WHERE id = 3;
SELECT id, name, n FROM a ORDER BY id;
UPDATE h SET name = 'q' WHERE v = 1;
UPDATE h SET name = 'p', v = 5 WHERE v = 1;
SELECT name, v FROM h ORDER BY v;

== upsert returning several rows and expressions
CREATE TABLE kv (k TEXT PRIMARY KEY, v INT);
INSERT INTO kv VALUES ('a', 1);
----
INSERT INTO kv VALUES ('a', 10), ('b', 20) ON CONFLICT (k) DO UPDATE SET v = kv.v + EXCLUDED.v RETURNING k, v * 2 AS twice;
INSERT INTO kv VALUES ('a', 0), ('c', 3) ON CONFLICT DO NOTHING RETURNING upper(k), v;
INSERT INTO kv VALUES ('a', 0) ON CONFLICT DO NOTHING RETURNING k;
SELECT k, v FROM kv ORDER BY k;

== returning expression that fails writes nothing
CREATE TABLE t (id INT PRIMARY KEY, n INT);
CREATE TABLE u (a INT, b INT);
INSERT INTO u VALUES (1, 0);
----
INSERT INTO t VALUES (1, 0) RETURNING 10 / n;
SELECT count(*) FROM t;
DELETE FROM u RETURNING a / b;
SELECT count(*) FROM u;

== delete with in subquery
CREATE TABLE a (id INT);
CREATE TABLE b (id INT);
INSERT INTO a VALUES (1), (2), (3);
INSERT INTO b VALUES (2);
----
DELETE FROM a WHERE id IN (SELECT id FROM b);
SELECT id FROM a ORDER BY id;
DELETE FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.id = a.id) AND id = 3;
SELECT id FROM a ORDER BY id;

== on conflict do nothing
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
INSERT INTO t VALUES (1, 'a');
----
INSERT INTO t VALUES (1, 'b') ON CONFLICT DO NOTHING;
INSERT INTO t VALUES (1, 'b'), (2, 'c') ON CONFLICT (id) DO NOTHING;
SELECT id, name FROM t ORDER BY id;

== on conflict do update
CREATE TABLE t (id INT PRIMARY KEY, name TEXT, hits INT DEFAULT 0);
INSERT INTO t VALUES (1, 'a', 1);
----
INSERT INTO t VALUES (1, 'b', 1) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, hits = t.hits + 1;
SELECT id, name, hits FROM t;
INSERT INTO t VALUES (2, 'z', 1) ON CONFLICT (id) DO UPDATE SET hits = t.hits + 1 RETURNING id, name, hits;

== on conflict on unique column
CREATE TABLE kv (k TEXT UNIQUE, v INT);
INSERT INTO kv VALUES ('a', 1);
----
INSERT INTO kv VALUES ('a', 2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
SELECT k, v FROM kv;

== on conflict do update where
CREATE TABLE t (id INT PRIMARY KEY, v INT);
INSERT INTO t VALUES (1, 10);
----
INSERT INTO t VALUES (1, 5) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v WHERE t.v < EXCLUDED.v;
SELECT v FROM t;
INSERT INTO t VALUES (1, 50) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v WHERE t.v < EXCLUDED.v;
SELECT v FROM t;

== unique violation sqlstate
CREATE TABLE t (id INT PRIMARY KEY);
INSERT INTO t VALUES (1);
----
INSERT INTO t VALUES (1);
UPDATE t SET id = 1 WHERE id = 1;

== not null violation
CREATE TABLE t (id INT, name TEXT NOT NULL);
----
INSERT INTO t (id) VALUES (1);
INSERT INTO t VALUES (1, NULL);
SELECT count(*) FROM t;

== check violation on update
CREATE TABLE t (id INT, n INT CHECK (n > 0));
INSERT INTO t VALUES (1, 1);
----
UPDATE t SET n = -1;
SELECT n FROM t;

== insert wrong column count
CREATE TABLE t (a INT, b INT);
----
INSERT INTO t VALUES (1, 2, 3);
INSERT INTO t (a, nope) VALUES (1, 2);

== insert type coercion from string literal
CREATE TABLE t (i INT, b BOOLEAN, d DATE, n NUMERIC(6,2));
----
INSERT INTO t VALUES ('42', 'true', '2024-02-29', '12.5');
SELECT i, b, d, n FROM t;
INSERT INTO t (i) VALUES ('abc');
INSERT INTO t (i, n) VALUES (' 7 ', '-0.125'), ('-8', '1e2');
UPDATE t SET i = '43', n = '0.005' WHERE i = 42;
SELECT i, n FROM t ORDER BY i;
INSERT INTO t (n) VALUES ('12345.678');
UPDATE t SET i = '99999999999' WHERE i = 7;
SELECT count(*) FROM t;

== insert returning after failed statement writes nothing
CREATE TABLE t (id INT PRIMARY KEY, name TEXT);
----
INSERT INTO t VALUES (1, 'a') RETURNING nosuchcolumn;
SELECT count(*) FROM t;

== update with case expression
CREATE TABLE t (id INT, grade INT);
INSERT INTO t VALUES (1, 95), (2, 70), (3, 40);
----
UPDATE t SET grade = CASE WHEN grade >= 90 THEN 100 WHEN grade >= 60 THEN grade + 5 ELSE 0 END;
SELECT id, grade FROM t ORDER BY id;
