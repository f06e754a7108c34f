"""Alembic environment: SQLite in batch mode, metadata from fieldapp.models."""

from alembic import context
from sqlalchemy import create_engine, event

from fieldapp.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))

    # pysqlite runs DDL outside any transaction; take transactions over so that a migration
    # interrupted half-way rolls back whole instead of leaving a half-changed schema.
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN")

    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
