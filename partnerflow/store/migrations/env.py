"""Alembic environment: runs on the engine handed in by ``store.db.upgrade``."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from partnerflow.store import guards, models  # noqa: F401  (guards: its tables)

config = context.config
engine = config.attributes["engine"]


def _render_item(type_: str, obj: object, autogen_context: object) -> Any:
    """Autogenerate plain DDL types, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
