// node-postgres (`pg`) against a running HeliosDB Nano server: parameters
// and results of every type the server stores, round-tripped through the
// extended protocol (node-pg sends every query with parameters as
// Parse/Bind/Execute, parameter types left to the server, values as text
// except Buffers, which go in binary), JavaScript Dates under three time
// zones, result column names of function calls, an error's SQLSTATE with
// the connection still usable after it, and a transaction rolled back.
//
// Usage: node node_pg_params.js URL   (a postgresql:// connection URL)
//
// Prints `ok` when every check passed; otherwise prints the failing check
// and exits 1. Each check asserts an exact answer (node's assert module,
// strict mode). The expected answers are PostgreSQL's: the script passes
// against PostgreSQL itself.

'use strict';

const assert = require('node:assert/strict');
const { Client } = require('pg');

/** The columns of table `p`, one of each type, in order. */
const COLUMNS = [
  'id INT PRIMARY KEY',
  'i2 SMALLINT',
  'i4 INTEGER',
  'i8 BIGINT',
  'f4 REAL',
  'f8 DOUBLE PRECISION',
  'n NUMERIC',
  'n2 NUMERIC(10,2)',
  't TEXT',
  'v VARCHAR(20)',
  'ok BOOLEAN',
  'by BYTEA',
  'd DATE',
  'ts TIMESTAMP',
  'tz TIMESTAMPTZ',
  'tm TIME',
  'iv INTERVAL',
  'u UUID',
  'j JSON',
  'jb JSONB',
];
const NAMES = COLUMNS.map((c) => c.split(' ')[0]);
const PLACEHOLDERS = NAMES.map((_, i) => `$${i + 1}`).join(', ');
const INSERT = `INSERT INTO p VALUES (${PLACEHOLDERS})`;
// Every column but the JSON ones, whose results are checked as text
// (see `checkJson`).
const SELECT = `SELECT ${NAMES.filter((n) => n !== 'j' && n !== 'jb').join(', ')} FROM p WHERE id = $1`;

const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const DOC = { b: [1, 2.5, 'x'], a: null, nested: { k: true, s: 'é "q"' } };
const DOC_JSON = JSON.stringify(DOC);
// PostgreSQL's jsonb text: keys by length then bytes, `", "` and `": "`.
const DOC_JSONB = '{"a": null, "b": [1, 2.5, "x"], "nested": {"k": true, "s": "é \\"q\\""}}';

/** Runs `text` with `values`; returns the rows as objects. */
async function rows(client, text, values = []) {
  return (await client.query(text, values)).rows;
}

/** The single row `text` returns. */
async function one(client, text, values = []) {
  const r = await rows(client, text, values);
  assert.equal(r.length, 1, `${text}: ${r.length} rows`);
  return r[0];
}

/** An interval result as a plain object (node-pg's PostgresInterval has a prototype). */
function plain(interval) {
  return { ...interval };
}

