-- Built-in functions applications use: strings, math, dates and times,
-- conditional functions. Results must not depend on the clock or time zone.

== string functions
----
SELECT upper('abc'), lower('ABC'), length('hello'), char_length('héllo');
SELECT substring('hello world' FROM 1 FOR 5), substr('hello', 2, 3), substr('hello', 3);
SELECT substring('hello' FROM 0 FOR 3), substring('hello' FOR 2), substring('hello' FROM 4), substring(NULL FROM 2);
SELECT trim('  x  '), ltrim('  x'), rtrim('x  '), btrim('xxaxx', 'x');
SELECT replace('a-b-c', '-', '+'), reverse('abc'), repeat('ab', 3);
SELECT position('lo' IN 'hello'), strpos('hello', 'l');
SELECT left('abcdef', 2), right('abcdef', 2);
SELECT lpad('7', 3, '0'), rpad('ab', 4, '*');
SELECT initcap('hello world');
SELECT split_part('a,b,c', ',', 2);
SELECT concat('a', 1, true), concat_ws('-', 'x', 'y', 'z');
SELECT 'abc' || 'def' || 1;
SELECT starts_with('hello', 'he');
SELECT md5('abc');
SELECT to_hex(255), ascii('A'), chr(66);
SELECT format('%s has %s items', 'cart', 3);
SELECT string_to_array('a,b,c', ',');
SELECT regexp_replace('abc123', '[0-9]+', 'N');
SELECT 'abc' ~ '^a', 'abc' ~* '^A', 'abc' !~ 'z';
SELECT length(''), upper(''), '' = '' AS eq;

== string functions on columns
CREATE TABLE p (id INT, first TEXT, last TEXT);
INSERT INTO p VALUES (1, 'ann', 'lee'), (2, 'bob', 'ray');
----
SELECT id, initcap(first) || ' ' || upper(last) AS full_name FROM p ORDER BY id;
SELECT id FROM p WHERE lower(first) = 'bob';
SELECT id, length(first || last) AS len FROM p ORDER BY id;

== math functions
----
SELECT abs(-5), abs(-2.5), ceil(4.2), floor(4.8), round(4.5), round(2.345, 2);
SELECT mod(10, 3), 10 % 3, -7 % 3, power(2, 10), sqrt(16.0);
SELECT trunc(3.789, 1), sign(-3), greatest(3, 9, 1), least(3, 9, 1);
SELECT 7 / 2, -7 / 2, 7.0 / 2, 7 / 2.0;
SELECT 2 ^ 3, 2 ^ 0.5;
SELECT pi();
SELECT round(10.0 / 3, 4);
SELECT div(7, 2), 7::float / 2;
SELECT 1 / 0;
SELECT 1.0 / 0;

== integer overflow
----
SELECT 2147483647 + 1;
SELECT 2147483647::int + 1;
SELECT 9223372036854775807 + 1;

== date functions on literals
----
SELECT date '2024-02-28' + 1;
SELECT date '2024-03-01' - date '2024-02-01';
SELECT date '2024-01-31' + interval '1 month';
SELECT timestamp '2024-05-06 07:08:09' + interval '1 day 2 hours';
SELECT timestamp '2024-05-06 07:08:09' - interval '30 minutes';
SELECT date_trunc('month', timestamp '2024-05-06 07:08:09');
SELECT date_trunc('day', timestamp '2024-05-06 07:08:09'), date_trunc('hour', timestamp '2024-05-06 07:08:09');
SELECT extract(year FROM date '2024-05-06'), extract(month FROM date '2024-05-06'), extract(day FROM date '2024-05-06');
SELECT extract(dow FROM date '2024-05-06'), extract(doy FROM date '2024-05-06');
SELECT extract(epoch FROM timestamp '2024-01-01 00:00:00');
SELECT date_part('hour', timestamp '2024-05-06 07:08:09');
SELECT to_char(timestamp '2024-05-06 07:08:09', 'YYYY-MM-DD HH24:MI:SS');
SELECT to_char(date '2024-05-06', 'DD Mon YYYY');
SELECT to_date('2024-05-06', 'YYYY-MM-DD');
SELECT age(timestamp '2024-05-06', timestamp '2024-01-01');
SELECT make_date(2024, 2, 29);
SELECT timestamp '2024-05-06 07:08:09' - timestamp '2024-05-05 06:00:00';
SELECT date '2024-05-06' < date '2024-05-07', timestamp '2024-01-01' = date '2024-01-01';

