"""Alembic autogenerate against a running server: a schema created from
SQLAlchemy models, compared back with the same models, must produce no
migration; models that differ from the database must produce exactly the
operations that bring it in line (so the comparison can fail).

Usage: alembic_autogen.py URL   (postgresql+psycopg://… or postgresql+psycopg2://…)

Exits 0 when every check passed (the last line printed is "ok"); otherwise
prints the failing check and exits 1. The same script passes against
PostgreSQL 15.
"""

import sys

from alembic.autogenerate import compare_metadata, produce_migrations
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
)


def models(variant: str) -> MetaData:
    """The application's models; `variant` "changed" moves away from the
    database: one column more, one index fewer, a column now nullable, a
    wider VARCHAR."""
    md = MetaData()
    changed = variant == "changed"
    Table(
        "ag_author",
        md,
        Column("id", Integer, primary_key=True),
        Column("name", String(80 if changed else 50), nullable=False, unique=True),
        Column("email", String(120)),
        Column("active", Boolean, nullable=False),
        Column("joined", DateTime),
        *([Column("bio", Text)] if changed else []),
    )
    Table(
        "ag_book",
        md,
        Column("id", BigInteger, primary_key=True),
        Column("title", String(100), nullable=changed),
        Column("price", Numeric(8, 2)),
        Column("published", Date),
        Column("author_id", Integer, ForeignKey("ag_author.id"), nullable=False),
        Column("isbn", String(20)),
        UniqueConstraint("isbn", name="ag_book_isbn_key"),
        *([] if changed else [Index("ix_ag_book_title", "title")]),
    )
    return md


def diff(engine, md: MetaData) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, md)


def drop(engine, md: MetaData) -> None:
    # In a transaction, as Alembic runs DDL on PostgreSQL.
    with engine.begin() as conn:
        md.drop_all(conn)


def main(url: str) -> None:
    engine = create_engine(url)
    same = models("same")
    drop(engine, same)
    same.create_all(engine)
    try:
        d = diff(engine, same)
        assert d == [], f"autogenerate found differences in an unchanged schema: {d}"
        with engine.connect() as conn:
            ops = produce_migrations(MigrationContext.configure(conn), same)
        assert ops.upgrade_ops.is_empty(), ops.upgrade_ops.as_diffs()

        # Models that moved away from the database.
        d = diff(engine, models("changed"))
        kinds = sorted(
            (x[0] if isinstance(x, tuple) else x[0][0]) for x in d
        )
        assert kinds == ["add_column", "modify_nullable", "modify_type", "remove_index"], d
        flat = [x if isinstance(x, tuple) else x[0] for x in d]
        add = next(x for x in flat if x[0] == "add_column")
        assert (add[2], add[3].name) == ("ag_author", "bio"), add
        rm = next(x for x in flat if x[0] == "remove_index")
        assert rm[1].name == "ix_ag_book_title", rm
        nullable = next(x for x in flat if x[0] == "modify_nullable")
        assert nullable[2:4] == ("ag_book", "title") and nullable[5:7] == (False, True), nullable
        typ = next(x for x in flat if x[0] == "modify_type")
        assert typ[2:4] == ("ag_author", "name"), typ
        assert (typ[5].length, typ[6].length) == (50, 80), typ
    finally:
        try:
            drop(engine, same)
        except Exception as e:  # noqa: BLE001 - keep the first failure's report
            print(f"(dropping the tables failed too: {e})")
    print("ok")


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001 - report any failure with its check
        import traceback

        traceback.print_exc()
        print(f"FAILED: {e}")
        sys.exit(1)