async function checkEveryType(client) {
  await client.query(`CREATE TABLE p (${COLUMNS.join(', ')})`);
  const values = [
    1,
    -32768,
    -2147483648,
    9223372036854775807n,
    1.5,
    1.5e-300,
    '12345678901234567890.123456789',
    '-2.345',
    "naïve ☃ 'quoted' ''doubled'' \\ back\nline two",
    'short',
    true,
    EVERY_BYTE,
    new Date(2024, 1, 29),
    new Date('2024-02-29T12:00:00.123Z'),
    new Date('2024-02-29T12:00:00.123Z'),
    '23:59:59.999999',
    '3 days 04:05:06.789',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    DOC,
    DOC,
  ];
  const r = await client.query(INSERT, values);
  assert.equal(r.command, 'INSERT');
  assert.equal(r.rowCount, 1);
  const nulls = [2, ...NAMES.slice(1).map(() => null)];
  await client.query(INSERT, nulls);
  // The other extremes, empty text and bytes, false.
  const other = [
    3,
    32767,
    2147483647,
    '-9223372036854775808',
    -0.25,
    -1.7976931348623157e308,
    '-0.000000000000000000000000001',
    '1.5',
    '',
    '',
    false,
    Buffer.alloc(0),
    new Date(1999, 11, 31),
    new Date('1999-12-31T23:59:59.999Z'),
    new Date('1999-12-31T23:59:59.999Z'),
    '00:00:00',
    '1 year 2 mons',
    '00000000-0000-0000-0000-000000000000',
    // node-pg sends a JavaScript array as a PostgreSQL array literal, so
    // a JSON array goes as its text.
    JSON.stringify([1, 'two']),
    {},
  ];
  await client.query(INSERT, other);

  const row1 = await one(client, SELECT, [1]);
  assert.deepStrictEqual(plain(row1.iv), { days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 789 });
  delete row1.iv;
  assert.deepStrictEqual(row1, {
    id: 1,
    i2: -32768,
    i4: -2147483648,
    i8: '9223372036854775807', // node-pg returns int8 as a string
    f4: 1.5,
    f8: 1.5e-300,
    n: '12345678901234567890.123456789',
    n2: '-2.35', // rounded half away from zero to the column's scale
    t: "naïve ☃ 'quoted' ''doubled'' \\ back\nline two",
    v: 'short',
    ok: true,
    by: EVERY_BYTE,
    d: new Date(2024, 1, 29),
    ts: new Date('2024-02-29T12:00:00.123Z'),
    tz: new Date('2024-02-29T12:00:00.123Z'),
    tm: '23:59:59.999999',
    u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  });

  const nullRow = await one(client, SELECT, [2]);
  assert.deepStrictEqual(
    nullRow,
    Object.fromEntries(Object.keys(nullRow).map((k) => [k, k === 'id' ? 2 : null])),
  );
  assert.equal(Object.keys(nullRow).length, NAMES.length - 2);
  const jsonNulls = await one(client, 'SELECT j, jb FROM p WHERE id = $1', [2]);
  assert.deepStrictEqual(jsonNulls, { j: null, jb: null });

  const row3 = await one(client, SELECT, [3]);
  assert.deepStrictEqual(plain(row3.iv), { years: 1, months: 2 });
  delete row3.iv;
  assert.deepStrictEqual(row3, {
    id: 3,
    i2: 32767,
    i4: 2147483647,
    i8: '-9223372036854775808',
    f4: -0.25,
    f8: -1.7976931348623157e308,
    n: '-0.000000000000000000000000001',
    n2: '1.50',
    t: '',
    v: '',
    ok: false,
    by: Buffer.alloc(0),
    d: new Date(1999, 11, 31),
    ts: new Date('1999-12-31T23:59:59.999Z'),
    tz: new Date('1999-12-31T23:59:59.999Z'),
    tm: '00:00:00',
    u: '00000000-0000-0000-0000-000000000000',
  });

  // Their text, as PostgreSQL prints them (the session time zone is UTC).
  assert.deepStrictEqual(
    await one(
      client,
      'SELECT d::text AS d, ts::text AS ts, tz::text AS tz, iv::text AS iv, n::text AS n FROM p WHERE id = $1',
      [1],
    ),
    {
      d: '2024-02-29',
      ts: '2024-02-29 12:00:00.123',
      tz: '2024-02-29 12:00:00.123+00',
      iv: '3 days 04:05:06.789',
      n: '12345678901234567890.123456789',
    },
  );
  assert.deepStrictEqual(
    await one(client, "SELECT 'at ' || tz AS at, CAST(iv AS varchar) AS iv, tz::varchar AS tz FROM p WHERE id = $1", [1]),
    { at: 'at 2024-02-29 12:00:00.123+00', iv: '3 days 04:05:06.789', tz: '2024-02-29 12:00:00.123+00' },
  );

  // Parameters in WHERE clauses, by value of each type.
  const where = async (column, value) =>
    (await rows(client, `SELECT id FROM p WHERE ${column} = $1 ORDER BY id`, [value])).map((x) => x.id);
  assert.deepStrictEqual(await where('i8', '9223372036854775807'), [1]);
  assert.deepStrictEqual(await where('n', '12345678901234567890.123456789'), [1]);
  assert.deepStrictEqual(await where('n2', '1.50'), [3]);
  assert.deepStrictEqual(await where('t', ''), [3]);
  assert.deepStrictEqual(await where('ok', false), [3]);
  assert.deepStrictEqual(await where('by', EVERY_BYTE), [1]);
  assert.deepStrictEqual(await where('d', new Date(2024, 1, 29)), [1]);
  assert.deepStrictEqual(await where('ts', new Date('2024-02-29T12:00:00.123Z')), [1]);
  assert.deepStrictEqual(await where('tz', new Date('1999-12-31T23:59:59.999Z')), [3]);
  assert.deepStrictEqual(await where('tm', '23:59:59.999999'), [1]);
  assert.deepStrictEqual(await where('u', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), [1]);

  await checkJson(client);
}

/**
 * JSON parameters are objects (node-pg sends JSON.stringify's text); json
 * and jsonb results come back as objects.
 */