== mixed integer float and numeric operands
CREATE TABLE mx (id INT PRIMARY KEY, a INT, b BIGINT, n NUMERIC(10,2), f DOUBLE PRECISION);
INSERT INTO mx VALUES (1, 2147483647, 9223372036854775807, 1.25, 0.1), (2, 1, 1, 2.50, 0.2), (3, NULL, NULL, NULL, NULL), (4, -5, -7, -0.75, 1e10);
----
SELECT id, a < 3.5, a = 1.0, a > 0.5, a <> 1.5, b > 1.5, b = 1.0, a < f, a = f, b < f FROM mx ORDER BY id;
SELECT id, a IN (1.0, 2), a BETWEEN 0.5 AND 1.5, CASE a WHEN 1.0 THEN 'one' ELSE 'other' END FROM mx ORDER BY id;
SELECT id FROM mx WHERE a < 1.5 ORDER BY id;
SELECT id FROM mx WHERE id = 2.0;
SELECT id FROM mx WHERE id IN (2.0, 3.5) OR id BETWEEN 3.5 AND 4.5 ORDER BY id;
SELECT id, n < f, n < 2, n = 1.25, f > 0.15, f = 0.1, n = a, n > a FROM mx ORDER BY id;
SELECT id, a + f, f + a, a * f, b + f, a - f, a / f, f / a, n + f, f + n, n * f FROM mx WHERE id IN (2, 3) ORDER BY id;
SELECT id, a * 1.5, 1.5 * a, a + 0.5, b * 1.5, a * n, n * a FROM mx WHERE id > 1 ORDER BY id;
SELECT a % f FROM mx;
SELECT f % 2 FROM mx;
SELECT sum(a * f), avg(a + f) FROM mx WHERE id > 1;
UPDATE mx SET f = a * f WHERE id = 2;
SELECT id, f FROM mx ORDER BY id;

== casts round as postgresql rounds
CREATE TABLE ct (id INT PRIMARY KEY, n NUMERIC(10,2), f DOUBLE PRECISION, s TEXT);
INSERT INTO ct VALUES (1, 2.50, 2.5, ' 42 '), (2, -2.50, -2.5, '7'), (3, 0.49, 0.7, 'x'), (4, 3.51, 3.5, '1.5'), (5, NULL, NULL, NULL);
----
SELECT id, n::int, f::int, n::bigint, f::bigint, n::smallint, CAST(f AS INTEGER), round(f), f::numeric, n::float8 FROM ct ORDER BY id;
SELECT 2.5::int, (-2.5)::int, 3.5::int, 2.5::float8::int, 0.5::float8::int, 1.5::float8::int, round(2.5::float8), round(-0.5::float8);
SELECT id, s::int FROM ct WHERE id < 3 ORDER BY id;
SELECT s::int FROM ct WHERE id = 4;
SELECT '  42  '::int, ' 7'::bigint;
SELECT id, n::numeric(10,1), f::numeric(10,1), n::numeric(3), f::numeric(4,2) FROM ct ORDER BY id;
SELECT n::numeric(2,1) FROM ct WHERE id = 1;
SELECT f::numeric(2,1) FROM ct;
SELECT f::int, count(*) FROM ct GROUP BY f::int ORDER BY 1;
SELECT avg(f)::int, sum(n)::int, max(f)::int, count(*)::int, sum(id)::numeric(10,1), avg(id)::numeric(10,2) FROM ct;
SELECT id, extract(year FROM date '2024-05-06')::int, (n * 1.5)::int, round(f)::int, floor(f)::int FROM ct ORDER BY id;
SELECT id FROM ct WHERE n::int = 3 OR f::int = 4 ORDER BY id;
SELECT 1e300::float8, 1e-5::float8, 123456789012345678::float8, 1.5e10::float8, -2.5::float8, CAST(1.7976931348623157e308 AS DOUBLE PRECISION);

