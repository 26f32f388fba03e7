"""Alembic environment: runs on the engine handed over by ``storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from clearinghouse.features import metadata as schema

metadata = schema()  # every feature's models, from the one features list

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):  # pragma: no cover - only via storage.migrate
    raise RuntimeError("run migrations through clearinghouse.storage.migrate or `clearinghouse init`")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # procrastinate owns its tables (created by `clearinghouse init` on PostgreSQL).
    return not (type_ == "table" and name is not None and name.startswith("procrastinate"))


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
