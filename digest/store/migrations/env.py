"""Alembic environment: runs on the engine digest hands over (see store.db.alembic_config)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from digest.store import tables  # noqa: F401  (registers the tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render SQLModel's string type as plain sa.String so migrations need no sqlmodel."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def run_migrations_online() -> None:
    """Run the migrations on the engine passed in config.attributes."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations through digest.store.db.migrate(engine)")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