== assignments cast as postgresql casts them
CREATE TABLE u1 (id INT PRIMARY KEY, i INT, b BIGINT, n NUMERIC(6,2), f DOUBLE PRECISION, s VARCHAR(5), t TEXT);
----
INSERT INTO u1 VALUES (1, 2.5, 3.5, 1.005, 1, 'abc', 'x');
INSERT INTO u1 (id, i, n, f) VALUES (2, -2.5, 2, 7);
INSERT INTO u1 (id, i, b) VALUES (3, 1e3, 2.5e0);
INSERT INTO u1 (id, t) VALUES (6, 42);
INSERT INTO u1 (id, f) VALUES (7, 1e300), (8, 0.1), (9, 1.7976931348623157e308);
SELECT * FROM u1 ORDER BY id;
UPDATE u1 SET i = f * 1.25 WHERE id = 2;
UPDATE u1 SET n = f / 3 WHERE id = 2;
UPDATE u1 SET b = i + 0.5 WHERE id = 1;
UPDATE u1 SET f = n WHERE id = 1;
UPDATE u1 SET i = i * 2, n = n + 1 WHERE id IN (1, 2) RETURNING id, i, n;
UPDATE u1 SET b = i, i = b WHERE id = 1;
SELECT * FROM u1 ORDER BY id;
UPDATE u1 SET n = 12345.678 WHERE id = 1;
UPDATE u1 SET i = 3000000000 WHERE id = 1;
UPDATE u1 SET i = f WHERE id = 7;
DELETE FROM u1 WHERE id > 6 RETURNING id;
SELECT * FROM u1 ORDER BY id;

== month arithmetic on dates and timestamps
CREATE TABLE ev (id INT PRIMARY KEY, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ);
INSERT INTO ev VALUES (1, '2024-01-31', '2024-03-31 10:00:00', '2024-11-30 23:00:00+00'), (2, '2023-12-15', '2024-12-31 00:00:01', '2024-02-29 12:00:00+00'), (3, NULL, NULL, NULL);
----
SELECT date '2024-11-15' + interval '1 month', date '2024-12-15' - interval '12 months', date '2024-02-29' + interval '1 year';
SELECT timestamp '2024-03-31 10:00' - interval '1 month', date '2024-01-31' + interval '1 month 2 days';
SELECT timestamp '2024-05-31 00:00:00' + INTERVAL '3' MONTH, date '2024-02-29' - INTERVAL '1' YEAR, '2024-01-31'::date + '1 mon'::interval;
SELECT timestamptz '2024-01-31 12:00:00+00' + interval '1 month -1 day', date '2024-01-31' + interval '1 month' + interval '1 day';
SELECT id, d + interval '1 month', ts - interval '1 month', tz + interval '1 month 2 days 03:00' FROM ev ORDER BY id;
SELECT id FROM ev WHERE d + interval '1 year' > date '2024-12-31' ORDER BY id;
SELECT id, ts + interval '13 months' AS x FROM ev ORDER BY x;
SELECT now() - interval '1 month' < now(), current_date - interval '11 months' < now(), localtimestamp + interval '1 year' > localtimestamp;
UPDATE ev SET ts = ts + interval '1 month' WHERE id = 1;
SELECT id, ts FROM ev ORDER BY id;
SELECT date '294276-12-01' + interval '1 month';

== current time functions are consistent
----
SELECT now() IS NOT NULL, current_date IS NOT NULL, current_timestamp IS NOT NULL;
SELECT now() = current_timestamp;
SELECT current_date = now()::date;
SELECT now() > timestamp '2020-01-01';
BEGIN;
SELECT now() = statement_timestamp() OR now() <= statement_timestamp();
COMMIT;

