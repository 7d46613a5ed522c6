-- Column types round-tripped as text: integers, NUMERIC(p,s), floats,
-- text/varchar/char, boolean, date/time/timestamp(tz)/interval, uuid,
-- json/jsonb, bytea, arrays.

== integer types
CREATE TABLE t (s SMALLINT, i INTEGER, b BIGINT);
----
INSERT INTO t VALUES (32767, 2147483647, 9223372036854775807), (-32768, -2147483648, -9223372036854775808);
SELECT s, i, b FROM t ORDER BY s;
INSERT INTO t (s) VALUES (32768);
INSERT INTO t (i) VALUES (2147483648);

== numeric precision and scale
CREATE TABLE m (id INT, price NUMERIC(8,2), qty NUMERIC);
----
INSERT INTO m VALUES (1, 19.999, 3), (2, 5, 0.5), (3, 1.1, 10.00);
SELECT id, price, qty FROM m ORDER BY id;
SELECT sum(price) FROM m;
SELECT id, price * qty AS line FROM m ORDER BY id;
SELECT price + 0.001 FROM m WHERE id = 2;
INSERT INTO m VALUES (4, 1234567.89, 1);
SELECT 0.1 + 0.2, 1.10 * 3, 100.00 / 3;
SELECT 12.345::numeric(5,2), 12.5::numeric(3,0);

== float types
CREATE TABLE f (r REAL, d DOUBLE PRECISION);
----
INSERT INTO f VALUES (1.5, 0.1), (3.25, 1e20);
SELECT r, d FROM f ORDER BY r;
SELECT 0.1::float8 + 0.2::float8;
SELECT 1.0::float8 / 3;
SELECT 'NaN'::float8, 'Infinity'::float8;

== text types
CREATE TABLE s (v VARCHAR(10), c CHAR(3), t TEXT);
----
INSERT INTO s VALUES ('ab', 'x', 'long text here');
SELECT v, c, t, length(c) FROM s;
SELECT c = 'x' FROM s;
SELECT 'it''s' AS quoted, E'tab\there' AS escaped;
SELECT E'a\\b' AS backslash, E'\x41\u00e9' AS codes, E'it\'s' AS quote, length(E'\n') AS newline;
INSERT INTO s VALUES (E'x\ty', 'z', E'two\nlines');
SELECT v, t FROM s WHERE v = E'x\ty';
SELECT 'unicode: ü €' AS u, length('ü€') AS len;

== boolean type
CREATE TABLE b (id INT, flag BOOLEAN);
----
INSERT INTO b VALUES (1, true), (2, 'f'), (3, 'yes'), (4, NULL);
SELECT id, flag FROM b ORDER BY id;
SELECT id FROM b WHERE flag IS FALSE;

== date and time types
CREATE TABLE d (id INT, dt DATE, tm TIME, ts TIMESTAMP);
----
INSERT INTO d VALUES (1, '2024-02-29', '13:45:00', '2024-02-29 13:45:00.123456');
INSERT INTO d VALUES (2, '1999-12-31', '00:00:01', '1999-12-31 23:59:59');
SELECT id, dt, tm, ts FROM d ORDER BY id;
SELECT ts::date, ts::time FROM d ORDER BY id;
SELECT id, CAST(ts AS TIME), ts::time AS t FROM d ORDER BY ts::time;
SELECT id FROM d WHERE ts > '2000-01-01' ;
INSERT INTO d (id, dt) VALUES (3, '2023-02-29');

== timestamptz in utc
CREATE TABLE z (id INT, at TIMESTAMPTZ);
----
SET TIME ZONE 'UTC';
INSERT INTO z VALUES (1, '2024-01-01 12:00:00+00'), (2, '2024-01-01 12:00:00+02');
SELECT id, at FROM z ORDER BY id;
SELECT at::date FROM z ORDER BY id;

== interval type
CREATE TABLE i (id INT, span INTERVAL);
----
INSERT INTO i VALUES (1, '1 day'), (2, '2 hours 30 minutes'), (3, '1 year 2 mons');
SELECT id, span FROM i ORDER BY id;
SELECT interval '90 minutes', interval '1 day' * 3, interval '1 hour' + interval '15 minutes';

