"""psycopg 3 against a running HeliosDB Nano server: parameters of every
type the server stores, round-tripped through the extended protocol, and
psycopg's default prepare threshold (statements prepared server-side after
5 runs) surviving errors and rollbacks.

Usage: psycopg_params.py CONNINFO

Exits 0 when every check passed; otherwise prints the failing check and
exits 1. Each check asserts an exact answer.
"""

import datetime
import decimal
import sys

import psycopg
from psycopg import errors
from psycopg.types.json import Json, Jsonb


def main(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        assert conn.prepare_threshold == 5, conn.prepare_threshold
        cur = conn.cursor()
        cur.execute(
            "CREATE TABLE p (id INT PRIMARY KEY, s SMALLINT, b BIGINT, f DOUBLE PRECISION, "
            "n NUMERIC(12,4), t TEXT, v VARCHAR(20), by BYTEA, ok BOOLEAN, ts TIMESTAMP)"
        )
        conn.commit()

        row = (
            1,
            -32768,
            9223372036854775807,
            1.5e-300,
            decimal.Decimal("12345678.9012"),
            "naïve ☃ 'quoted' \\ back",
            "short",
            bytes(range(256)),
            True,
            datetime.datetime(2024, 2, 29, 12, 0, 0, 123456),
        )
        cur.execute("INSERT INTO p VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
        nulls = (2, None, None, None, None, None, None, None, None, None)
        cur.execute("INSERT INTO p VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", nulls)
        conn.commit()
        cur.execute("SELECT * FROM p WHERE id = %s", (1,))
        got = cur.fetchone()
        assert got == row, (got, row)
        cur.execute("SELECT * FROM p WHERE id = %s", (2,))
        got = cur.fetchone()
        assert got == nulls, got
        # Binary results as well as text.
        with conn.cursor(binary=True) as bcur:
            bcur.execute("SELECT id, b, n, by FROM p WHERE id = %s", (1,))
            got = bcur.fetchone()
            assert got == (1, row[2], row[4], row[7]), got

        # A timezone-aware datetime is stored as UTC.
        aware = datetime.datetime(2024, 2, 29, 13, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
        cur.execute("UPDATE p SET ts = %s WHERE id = %s", (aware, 2))
        conn.commit()
        cur.execute("SELECT ts FROM p WHERE id = 2")
        assert cur.fetchone()[0] == datetime.datetime(2024, 2, 29, 12, 0), "aware timestamp"

        # The prepare threshold: the same statement many times, with errors
        # and rollbacks in between, keeps working (psycopg prepares it after
        # 5 runs and deallocates on rollback).
        for i in range(10, 40):
            if i % 7 == 0:
                try:
                    cur.execute("INSERT INTO p (id, t) VALUES (%s, %s)", (1, "dup"))
                    raise AssertionError("duplicate key accepted")
                except errors.UniqueViolation:
                    conn.rollback()
                continue
            cur.execute("INSERT INTO p (id, t) VALUES (%s, %s)", (i, f"row {i}"))
            if i % 5 == 0:
                conn.rollback()
            else:
                conn.commit()
        cur.execute("SELECT count(*) FROM p WHERE id >= 10")
        # Every 7th run is a duplicate (rolled back), every 5th rolled back.
        expected = sum(1 for i in range(10, 40) if i % 7 != 0 and i % 5 != 0)
        got = cur.fetchone()[0]
        assert got == expected, (got, expected)

        # Errors carry their SQLSTATE classes.
        for sql, exc in [
            ("SELECT * FROM missing_table", errors.UndefinedTable),
            ("SELECT nope FROM p", errors.UndefinedColumn),
            ("SELECT 1/0", errors.DivisionByZero),
            ("INSERT INTO p (id) VALUES (NULL)", errors.NotNullViolation),
        ]:
            try:
                cur.execute(sql)
                raise AssertionError(f"{sql} succeeded")
            except exc:
                conn.rollback()

        # generate_series with bound parameters (cast, as PostgreSQL needs
        # for psycopg's small ints) comes back as integers, in order.
        cur.execute("SELECT g FROM generate_series(%s::int, %s::int, %s::int) AS g", (2, 11, 3))
        assert cur.fetchall() == [(2,), (5,), (8,), (11,)]
        cur.execute("SELECT count(*) FROM generate_series(1, %s::int) AS g", (1000,))
        assert cur.fetchone() == (1000,)
        conn.rollback()

        # JSON operators with bound keys and documents: `->` gives a parsed
        # document, `->>` text, `@>` / `?` booleans, through the extended
        # protocol and again once psycopg has prepared the statements.
        cur.execute("CREATE TABLE docs (id INT PRIMARY KEY, doc JSONB, raw JSON)")
        cur.execute(
            "INSERT INTO docs VALUES (%s, %s, %s), (%s, %s, %s)",
            (1, Jsonb({"name": "ann", "tags": ["a", "b"], "n": 1.50}), Json({"k": [1, 2]}),
             2, Jsonb({"name": "bob"}), None),
        )
        conn.commit()
        for _ in range(7):
            cur.execute("SELECT id, doc -> %s, doc ->> %s, raw -> %s ->> %s FROM docs ORDER BY id",
                        ("tags", "name", "k", 1))
            assert cur.fetchall() == [(1, ["a", "b"], "ann", "2"), (2, None, "bob", None)]
            cur.execute("SELECT id FROM docs WHERE doc @> %s ORDER BY id", (Jsonb({"tags": ["b"]}),))
            assert cur.fetchall() == [(1,)]
            cur.execute("SELECT id, doc ? %s, (doc ->> 'n')::numeric FROM docs ORDER BY id", ("tags",))
            assert cur.fetchall() == [(1, True, decimal.Decimal("1.50")), (2, False, None)]
        cur.execute("UPDATE docs SET raw = %s WHERE doc ->> 'name' = %s", (Json([3]), "bob"))
        assert cur.rowcount == 1, cur.rowcount
        cur.execute("SELECT raw -> 0, jsonb_typeof(doc -> 'tags') FROM docs WHERE id = 2")
        assert cur.fetchone() == (3, None)
        conn.commit()

        # UPDATE / DELETE … RETURNING report their own command tags, and
        # assignment casts round as PostgreSQL's do.
        cur.execute("UPDATE p SET s = %s, b = s WHERE id = 1 RETURNING id, b", (7,))
        assert cur.fetchall() == [(1, -32768)], "returning old values of other columns"
        assert cur.statusmessage == "UPDATE 1", cur.statusmessage
        cur.execute("UPDATE p SET s = f * 1e300 + 2.5 WHERE id = %s RETURNING s", (1,))
        assert cur.fetchall() == [(4,)]
        assert cur.statusmessage == "UPDATE 1", cur.statusmessage
        cur.execute("DELETE FROM p WHERE id = %s RETURNING id", (2,))
        assert cur.fetchall() == [(2,)]
        assert cur.statusmessage == "DELETE 1", cur.statusmessage
        conn.commit()

        # Parameters keep the type psycopg sends them with, as PostgreSQL
        # keeps a declared type: a float or Decimal compared with an integer
        # column, an int wider than a smallint column, a list for
        # `= ANY(%s)`; a float assigned to an integer column rounds.
        cur.execute("CREATE TABLE pw (id INT PRIMARY KEY, s SMALLINT, n NUMERIC(8,2), t TEXT)")
        cur.execute("INSERT INTO pw VALUES (1, 3, 2.50, 'x'), (2, -7, 7, 'y')")
        conn.commit()
        for _ in range(7):
            checks = [
                ("SELECT id FROM pw WHERE s < %s ORDER BY id", (40000,), [(1,), (2,)]),
                ("SELECT id FROM pw WHERE id = %s", (2.0,), [(2,)]),
                ("SELECT id FROM pw WHERE id < %s ORDER BY id", (1.5,), [(1,)]),
                ("SELECT id FROM pw WHERE n = %s", (decimal.Decimal("2.5"),), [(1,)]),
                ("SELECT id FROM pw WHERE id IN (%s, %s) ORDER BY id", (1, 2.0), [(1,), (2,)]),
                ("SELECT id FROM pw WHERE id = ANY(%s) ORDER BY id", ([1, 2],), [(1,), (2,)]),
                ("SELECT id FROM pw WHERE t = ANY(%s) ORDER BY id", (["x", "q"],), [(1,)]),
            ]
            for sql, args, want in checks:
                cur.execute(sql, args)
                got = cur.fetchall()
                assert got == want, (sql, args, got)
        cur.execute("UPDATE pw SET s = %s WHERE id = 2 RETURNING s", (2.6,))
        assert cur.fetchall() == [(3,)]
        conn.commit()

        # DROP outside a transaction block (refused inside one).
        conn.autocommit = True
        cur.execute("DROP TABLE p")
        cur.execute("DROP TABLE docs")
        cur.execute("DROP TABLE pw")


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:
        import traceback

        traceback.print_exc()
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print("ok")