== date columns
CREATE TABLE ev (id INT, at DATE);
INSERT INTO ev VALUES (1, '2024-01-15'), (2, '2024-02-20'), (3, '2023-12-31');
----
SELECT id FROM ev WHERE at >= '2024-01-01' ORDER BY id;
SELECT id, at + 30 AS due FROM ev ORDER BY id;
SELECT extract(year FROM at) AS y, count(*) FROM ev GROUP BY 1 ORDER BY 1;
SELECT date_trunc('month', at) AS m, count(*) FROM ev GROUP BY 1 ORDER BY 1;
SELECT id FROM ev WHERE at BETWEEN '2024-01-01' AND '2024-01-31';
SELECT id, at - DATE '2024-01-01' AS days, at - at AS zero FROM ev ORDER BY id;
SELECT a.id, b.id, b.at - a.at FROM ev a JOIN ev b ON b.id = a.id + 1 ORDER BY a.id;
SELECT id, at - id AS back FROM ev ORDER BY id;

== conditional functions
----
SELECT coalesce(NULL, 'x'), nullif('a', 'a'), greatest('apple', 'pear'), least(2.5, 1);
SELECT CASE WHEN 2 > 1 THEN 'yes' END;

== casts
----
SELECT '42'::int, '3.5'::numeric, 42::text, '2024-01-02'::date, 'true'::boolean;
SELECT CAST('12' AS BIGINT) + 1, CAST(3.7 AS INT), CAST(-3.5 AS INT), CAST(2.5 AS INT);
SELECT 'abc'::int;
SELECT '2024-13-01'::date;
SELECT 1::boolean, 0::boolean;
SELECT 'yes'::boolean, 'off'::boolean;
SELECT 10::numeric / 4, 10 / 4::numeric;
SELECT 1.5::float8 * 2, '1e3'::float8;
SELECT 300::smallint * 200::smallint;

== trimming, positions and prefixes
----
SELECT btrim('xxaxx', 'x'), btrim('  y '), btrim(NULL), btrim('abc', NULL);
SELECT strpos('hello', 'l'), strpos('hello', 'z'), strpos('', ''), strpos(NULL, 'a');
SELECT position('' IN 'abc'), position('' IN ''), position('b' IN 'abc'), position(NULL IN 'a'), position('' IN NULL);
SELECT starts_with('hello', 'he'), starts_with('hello', 'lo'), starts_with('', ''), starts_with(NULL, 'a'), starts_with('a', NULL);

== gen_random_uuid and random are well typed
----
SELECT length(gen_random_uuid()::text);
SELECT random() >= 0 AND random() < 1;
SELECT gen_random_uuid() <> gen_random_uuid() AS differ;

== gen_random_uuid as a column default
CREATE TABLE tok (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), n INT);
----
INSERT INTO tok (n) VALUES (1), (2), (3);
SELECT count(DISTINCT id), count(*), count(id) FROM tok;
SELECT n FROM tok WHERE id IS NOT NULL ORDER BY n;

== round with digits
----
SELECT round(2.345, 2), round(-2.345, 2), round(2.5, 0), round(-2.5, 0), round(1234.5, -2), round(NULL::numeric, 1);
SELECT round(-0.001, 2), round(5, 1), round(0.125, 2);

== greatest least mixed and char length
----
SELECT greatest(1, 2.5, NULL), least('b', NULL, 'a'), greatest(NULL::int, NULL), char_length(''), character_length('añb');

== cast of decimals to integer rounds
----
SELECT CAST(0.5 AS INT), CAST(-0.5 AS INT), CAST(1.49 AS BIGINT), (-7.5)::smallint;

== numeric constants take postgres scales
----
SELECT 1 / 3::numeric, 2.50 * 1.5, 123456 / 7.0, 0.001 / 3;
SELECT sqrt(2.0), sqrt(0.25), sqrt(100::numeric);
SELECT 1.0 / 0;

== format with %s and %%
----
SELECT format('%s has %s items', 'cart', 3);
SELECT format('100%% %s', NULL), format('plain');
SELECT format('%s-%s', 1.50, true);
SELECT format('%s', 'a', 'unused');
SELECT format('%s and %s', 'only one');