== uuid type
CREATE TABLE u (id UUID PRIMARY KEY, name TEXT);
----
INSERT INTO u VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x');
INSERT INTO u VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', 'y');
SELECT id, name FROM u ORDER BY id;
SELECT name FROM u WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
INSERT INTO u VALUES ('not-a-uuid', 'z');

== jsonb type and operators
CREATE TABLE j (id INT, doc JSONB);
INSERT INTO j VALUES (1, '{"name": "ann", "age": 30, "tags": ["a", "b"]}'), (2, '{"name": "bob", "address": {"city": "Oslo"}}');
----
SELECT id, doc FROM j ORDER BY id;
SELECT id, doc -> 'name' AS n FROM j ORDER BY id;
SELECT id, doc ->> 'name' AS n FROM j ORDER BY id;
SELECT doc -> 'address' ->> 'city' FROM j WHERE id = 2;
SELECT doc #>> '{address,city}' FROM j WHERE id = 2;
SELECT id FROM j WHERE doc @> '{"name": "ann"}';
SELECT id FROM j WHERE doc ? 'address';
SELECT (doc ->> 'age')::int + 1 FROM j WHERE id = 1;
SELECT doc -> 'tags' -> 0 FROM j WHERE id = 1;
SELECT jsonb_array_length(doc -> 'tags') FROM j WHERE id = 1;
SELECT id FROM j WHERE doc ->> 'name' = 'bob';
SELECT '{"b": 1, "a": 2}'::jsonb;
SELECT '{"b": 1, "a": 2}'::json;
SELECT jsonb_build_object('k', 1, 'v', 'x');
SELECT '{bad json'::jsonb;

== json type
CREATE TABLE j (doc JSON);
INSERT INTO j VALUES ('{"x": [1, 2, 3]}');
----
SELECT doc -> 'x' ->> 1 FROM j;
SELECT json_typeof(doc -> 'x') FROM j;