async function checkJson(client) {
  assert.deepStrictEqual(await one(client, 'SELECT j::text AS j, jb::text AS jb FROM p WHERE id = $1', [1]), {
    j: DOC_JSON, // json keeps the text as written
    jb: DOC_JSONB,
  });
  assert.deepStrictEqual(await one(client, 'SELECT j::text AS j, jb::text AS jb FROM p WHERE id = $1', [3]), {
    j: '[1,"two"]',
    jb: '{}',
  });
  // Selected as they are, the columns are typed json (114) and jsonb
  // (3802), so node-pg parses them into objects, as against PostgreSQL.
  const docs = await client.query('SELECT j, jb, p.jb AS again FROM p WHERE id = $1', [1]);
  assert.deepStrictEqual(docs.rows, [{ j: DOC, jb: DOC, again: DOC }]);
  assert.deepStrictEqual(docs.fields.map((f) => f.dataTypeID), [114, 3802, 3802]);
  const star = await client.query('SELECT * FROM p WHERE id = $1', [3]);
  assert.deepStrictEqual([star.rows[0].j, star.rows[0].jb], [[1, 'two'], {}]);
  const literal = await client.query(`SELECT '{"b": 1, "a": 2}'::jsonb AS doc, '[1]'::json`);
  assert.deepStrictEqual(literal.rows, [{ doc: { a: 2, b: 1 }, json: [1] }]);
  assert.deepStrictEqual(literal.fields.map((f) => f.dataTypeID), [3802, 114]);
  // A value that is not JSON is refused with 22P02.
  await assert.rejects(client.query('UPDATE p SET jb = $1 WHERE id = 3', ['{nope']), { code: '22P02' });
}

/** Typed parameters in expressions: casts give the parameters their types. */
async function checkCasts(client) {
  const r = await client.query(
    'SELECT $1::int4 + 1 AS a, $2::text AS b, $3::numeric AS c, $4::date AS d, $5::uuid AS u, ' +
      '$6::bool AS ok, $7::timestamptz AS tz, $8::int8 AS big',
    [41, 'x', '0.1', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'yes', '2024-02-29 14:00:00+02', '-1'],
  );
  assert.deepStrictEqual(r.rows, [
    {
      a: 42,
      b: 'x',
      c: '0.1',
      d: new Date(2024, 1, 29),
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ok: true,
      tz: new Date('2024-02-29T12:00:00Z'),
      big: '-1',
    },
  ]);
}

/**
 * JavaScript Dates under a time zone: node-pg sends a Date as its local
 * wall clock with the zone's offset (`2024-02-29T17:30:00.000+05:30`) and
 * reads a `timestamp` and a `date` back as local time, a `timestamptz`
 * with its offset; every Date must come back the same instant.
 */
async function checkDates(client, zone, id) {
  process.env.TZ = zone; // node reads TZ again when it changes
  const instant = new Date('2024-02-29T12:00:00Z');
  const midnight = new Date(2024, 1, 29);
  await client.query('INSERT INTO dates (id, d, ts, tz) VALUES ($1, $2, $3, $4)', [id, midnight, instant, instant]);
  const got = await one(client, 'SELECT d, ts, tz, d::text AS dt, ts::text AS tst FROM dates WHERE id = $1', [id]);
  const wall = { UTC: '12:00:00', 'Asia/Kolkata': '17:30:00', 'America/St_Johns': '08:30:00' }[zone];
  assert.deepStrictEqual(
    got,
    { d: midnight, ts: instant, tz: instant, dt: '2024-02-29', tst: `2024-02-29 ${wall}` },
    `dates under TZ=${zone}`,
  );
  // A Date parameter for a DATE column is its local calendar day.
  const day = await one(client, 'SELECT $1::date::text AS day', [instant]);
  assert.deepStrictEqual(day, { day: '2024-02-29' }, `date of a Date under TZ=${zone}`);
  const found = await rows(client, 'SELECT id FROM dates WHERE tz = $1 AND ts = $2 AND d = $3 AND id = $4', [
    instant,
    instant,
    midnight,
    id,
  ]);
  assert.deepStrictEqual(found, [{ id }], `Dates in WHERE under TZ=${zone}`);
}