== date and time functions on columns
CREATE TABLE tl (id INT PRIMARY KEY, ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, t TIME);
INSERT INTO tl VALUES (1, '2024-05-06 07:08:09.5', '2024-05-06 07:08:09.25+00', '2024-05-06', '07:08:09.5'), (2, '1969-12-31 23:59:59.5', '2000-02-29 23:00:00+00', '2000-02-29', '00:00:00'), (3, NULL, NULL, NULL, NULL), (4, '2000-01-01 00:00:00', '1999-12-31 12:00:00+00', '2001-01-01', '23:59:59.999999');
----
SELECT id, extract(year FROM ts), extract(month FROM ts), extract(day FROM ts), extract(hour FROM ts), extract(minute FROM ts), extract(second FROM ts) FROM tl ORDER BY id;
SELECT id, extract(epoch FROM ts), extract(epoch FROM tz), extract(epoch FROM d), extract(epoch FROM t) FROM tl ORDER BY id;
SELECT id, extract(dow FROM d), extract(isodow FROM d), extract(doy FROM d), extract(week FROM d), extract(quarter FROM d), extract(isoyear FROM d) FROM tl ORDER BY id;
SELECT id, extract(milliseconds FROM ts), extract(microseconds FROM ts), extract(decade FROM d), extract(century FROM d), extract(millennium FROM d) FROM tl ORDER BY id;
SELECT id, extract(hour FROM t), extract(second FROM t), extract(timezone FROM tz) FROM tl ORDER BY id;
SELECT id, date_part('hour', ts), date_part('epoch', ts), date_part('dow', d), date_part('second', t) FROM tl ORDER BY id;
SELECT id, date_trunc('week', ts), date_trunc('quarter', ts), date_trunc('decade', ts), date_trunc('century', ts), date_trunc('millennium', ts) FROM tl ORDER BY id;
SELECT id, date_trunc('month', tz), date_trunc('day', d), date_trunc('minute', ts), date_trunc('second', ts), date_trunc('milliseconds', tz), date_trunc('year', d) FROM tl ORDER BY id;
SELECT id, to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(d, 'FMDD Month YYYY'), to_char(tz, 'Dy, DD Mon YYYY HH12:MI:SS AM TZ') FROM tl ORDER BY id;
SELECT id, to_char(ts, 'Day|MONTH|dy|mon|IYYY-IW-ID|Q|DDD|"quoted"|MS|FMHH24') FROM tl ORDER BY id;
SELECT date_trunc('month', ts) AS m, count(*) FROM tl GROUP BY 1 ORDER BY 1;
SELECT id FROM tl WHERE extract(year FROM d) = 2024;
SELECT extract(hour FROM d) FROM tl;
SELECT extract(timezone FROM ts) FROM tl;
SELECT extract(year FROM t) FROM tl;
SELECT date_trunc('fortnight', ts) FROM tl;
SELECT make_date(2024, 2, 29), to_date('06 May 2024', 'DD Mon YYYY'), to_date('2024-5-6', 'YYYY-MM-DD');
SELECT make_date(2023, 2, 29);
SELECT to_char(now(), 'YYYY') = extract(year FROM now())::text;
SELECT extract(day FROM current_date) = date_part('day', now());

== row functions of a column
CREATE TABLE rf (id INT PRIMARY KEY, s TEXT, c CHAR(5), i INT, b BIGINT, sm SMALLINT, by BYTEA, n NUMERIC(10,3), f FLOAT8);
INSERT INTO rf VALUES (1, 'a,b,,c', 'x,y', 255, -1, -2, '\x000102', 3.789, 1.5), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (3, '', 'q', 0, 5000000000, 7, '\x', -1234.5, 2.5);
----
SELECT id, split_part(s, ',', 2), split_part(s, ',', -1), split_part(s, ',', 9), split_part(s, '', 1), split_part(s, '', 2) FROM rf ORDER BY id;
SELECT id FROM rf WHERE split_part(s, ',', 1) = 'a';
SELECT split_part(s, ',', 0) FROM rf;
SELECT id, to_hex(i), to_hex(b) FROM rf ORDER BY id;
SELECT to_hex(sm) FROM rf;
SELECT id, length(by), octet_length(by), length(s) FROM rf ORDER BY id;
SELECT id, trunc(n, 1), trunc(n, 0), trunc(n, -2), trunc(n, 5) FROM rf ORDER BY id;
SELECT trunc(f, 1) FROM rf;
SELECT split_part('a,b,c', ',', -1), to_hex(-1), to_hex(5000000000), trunc(5, 2), trunc(-1234.5, -2);
SELECT trunc(n, 1) AS t, count(*) FROM rf GROUP BY trunc(n, 1) ORDER BY t;

