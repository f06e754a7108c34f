"""Alembic environment of the platform database: batch mode for SQLite, one transaction per run."""

from alembic import context
from sqlalchemy import create_engine, event, text

from sync.server.db import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK_KEY = 0x46_41_4D_49_47  # "FAMIG": processes starting together migrate one at a time


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        # pysqlite runs DDL outside any transaction; take transactions over so that a migration
        # interrupted half-way rolls back whole, and take the write lock at once.
        @event.listens_for(engine, "connect")
        def _autocommit_driver(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, transaction_per_migration=False)
        with context.begin_transaction():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            context.run_migrations()
    engine.dispose()


run_migrations_online()