== json and jsonb operators over columns
CREATE TABLE d (id INT PRIMARY KEY, doc JSONB, raw JSON, note TEXT);
INSERT INTO d VALUES (1, '{"a": 1.50, "b": {"c": [1, 2e1]}, "s": "x", "t": true, "n": null}', '{"a": [1,  2e1], "a": "last", "q": "\u00e9"}', 'one');
INSERT INTO d VALUES (2, '{"s": "y", "arr": ["p", "q"], "num": 10}', '[10, 20, {"k": "v"}]', 'two'), (3, NULL, NULL, 'three'), (4, '[1, "s", {"s": 2}]', '"scalar"', 'four');
----
SELECT id, doc -> 'a', doc ->> 'a', doc -> 'b' -> 'c', doc -> 'b' -> 'c' ->> 1, doc ->> 't', doc ->> 'n' IS NULL FROM d ORDER BY id;
SELECT id, doc #> '{b,c}', doc #>> '{b,c,-1}', doc #>> '{b,x}', doc #> '{}' FROM d ORDER BY id;
SELECT id, raw -> 'a', raw ->> 'q', raw -> 2, raw -> -1 ->> 'k', raw ->> 0 FROM d ORDER BY id;
SELECT id, doc -> 0, doc ->> 1, doc -> -1, doc->-1, doc ->> 'arr' FROM d ORDER BY id;
SELECT * FROM d WHERE doc ->> 's' = 'y';
SELECT id FROM d WHERE doc @> '{"b": {"c": [20]}}' ORDER BY id;
SELECT id FROM d WHERE doc @> '{"a": 1.5}' OR doc @> '[1]' ORDER BY id;
SELECT id FROM d WHERE '{"s": "x"}' <@ doc ORDER BY id;
SELECT id FROM d WHERE doc <@ '{"s": "y", "arr": ["q", "p", "r"], "num": 10.0, "z": 1}' ORDER BY id;
SELECT id, doc ? 's', doc ?| array['arr', 'zz'], doc ?& array['s', 'arr'], doc ? 'p' FROM d ORDER BY id;
SELECT doc ->> 's' AS s, count(*) FROM d GROUP BY doc ->> 's' ORDER BY s;
SELECT x.id, y.id FROM d x JOIN d y ON x.doc ->> 's' = y.doc #>> '{s}' ORDER BY x.id;
SELECT id, doc -> 'b' FROM d WHERE doc -> 'b' IS NOT NULL;
SELECT d.*, doc ->> 's' AS s FROM d WHERE id < 3 ORDER BY id;
SELECT id, jsonb_typeof(doc), jsonb_typeof(doc -> 'b'), json_typeof(raw), json_typeof(raw -> 2) FROM d ORDER BY id;
SELECT id, jsonb_array_length(doc -> 'arr') FROM d ORDER BY id;
SELECT id, json_array_length(raw) FROM d WHERE id = 2;
SELECT jsonb_array_length(doc) FROM d WHERE id = 1;
SELECT json_array_length(raw) FROM d WHERE id = 4;
SELECT id, jsonb_extract_path_text(doc, 'b', 'c', '1'), jsonb_extract_path(doc, 'b'), json_extract_path_text(raw, '2', 'k') FROM d ORDER BY id;
SELECT json_typeof('{"a": 1}'::json), jsonb_array_length('[1, 2, 3]'::jsonb), jsonb_typeof(NULL::jsonb);
SELECT jsonb_typeof(raw) FROM d;
SELECT id, doc['b']['c'][1], doc['s'], doc[0], (doc -> 'b')['c'] FROM d ORDER BY id;
SELECT raw['a'] FROM d;
UPDATE d SET note = doc ->> 's' WHERE doc ? 's';
SELECT id, note FROM d ORDER BY id;
DELETE FROM d WHERE doc @> '{"num": 10}';
SELECT id FROM d ORDER BY doc ->> 's', id;
SELECT '{"a": {"b": "q"}}'::jsonb #> '{a}', '[1, 2, 3]'::jsonb -> -1, '{"a": 1}'::jsonb @> '{"a": 1}', '{"a": [1,  2]}'::json -> 'a';
SELECT raw @> '{}' FROM d;
SELECT doc ->> 'a' ->> 'b' FROM d;
SELECT '"x"'::jsonb #>> '{0}', '"x"'::jsonb #> '{-1}', '5'::jsonb -> 0, ('"x"'::jsonb)[0], '[]'::jsonb ? 'a';
SELECT id FROM d WHERE doc ?| '{1,2}'::int[];
SELECT doc #> '{1}'::int[] FROM d;
SELECT id, doc ?& '{s}'::text[], doc #>> '{b,c,0}'::varchar[] FROM d ORDER BY id;

== bytea type
CREATE TABLE b (id INT, data BYTEA);
----
INSERT INTO b VALUES (1, '\x00010203ff');
INSERT INTO b VALUES (2, 'abc');
SELECT id, data FROM b ORDER BY id;
SELECT length(data) FROM b ORDER BY id;

== array type
CREATE TABLE a (id INT, tags TEXT[], nums INT[]);
----
INSERT INTO a VALUES (1, ARRAY['x', 'y'], '{1,2,3}');
SELECT id, tags, nums FROM a;
SELECT tags[1], nums[3] FROM a;
SELECT id FROM a WHERE 'y' = ANY (tags);
SELECT array_length(nums, 1) FROM a;

== enum-like check constraint text
CREATE TABLE o (id INT, status TEXT CHECK (status IN ('new', 'paid', 'shipped')));
----
INSERT INTO o VALUES (1, 'new');
INSERT INTO o VALUES (2, 'lost');
SELECT id, status FROM o;

== char padding and jsonb normalisation
CREATE TABLE c (id INT, code CHAR(4), doc JSONB);
----
INSERT INTO c VALUES (1, 'ab', '{"z": [1, 2.50], "a": {"y": null, "b": true}}'), (2, 'abcd  ', '[{"k": "v"}]');
SELECT id, code, doc FROM c ORDER BY id;
SELECT id FROM c WHERE code = 'ab';
SELECT code || '|', length(code), upper(code) FROM c ORDER BY id;
INSERT INTO c VALUES (3, 'abcde', '{}');
INSERT INTO c VALUES (3, 'x', '{"a": }');

