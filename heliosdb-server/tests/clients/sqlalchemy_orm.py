"""SQLAlchemy 2 against a running HeliosDB Nano server, as an application
uses it: Core DDL (create_all), the ORM with a relationship, filters,
updates, deletes, rollbacks, savepoints, and inspection of the schema's
tables, columns, primary and foreign keys, unique constraints and indexes.

Usage: sqlalchemy_orm.py URL   (postgresql+psycopg://… or postgresql+psycopg2://…)

Exits 0 when every check passed; otherwise prints the failing check and its
error and exits 1. Each check asserts an exact answer.
"""

import decimal
import sys

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Numeric,
    String,
    create_engine,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "sa_author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "sa_book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    author_id: Mapped[int] = mapped_column(ForeignKey("sa_author.id"))
    author: Mapped[Author] = relationship(back_populates="books")


def main(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)

    insp = inspect(engine)
    tables = sorted(insp.get_table_names())
    assert tables == ["sa_author", "sa_book"], tables
    cols = {c["name"]: c for c in insp.get_columns("sa_book")}
    assert list(cols) == ["id", "title", "price", "author_id"], list(cols)
    assert cols["title"]["nullable"] is False, cols["title"]
    assert str(cols["price"]["type"]) == "NUMERIC(8, 2)", cols["price"]["type"]
    # Keys, constraints and indexes, as PostgreSQL 15 answers for the same
    # schema (its catalog queries unnest pg_index.indkey and array_agg the
    # column names).
    pk = insp.get_pk_constraint("sa_book")
    assert pk == {
        "constrained_columns": ["id"],
        "name": "sa_book_pkey",
        "comment": None,
        "dialect_options": {"postgresql_include": []},
    }, pk
    pk = insp.get_pk_constraint("sa_author")
    assert pk["constrained_columns"] == ["id"] and pk["name"] == "sa_author_pkey", pk
    fks = insp.get_foreign_keys("sa_book")
    assert fks == [
        {
            "name": "sa_book_author_id_fkey",
            "constrained_columns": ["author_id"],
            "referred_schema": None,
            "referred_table": "sa_author",
            "referred_columns": ["id"],
            "options": {},
            "comment": None,
        }
    ], fks
    assert insp.get_foreign_keys("sa_author") == []
    uqs = insp.get_unique_constraints("sa_author")
    assert uqs == [
        {
            "column_names": ["name"],
            "name": "sa_author_name_key",
            "comment": None,
            "dialect_options": {
                "postgresql_include": [],
                "postgresql_nulls_not_distinct": False,
            },
        }
    ], uqs
    assert insp.get_unique_constraints("sa_book") == []
    ixs = insp.get_indexes("sa_author")
    assert ixs == [
        {
            "name": "sa_author_name_key",
            "unique": True,
            "column_names": ["name"],
            "duplicates_constraint": "sa_author_name_key",
            "dialect_options": {"postgresql_include": []},
        }
    ], ixs
    assert insp.get_indexes("sa_book") == []

    with Session(engine) as s:
        ann = Author(name="ann")
        bob = Author(name="bob")
        ann.books = [
            Book(title="Keys", price=decimal.Decimal("19.99")),
            Book(title="Ciphers", price=decimal.Decimal("5.50")),
        ]
        bob.books = [Book(title="Blocks", price=decimal.Decimal("12.00"))]
        s.add_all([ann, bob])
        s.commit()
        assert ann.id is not None and bob.id is not None and ann.id != bob.id

    with Session(engine) as s:
        ann = s.scalars(select(Author).where(Author.name == "ann")).one()
        assert [b.title for b in ann.books] == ["Keys", "Ciphers"], [b.title for b in ann.books]
        cheap = s.scalars(
            select(Book).where(Book.price < decimal.Decimal("15")).order_by(Book.title)
        ).all()
        assert [b.title for b in cheap] == ["Blocks", "Ciphers"], [b.title for b in cheap]
        assert cheap[1].author.name == "ann"
        total = s.scalar(select(func.sum(Book.price)))
        assert total == decimal.Decimal("37.49"), total
        counts = s.execute(
            select(Author.name, func.count(Book.id))
            .join(Book)
            .group_by(Author.name)
            .order_by(Author.name)
        ).all()
        assert [tuple(r) for r in counts] == [("ann", 2), ("bob", 1)], counts
        like = s.scalars(select(Book.title).where(Book.title.ilike("%c%")).order_by(Book.id)).all()
        assert like == ["Ciphers", "Blocks"], like

        # Update through the unit of work, then read back in a new session.
        ann.books[0].price = decimal.Decimal("21.00")
        s.commit()
    with Session(engine) as s:
        price = s.scalar(select(Book.price).where(Book.title == "Keys"))
        assert price == decimal.Decimal("21.00"), price

    # A duplicate UNIQUE value: IntegrityError, and the session rolls back.
    with Session(engine) as s:
        s.add(Author(name="ann"))
        try:
            s.commit()
            raise AssertionError("duplicate author name committed")
        except IntegrityError:
            s.rollback()
        assert s.scalar(select(func.count()).select_from(Author)) == 2

    # A savepoint (begin_nested) rolled back keeps the outer work.
    with Session(engine) as s:
        s.add(Author(name="cid"))
        s.flush()
        nested = s.begin_nested()
        s.add(Author(name="dee"))
        s.flush()
        nested.rollback()
        s.commit()
    with Session(engine) as s:
        names = s.scalars(select(Author.name).order_by(Author.name)).all()
        assert names == ["ann", "bob", "cid"], names

    # Delete through the ORM; raw SQL through Core with bound parameters.
    with Session(engine) as s:
        blocks = s.scalars(select(Book).where(Book.title == "Blocks")).one()
        s.delete(blocks)
        s.commit()
    with engine.begin() as conn:
        n = conn.execute(text("SELECT count(*) FROM sa_book WHERE price > :p"), {"p": 1}).scalar()
        assert n == 2, n

    # Server-side cursors: stream_results / yield_per fetch through a
    # DECLAREd cursor (psycopg2's named cursor, psycopg 3's ServerCursor)
    # in batches instead of reading the whole result at once.
    with engine.connect() as conn:
        conn.execute(insert(Author), [{"name": f"bulk{i}"} for i in range(1, 251)])
        conn.commit()
        result = conn.execution_options(stream_results=True, max_row_buffer=40).execute(
            select(Author.id, Author.name).where(Author.name.like("bulk%")).order_by(Author.id)
        )
        seen = [r.name for r in result]
        assert seen == [f"bulk{i}" for i in range(1, 251)], seen[:5]
        conn.commit()
    with Session(engine) as s:
        batches = s.execute(
            select(Author).where(Author.name.like("bulk%")).order_by(Author.id).execution_options(yield_per=100)
        )
        sizes = [len(p) for p in batches.partitions()]
        assert sizes == [100, 100, 50], sizes

    # An upsert with RETURNING (the PostgreSQL dialect's on_conflict_do_update):
    # one row updated, one inserted, each returned with an expression.
    with engine.begin() as conn:
        up = pg_insert(Author).values([{"name": "ann"}, {"name": "eve"}])
        up = up.on_conflict_do_update(index_elements=[Author.name], set_={"name": up.excluded.name})
        got = conn.execute(up.returning(Author.name, func.upper(Author.name))).all()
        assert [tuple(r) for r in got] == [("ann", "ANN"), ("eve", "EVE")], got
        skipped = pg_insert(Author).values(name="eve").on_conflict_do_nothing().returning(Author.id)
        assert conn.execute(skipped).all() == []

    # JSON and JSONB columns through SQLAlchemy's operators: `col["k"]`
    # (->), `.astext` (->>), paths (#>), `.contains` (@>), `.has_key` (?).
    docs = Table(
        "sa_doc",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("doc", JSONB),
        Column("attrs", JSON),
    )
    docs.create(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(docs),
            [
                {"id": 1, "doc": {"name": "ann", "tags": ["a", "b"]}, "attrs": {"k": [1, 2]}},
                {"id": 2, "doc": {"name": "bob", "age": 41}, "attrs": {"k": []}},
            ],
        )
        q = select(docs.c.id).where(docs.c.doc["name"].astext == "bob")
        assert conn.execute(q).all() == [(2,)]
        q = select(docs.c.id).where(docs.c.doc.contains({"tags": ["b"]}))
        assert conn.execute(q).all() == [(1,)]
        q = select(docs.c.id, docs.c.doc.has_key("age")).order_by(docs.c.id)
        assert conn.execute(q).all() == [(1, False), (2, True)]
        q = select(docs.c.doc["tags"], docs.c.attrs["k"][1].as_integer()).order_by(docs.c.id)
        assert conn.execute(q).all() == [(["a", "b"], 2), (None, None)]
        q = select(docs.c.doc[("tags", "0")].astext).where(docs.c.id == 1)
        assert conn.scalar(q) == "a"
    docs.drop(engine)

    # A read-only connection (psycopg2: SET SESSION CHARACTERISTICS … READ
    # ONLY; psycopg 3: BEGIN READ ONLY) reads, and its writes fail with 25006.
    with engine.connect().execution_options(postgresql_readonly=True) as conn:
        assert conn.scalar(select(func.count()).select_from(Author)) > 0
        try:
            conn.execute(insert(Author).values(name="ro"))
            raise AssertionError("a read-only transaction wrote")
        except DBAPIError as e:
            code = getattr(e.orig, "sqlstate", None) or getattr(e.orig, "pgcode", None)
            assert code == "25006", (code, e)
        conn.rollback()
    with Session(engine) as s:
        s.add(Author(name="rw"))
        s.commit()

    # DROP TABLE is transactional: rolled back, every table stays with its
    # rows; committed, they are gone.
    tables = sorted(inspect(engine).get_table_names())
    assert tables, tables
    with engine.connect() as conn:
        trans = conn.begin()
        Base.metadata.drop_all(conn)
        assert inspect(conn).get_table_names() == []
        trans.rollback()
    assert sorted(inspect(engine).get_table_names()) == tables
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Author)) > 0
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # the test prints this and fails
        import traceback

        traceback.print_exc()
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print("ok")