== decimal constants keep their scale
CREATE TABLE dc (id INT PRIMARY KEY, n NUMERIC(10,3), f FLOAT8);
INSERT INTO dc VALUES (1, 2.5, 1.5);
----
SELECT 1.50, 2.0 AS x, -0.50, 0.10;
SELECT id, 1.50 FROM dc;
SELECT x FROM (SELECT 1.50 AS x) d;
SELECT 1.50 UNION SELECT 2.0 ORDER BY 1;
SELECT 1.50 UNION ALL SELECT f FROM dc ORDER BY 1;
SELECT 1.50 FROM dc WHERE n > 1.50;
SELECT n, 1.250 FROM dc WHERE f < 2.0;
SELECT 1e3, 1.5e1, 1.50e1, 2.5e-2, -1e2, 1e0, 12e-1;

== string functions count characters, not bytes; trim with characters; casts to varchar(n)
CREATE TABLE uc (id INT PRIMARY KEY, s TEXT);
INSERT INTO uc VALUES (1, 'héllo wörld'), (2, 'xaxbx'), (3, '  padded  '), (4, NULL);
----
SELECT id, left(s, 2), right(s, 3), substr(s, 2, 3), substr(s, 2), substring(s from 3 for 2) FROM uc ORDER BY id;
SELECT id, lpad(s, 13, '*'), rpad(s, 13, 'é'), lpad(s, 3), position('o' in s), strpos(s, 'ö') FROM uc ORDER BY id;
-- (upper/lower of non-ASCII letters follow the server's locale: not compared)
SELECT id, length(s), reverse(s), left(s, -2), right(s, -2) FROM uc ORDER BY id;
SELECT id, trim(both 'x' from s), trim(leading 'x' from s), trim(trailing 'x' from s), btrim(s, ' d'), trim(s) FROM uc ORDER BY id;
SELECT id, s::varchar(3), s::char(2), ascii(s) FROM uc WHERE id <> 1 ORDER BY id;
SELECT 'héllo'::varchar(2), left('héllo', 10), lpad('ab', 5, 'éx'), substr('abc', 0, 2), substr('abc', -1, 3);

== to_timestamp with a template
SET TIME ZONE 'UTC';
----
SELECT to_timestamp('2024-03-05 10:00', 'YYYY-MM-DD HH24:MI');
SELECT to_timestamp('05/03/2024 02:07:09 PM', 'DD/MM/YYYY HH12:MI:SS AM');
SELECT to_timestamp('5 Mar 2024 23:59:59', 'DD Mon YYYY HH24:MI:SS') < timestamptz '2024-03-06 00:00:00+00';

== math functions of integer and numeric columns
CREATE TABLE mf (id INT PRIMARY KEY, s SMALLINT, n NUMERIC(10,3), d DOUBLE PRECISION);
INSERT INTO mf VALUES (1, 2, 1.5, 0.1), (2, -3, -0.0005, 2.5), (3, 0, 0, 1e10), (4, NULL, NULL, NULL);
----
SELECT id, power(2, id), power(id, 2), sqrt(id), sqrt(s * s), exp(s), ln(id) FROM mf ORDER BY id;
SELECT id, sign(n), sign(s), sign(id), sign(d), abs(s), abs(n) FROM mf ORDER BY id;
SELECT id, ceil(s), floor(s), round(s), degrees(s), sin(s) FROM mf ORDER BY id;
SELECT d::int FROM mf WHERE id = 3;
SELECT d::smallint FROM mf WHERE id = 2;
SELECT 1e10::int;
SELECT abs(s) FROM (SELECT (-32768)::smallint AS s) x;
SELECT abs(-2147483648);

== numeric quotients of columns have postgresql's scale
CREATE TABLE nq (id INT PRIMARY KEY, i INT, b BIGINT, n NUMERIC(10,3), m NUMERIC, f DOUBLE PRECISION);
INSERT INTO nq VALUES (1, 7, 10, 1.5, 3, 0.5), (2, 1, 3, 2.25, 0.0007, 4), (3, -5, 1000000, -0.001, 12345.6789, 3), (4, 0, NULL, NULL, 2, NULL);
----
SELECT id, n / 3, n / i, i / n, n / m, m / n FROM nq WHERE id < 4 ORDER BY id;
SELECT id, i / 2.0, b / 3.0, 10.0 / i, n / 0.7, m / 7 FROM nq WHERE id < 4 ORDER BY id;
SELECT id, n / f, f / n, i / 2, b / i FROM nq WHERE id < 4 ORDER BY id;
SELECT sum(n) / count(*), sum(m) / sum(i), avg(n) FROM nq;
SELECT id FROM nq WHERE n / 3 > 0.5 ORDER BY id;
SELECT g, sum(m) / count(*) FROM (SELECT id % 2 AS g, m FROM nq) x GROUP BY g ORDER BY g;
SELECT n / 0 FROM nq WHERE id = 1;
SELECT i / 0.0 FROM nq WHERE id = 1;
UPDATE nq SET n = n / 7 WHERE id = 1 RETURNING n;
UPDATE nq SET m = m / 3 WHERE id = 2 RETURNING m;
SELECT id, n, m FROM nq ORDER BY id;

== regexp_replace translate octet_length quote_literal to_hex starts_with
CREATE TABLE rf (id INT PRIMARY KEY, s TEXT);
INSERT INTO rf VALUES (1, 'a1b22c'), (2, 'Hello World'), (3, NULL), (4, 'héllo');
----
SELECT id, regexp_replace(s, '[0-9]+', '#', 'g'), regexp_replace(s, '[0-9]+', '#'), regexp_replace(s, '(\w+) (\w+)', '\2 \1'), regexp_replace(s, 'L', 'x', 'gi') FROM rf ORDER BY id;
SELECT regexp_replace('cost $5', '\$(\d)', '\&=\1$'), regexp_replace('aaa', 'a', '\\', 'g'), regexp_replace(E'a\nb', 'a.b', 'x');
SELECT regexp_replace('2024-03-05', '(\d+)-(\d+)-(\d+)', '\3/\2/\1'), regexp_replace('AbC', '[a-z]', '_', 'g'), regexp_replace('x.y', '.', '-');
SELECT id, translate(s, 'lo', 'L'), octet_length(s), starts_with(s, 'He'), quote_literal(s) FROM rf ORDER BY id;
SELECT translate('12345', '143', 'ax'), octet_length(''), quote_literal('it''s'), quote_literal('a\b'), quote_literal(42);
SELECT to_hex(255), to_hex(4294967296), to_hex(0), to_hex(NULL::int);
SELECT regexp_replace('a', '(', 'b');

== like and regular expressions match across newlines as in postgresql
CREATE TABLE nlm (id INT PRIMARY KEY, s TEXT);
INSERT INTO nlm VALUES (1, E'a\nb'), (2, 'ab'), (3, E'A\nB'), (4, NULL);
----
SELECT id, s LIKE 'a%b', s LIKE 'a_b', s ILIKE 'a%b', s ~ 'a.b', s ~* 'a.b', s !~ '^b', s ~ '^b' FROM nlm ORDER BY id;
SELECT id FROM nlm WHERE s ~ 'a[^x]b' ORDER BY id;
SELECT id, regexp_replace(s, 'a.b', 'x') FROM nlm ORDER BY id;
SELECT 'a(' ~ '(';

== repeat and lpad with negative or huge lengths
CREATE TABLE rp (id INT PRIMARY KEY, s TEXT, n INT);
INSERT INTO rp VALUES (1, 'ab', 2), (2, 'ab', -1), (3, 'x', 0), (4, NULL, 3);
----
SELECT id, repeat(s, n), lpad(s, n), rpad(s, n, '*') FROM rp ORDER BY id;
SELECT repeat('ab', -5), lpad('hi', -1), rpad('hi', 0);
SELECT repeat('ab', 2000000000);
SELECT lpad('x', 1073741824);

== substr from before the first character and of integer columns
CREATE TABLE ss (id INT PRIMARY KEY, s TEXT, a SMALLINT, b INT);
INSERT INTO ss VALUES (1, 'hello', -3, 2), (2, 'héllo', 0, 3), (3, 'abc', 2, 0), (4, NULL, 1, 1);
----
SELECT id, substr(s, a), substr(s, b), substr(s, a, b), substring(s from a for b), substr(s, -10) FROM ss ORDER BY id;
SELECT substr('hello', -3), substr('hello', 0), substr('hello', 6), substr('hello', -3, 5);

== exponentiation of integers and floats is double precision
----
SELECT 2 ^ 10, 2 ^ -1, 2.0::float8 ^ 0.5::float8, (-8) ^ 3, 4 ^ 0.5::float8;
SELECT 2 ^ 3 ^ 2, -2 ^ 2, -(2 ^ 2), (2 ^ 3)::int, - 3 ^ 2 * 2;
SELECT power(2, 10), power(2.0::float8, 3), 'NaN'::float8 ^ 0, (-1)::float8 ^ 'Infinity'::float8;
SELECT (-8)::float8 ^ 0.5::float8;
SELECT 0::float8 ^ (-1)::float8;
SELECT 10::float8 ^ 400::float8;
SELECT 10::float8 ^ (-400)::float8;
SELECT power(-8::float8, 0.5::float8);
SELECT 9223372036854775807 + 1;
SELECT -9223372036854775807 - 2;

== float overflow, logarithms and square roots raise postgresql's errors
CREATE TABLE fo (id INT PRIMARY KEY, x DOUBLE PRECISION);
INSERT INTO fo VALUES (1, 1e308), (2, -1e308), (3, 1e-308), (4, 0), (5, -4), (6, 100);
----
SELECT x * 10 FROM fo WHERE id = 1;
SELECT x * 10 FROM fo WHERE id = 2;
SELECT x * x FROM fo WHERE id = 3;
SELECT x + x FROM fo WHERE id = 1;
SELECT x / 1e-10 FROM fo WHERE id = 1;
SELECT x / 1e300 FROM fo WHERE id = 3;
SELECT sqrt(x) FROM fo WHERE id = 5;
SELECT sqrt(-1);
SELECT ln(x) FROM fo WHERE id = 4;
SELECT ln(x) FROM fo WHERE id = 5;
SELECT log(x) FROM fo WHERE id = 4;
SELECT exp(1000::float8);
SELECT exp(-1000::float8);
SELECT id, ln(x), log(x), exp(x / 1000), sqrt(x) FROM fo WHERE id = 6;
SELECT ln(2), log(1000), exp(0), 'Infinity'::float8 * 2, 'Infinity'::float8 + 1;

== trunc to digits and integers met with unknown-typed numerics
CREATE TABLE tq (id INT PRIMARY KEY, bal NUMERIC(12,2), n INT);
INSERT INTO tq VALUES (1, 104.50, 3), (2, 55.55, 0), (3, NULL, 7);
----
SELECT trunc(1234.5678, 2), trunc(1234.5678, -2), trunc(-2.789, 1), trunc(5, 1), trunc(0.004, 2), trunc(-0.5), trunc(2.7), trunc(1234.5678, 0);
SELECT id, trunc(bal / 3, 1), trunc(n / 3.0, 3), round(bal * 1.005, 2) FROM tq ORDER BY id;
SELECT (SELECT sum(n) FROM tq) * (SELECT max(bal) FROM tq);
SELECT (SELECT sum(n) FROM tq) + (SELECT min(bal) FROM tq), (SELECT count(*) FROM tq) / (SELECT max(bal) FROM tq);
SELECT (SELECT max(n) FROM tq) * 2.5::float8;