== casts to text of dates, times, intervals, booleans, floats, bytea
CREATE TABLE ct (id INT, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, iv INTERVAL, flag BOOLEAN, f DOUBLE PRECISION, by BYTEA, n NUMERIC(6,2), u UUID, label TEXT);
----
SET TIME ZONE 'UTC';
INSERT INTO ct VALUES (1, '2024-02-29', '13:45:00.25', '2024-02-29 12:00:00.123', '2024-02-29 12:00:00.123+00', '3 days 04:05:06.789', true, 0.1, '\x00ff', 1.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x');
INSERT INTO ct VALUES (2, '1999-12-31', '00:00:00', '1999-12-31 23:59:59', '1999-12-31 23:59:59.5+02', '1 year 2 mons', false, 1e20, '\x', 2, '00000000-0000-0000-0000-000000000000', 'y');
INSERT INTO ct (id) VALUES (3);
SELECT id, tz::text, iv::text, ts::text, dt::text, tm::text FROM ct ORDER BY id;
SELECT id, CAST(tz AS TEXT) AS a, CAST(iv AS VARCHAR) AS b, tz::varchar AS c FROM ct ORDER BY id;
SELECT id, flag::text, f::text, by::text, n::text, u::text FROM ct ORDER BY id;
SELECT id, 'at ' || tz, 'on ' || dt, ts || '!', tm || '', label || flag FROM ct ORDER BY id;
SELECT id, length(tz::text), upper(flag::text), 'x' || by::text FROM ct ORDER BY id;
SELECT id FROM ct WHERE tz::text = '2024-02-29 12:00:00.123+00';
SELECT id FROM ct WHERE ts::text LIKE '1999-%';
SELECT id, concat('a', flag, dt, tz) FROM ct ORDER BY id;
SELECT '2024-02-29 12:00:00.123+00'::timestamptz::text, interval '3 days 04:05:06.789'::text, date '2024-02-29'::text;
SELECT true::text, false::varchar, 0.1::float8::text, 1e20::float8::text, 1.50::numeric::text;
SELECT timestamp '2024-01-01 00:00:00.1'::text, time '10:00:00.25'::text, 'x' || date '2024-02-29';
SELECT tz::text AS t FROM ct WHERE id < 3 ORDER BY t;
SELECT DISTINCT dt::text FROM ct WHERE id = 1;

== numeric compared with integers and floats
CREATE TABLE nt (id INT PRIMARY KEY, n NUMERIC(6,2), f FLOAT8, i INT);
INSERT INTO nt VALUES (1, 5, 5, 5), (2, 5.5, 2.5, 3), (3, NULL, NULL, NULL), (4, 3, 3.5, 5);
----
SELECT id FROM nt WHERE n = 5 ORDER BY id;
SELECT id FROM nt WHERE 5 = n ORDER BY id;
SELECT id FROM nt WHERE n <> 5 ORDER BY id;
SELECT id FROM nt WHERE n IN (5, 7) ORDER BY id;
SELECT id FROM nt WHERE n NOT IN (5, 7) ORDER BY id;
SELECT id FROM nt WHERE n = i ORDER BY id;
SELECT id FROM nt WHERE n = f ORDER BY id;
SELECT id, CASE n WHEN 5 THEN 'five' WHEN 3 THEN 'three' ELSE 'other' END FROM nt ORDER BY id;
SELECT id, n = 5, 5.0 = n, n = 5.001, n IS DISTINCT FROM 5 FROM nt ORDER BY id;
SELECT a.id, b.id FROM nt a JOIN nt b ON a.n = b.i ORDER BY 1, 2;
UPDATE nt SET i = 9 WHERE n = 5.5;
DELETE FROM nt WHERE n = 3;
SELECT * FROM nt ORDER BY id;

== integers of two widths, literals compared with dates, times, booleans and char(n)
CREATE TABLE mw (id INT PRIMARY KEY, s SMALLINT, i INT, b BIGINT, ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, tm TIME, flag BOOLEAN, c CHAR(5), u UUID);
INSERT INTO mw VALUES (1, 3, 5, 10000000000, '2024-01-31 10:00', '2024-01-31 10:00+02', '2024-01-31', '08:30', true, 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
INSERT INTO mw VALUES (2, -7, 2, -5, '2024-02-29 00:00:00', '2024-02-29 00:00Z', '2024-02-29', '23:59:59', false, 'abcde', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');
INSERT INTO mw (id) VALUES (3);
----
SELECT id, s, i, b, ts, d, tm, flag, c FROM mw ORDER BY id;
SELECT id FROM mw WHERE s < b ORDER BY id;
SELECT id FROM mw WHERE b > s ORDER BY id;
SELECT id FROM mw WHERE s < 40000 ORDER BY id;
SELECT id FROM mw WHERE i < 3000000000 ORDER BY id;
SELECT id FROM mw WHERE i = b ORDER BY id;
SELECT id FROM mw WHERE s IN (3, 100000) ORDER BY id;
SELECT id FROM mw WHERE b BETWEEN s AND 10000000000 ORDER BY id;
SELECT id, s * 1000, 1 + b, i + b, b + i, s + i, s + b, b * 2, b / 3 FROM mw ORDER BY id;
SELECT id FROM mw WHERE ts = '2024-01-31 10:00' ORDER BY id;
SELECT id FROM mw WHERE ts BETWEEN '2024-01-01' AND '2024-01-31 23:59' ORDER BY id;
SELECT id FROM mw WHERE ts IN ('2024-01-31 10:00', '2024-02-29 00:00') ORDER BY id;
SELECT id FROM mw WHERE tz < '2024-01-31 09:00:00+01' ORDER BY id;
SELECT id FROM mw WHERE tm > '12:00' ORDER BY id;
SELECT id FROM mw WHERE d >= '2024-02-01' ORDER BY id;
SELECT id FROM mw WHERE flag = 't' ORDER BY id;
SELECT id FROM mw WHERE flag = 'yes' ORDER BY id;
SELECT id FROM mw WHERE 'off' = flag ORDER BY id;
SELECT id FROM mw WHERE flag <> 'false' ORDER BY id;
SELECT id FROM mw WHERE c = 'ab   ' ORDER BY id;
SELECT id FROM mw WHERE c IN ('ab ', 'x') ORDER BY id;
SELECT id FROM mw WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT '2024-01-31 10:00'::timestamp, timestamp '2024-01-31 10:00', '2024-01-31T10:00:01.5'::timestamp;
SELECT id FROM mw WHERE ts = 'not a time';
SELECT 32767::smallint + 1::smallint;
SELECT 2147483647 + 1;
SELECT 5 / 0;

== assignment casts of INSERT … SELECT and UPDATE
CREATE TABLE asrc (id INT PRIMARY KEY, r FLOAT8, s SMALLINT, n NUMERIC(8,2));
INSERT INTO asrc VALUES (1, 1.5, 3, 12.345), (2, 2.5, -7, -0.005), (3, NULL, NULL, NULL);
CREATE TABLE adst (id INT PRIMARY KEY, i INT, f FLOAT8, n NUMERIC(6,1), t TEXT, b BIGINT);
----
INSERT INTO adst (id, i, f, n, t) SELECT id, r, s, n, id FROM asrc;
SELECT * FROM adst ORDER BY id;
INSERT INTO adst (id, i, b) SELECT id + 10, n, s FROM asrc WHERE n IS NOT NULL;
SELECT * FROM adst ORDER BY id;
UPDATE adst SET i = f * 1.5, b = i WHERE id = 1;
SELECT * FROM adst ORDER BY id;
UPDATE adst SET i = coalesce(i, 0) + 10, b = CASE WHEN b IS NULL THEN 1 ELSE b END WHERE id = 3 RETURNING id, i, b;

== rounding functions of NUMERIC and integers
CREATE TABLE rn (id INT PRIMARY KEY, a NUMERIC(10,2));
INSERT INTO rn VALUES (1, 10.5), (2, 20), (3, 7.25), (4, -2.5), (5, NULL);
----
SELECT id, round(a), trunc(a), ceil(a), floor(a), ceil(-a), floor(-a), trunc(-a) FROM rn ORDER BY id;
SELECT round(5), ceil(5), floor(-5), trunc(7), round(2.5), round(-2.5), ceil(2.1), floor(-2.1), trunc(-2.7);

== ORDER BY … NULLS FIRST/LAST with *, aliases and ordinals; GROUP BY an output name
CREATE TABLE nl (id INT PRIMARY KEY, cid INT, amount NUMERIC(10,2), placed DATE);
INSERT INTO nl VALUES (1, 1, 10.50, '2024-01-05'), (2, 1, 20.00, '2024-02-10'), (3, 2, 7.25, '2024-02-11'), (4, NULL, 1.00, '2024-03-01');
----
SELECT * FROM nl ORDER BY cid NULLS FIRST, id;
SELECT * FROM nl ORDER BY cid DESC NULLS LAST, id LIMIT 2 OFFSET 1;
SELECT cid, count(*) n FROM nl GROUP BY cid ORDER BY cid NULLS FIRST;
SELECT cid, sum(amount) total FROM nl GROUP BY cid ORDER BY total DESC NULLS LAST;
SELECT DISTINCT cid FROM nl ORDER BY cid NULLS FIRST;
SELECT cid FROM nl ORDER BY 1 NULLS FIRST, id;
SELECT id FROM nl WHERE id IN (SELECT id FROM nl ORDER BY cid NULLS FIRST LIMIT 2) ORDER BY id;
SELECT date_trunc('month', placed) m, sum(amount) FROM nl GROUP BY m ORDER BY m;
SELECT extract(year FROM placed) AS y, count(*) FROM nl GROUP BY y;
SELECT cid, (SELECT max(amount) FROM nl x WHERE x.cid = nl.cid) FROM nl ORDER BY id;

== = ANY and <> ALL of array text
CREATE TABLE anyt (id INT PRIMARY KEY, t TEXT, d DATE);
INSERT INTO anyt VALUES (1, 'x', '2024-01-01'), (2, 'y', '2024-02-01'), (3, NULL, NULL);
----
SELECT id FROM anyt WHERE id = ANY('{1,2}') ORDER BY id;
SELECT id FROM anyt WHERE t = ANY('{x,q}'::text[]) ORDER BY id;
SELECT id FROM anyt WHERE id <> ALL('{1}') ORDER BY id;
SELECT id FROM anyt WHERE d = ANY('{2024-02-01,2025-01-01}'::date[]) ORDER BY id;
SELECT id FROM anyt WHERE id = ANY('{}') ORDER BY id;

== intervals of months added to timestamp columns clamp the day
CREATE TABLE im (id INT PRIMARY KEY, ts TIMESTAMP, d DATE, iv INTERVAL);
INSERT INTO im VALUES (1, '2024-01-31 10:00', '2024-01-31', '1 month'), (2, '2024-11-15 08:00', '2024-11-30', '1 month'), (3, '2024-02-29 23:30', '2024-02-29', '1 year'), (4, '2023-12-31 00:00', '2023-12-31', '1 year 2 months'), (5, '2024-03-31 00:00', '2024-01-01', '-1 month'), (6, NULL, NULL, NULL);
----
SELECT id, ts + iv, ts - iv, iv + ts FROM im ORDER BY id;
SELECT id, d + iv, d - iv FROM im ORDER BY id;
SELECT id, ts + interval '1 month', ts - interval '13 months', d + interval '11 months' FROM im ORDER BY id;
SELECT id FROM im WHERE ts + iv > '2025-01-01' ORDER BY id;
UPDATE im SET ts = ts + iv WHERE id IN (2, 4) RETURNING id, ts;

== concat and format print char(n) with its padding
CREATE TABLE cp (id INT PRIMARY KEY, c CHAR(4), v VARCHAR(4));
INSERT INTO cp VALUES (1, 'ab', 'ab'), (2, NULL, 'x'), (3, 'abcd', NULL);
----
SELECT id, concat(c, '|'), concat_ws(',', c, v, id), format('[%s]', c), c || '|' FROM cp ORDER BY id;
SELECT concat(rtrim(c), '|'), concat(upper(c), '|'), concat(c::text, '|'), length(concat(c)) FROM cp ORDER BY id;
SELECT concat_ws(c, 'x', 'y') FROM cp WHERE id = 1;

== real is single precision, computed as PostgreSQL computes it
CREATE TABLE rl (id INT PRIMARY KEY, r REAL, f FLOAT4, d DOUBLE PRECISION, n NUMERIC(8,2), fp FLOAT(10));
INSERT INTO rl VALUES (1, 0.1, 1.5, 0.1, 1.25, 2.5), (2, 0.2, -3, 0.2, 2, 1e10), (3, 1e20, 123456789, 1e20, 3.5, 0.000001), (4, NULL, NULL, NULL, NULL, NULL), (5, 16777217, 2.5, 16777217, 7, 3.5);
----
SELECT * FROM rl ORDER BY id;
SELECT id, r * 3, r + r, r * r, r / 3, r - d, r * n, r + 1.5, -r, abs(r), f * f FROM rl ORDER BY id;
SELECT id FROM rl WHERE r = 0.1 ORDER BY id;
SELECT id FROM rl WHERE r = 0.1::real ORDER BY id;
SELECT id FROM rl WHERE r = 16777217 ORDER BY id;
SELECT id FROM rl WHERE r < 16777217 ORDER BY id;
SELECT id FROM rl WHERE r IN (0.1, 0.2) ORDER BY id;
SELECT id FROM rl WHERE r BETWEEN 0.1 AND 0.2 ORDER BY id;
SELECT id FROM rl WHERE r > 0.1 ORDER BY id;
SELECT sum(r), avg(r), min(r), max(r), count(r) FROM rl WHERE id < 3;
SELECT sum(f), avg(f), sum(r * 2) FROM rl;
SELECT greatest(r, d), least(r, 1), coalesce(r, 0), coalesce(r, 0.5::float8) FROM rl ORDER BY id;
SELECT CASE WHEN id = 1 THEN r ELSE 2 END FROM rl ORDER BY id;
SELECT r::int, r::bigint, r::numeric, r::float8, r::text, f::int, round(f), n::real FROM rl WHERE id <> 3 ORDER BY id;
SELECT sqrt(abs(r)), floor(f), ceil(f), trunc(f) FROM rl ORDER BY id;
SELECT 0.1::real, 1e20::real, 1.5e-7::real, 123456789::real, 'nan'::real, '-inf'::real, 3.4e38::real, (-0.0)::real;
SELECT 0.1::real * 3, 0.1::real + 0.2::real, 0.1::real * 0.2, 1 / 3::real, 1.1::real * 1.1::real;
SELECT 3e38::real * 10::real;
SELECT '1e39'::real;
INSERT INTO rl VALUES (6, 1e39, 0, 0, 0, 0);
SELECT id, sum(r) OVER (ORDER BY id), avg(f) OVER () FROM rl WHERE id < 3 ORDER BY id;
SELECT r FROM rl WHERE id < 3 UNION SELECT d FROM rl WHERE id < 3 ORDER BY 1;
SELECT r FROM rl ORDER BY r DESC NULLS LAST;
SELECT column_name, data_type, numeric_precision FROM information_schema.columns WHERE table_name = 'rl' ORDER BY ordinal_position;
UPDATE rl SET r = r * 2, f = d * 3 WHERE id = 1 RETURNING r, f;
UPDATE rl SET r = '0.7' WHERE id = 2 RETURNING r, r::float8;

== typed string literals and float text out of range
----
SELECT float8 '1.5', int '42', numeric '1.50', text 'x', bool 't', real '0.1', bigint '9000000000', smallint '7', varchar 'abc';
SELECT numeric '12.345' + 1, float8 '2' * 3;
SELECT int 'x';
SELECT float8 '1e400';
SELECT '1e400'::float8;
SELECT '-1e400'::float8;
SELECT '1e-400'::float8;
SELECT 'x'::float8;
SELECT 'x'::numeric;
SELECT 'inf'::float8, '-Infinity'::float8, '0e10'::float8, ' 2.5 '::float8;