/** Result column names: function calls are named after the function. */
async function checkColumnNames(client) {
  const r = await client.query('SELECT count(*), now() FROM p');
  assert.deepStrictEqual(
    r.fields.map((f) => f.name),
    ['count', 'now'],
  );
  assert.equal(r.rows[0].count, '3'); // count(*) is a bigint
  assert.ok(r.rows[0].now instanceof Date, 'now() is a Date');
  assert.ok(Math.abs(r.rows[0].now.getTime() - Date.now()) < 60_000, `now() is ${r.rows[0].now}`);
  const named = await client.query({
    text: 'SELECT max(id), min(i2), lower(v), 1 + 1, id AS ident FROM p WHERE id = $1 GROUP BY id',
    values: [1],
    rowMode: 'array',
  });
  assert.deepStrictEqual(
    named.fields.map((f) => f.name),
    ['max', 'min', 'lower', '?column?', 'ident'],
  );
  assert.deepStrictEqual(named.rows, [[1, -32768, 'short', 2, 1]]);
}

/** A named (server-side prepared) statement run again with other values. */
async function checkPrepared(client) {
  for (const id of [1, 3, 2, 1]) {
    const r = await client.query({ name: 'by-id', text: 'SELECT id, v FROM p WHERE id = $1', values: [id] });
    const v = { 1: 'short', 2: null, 3: '' }[id];
    assert.deepStrictEqual(r.rows, [{ id, v }]);
  }
}

/** Errors carry their SQLSTATE and leave the connection usable. */
async function checkErrors(client) {
  await assert.rejects(client.query('INSERT INTO p (id, t) VALUES ($1, $2)', [1, 'dup']), (e) => {
    assert.equal(e.code, '23505', e.message);
    return true;
  });
  assert.deepStrictEqual(await one(client, 'SELECT $1::int AS one', [1]), { one: 1 });
  for (const [sql, code] of [
    ['SELECT * FROM missing_table', '42P01'],
    ['SELECT nope FROM p', '42703'],
    ['SELECT 1/0', '22012'],
    ['INSERT INTO p (id) VALUES (NULL)', '23502'],
  ]) {
    await assert.rejects(client.query(sql), { code }, sql);
  }
  await assert.rejects(client.query('INSERT INTO p (id, i2) VALUES ($1, $2)', [9, 40000]), { code: '22003' });
  assert.deepStrictEqual(await one(client, 'SELECT count(*) AS n FROM p'), { n: '3' });
}

/** A transaction rolled back, one committed, and one aborted by an error. */
async function checkTransactions(client) {
  await client.query('BEGIN');
  await client.query('INSERT INTO p (id, t) VALUES ($1, $2)', [10, 'gone']);
  assert.deepStrictEqual(await one(client, 'SELECT count(*) AS n FROM p'), { n: '4' });
  await client.query('ROLLBACK');
  assert.deepStrictEqual(await rows(client, 'SELECT id FROM p WHERE id = $1', [10]), []);

  await client.query('BEGIN');
  await client.query('INSERT INTO p (id, t) VALUES ($1, $2)', [11, 'kept']);
  await client.query('COMMIT');
  assert.deepStrictEqual(await rows(client, 'SELECT t FROM p WHERE id = $1', [11]), [{ t: 'kept' }]);

  await client.query('BEGIN');
  await client.query('INSERT INTO p (id, t) VALUES ($1, $2)', [12, 'aborted']);
  await assert.rejects(client.query('INSERT INTO p (id) VALUES ($1)', [1]), { code: '23505' });
  await assert.rejects(client.query('SELECT 1'), { code: '25P02' });
  await client.query('ROLLBACK');
  assert.deepStrictEqual(await rows(client, 'SELECT id FROM p WHERE id IN ($1, $2) ORDER BY id', [11, 12]), [
    { id: 11 },
  ]);
}

async function main(url) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await checkEveryType(client);
    await checkCasts(client);
    await client.query('CREATE TABLE dates (id INT PRIMARY KEY, d DATE, ts TIMESTAMP, tz TIMESTAMPTZ)');
    const zones = ['UTC', 'Asia/Kolkata', 'America/St_Johns'];
    for (const [i, zone] of zones.entries()) {
      await checkDates(client, zone, i + 1);
    }
    process.env.TZ = 'UTC';
    await checkColumnNames(client);
    await checkPrepared(client);
    await checkErrors(client);
    await checkTransactions(client);
    await client.query('DROP TABLE dates');
    await client.query('DROP TABLE p');
  } finally {
    await client.end();
  }
}

// Every Date above is built in UTC unless a check sets another zone.
process.env.TZ = 'UTC';
main(process.argv[2]).then(
  () => console.log('ok'),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    console.error(`FAILED: ${e && e.message}`);
    process.exit(1);
  },
);
