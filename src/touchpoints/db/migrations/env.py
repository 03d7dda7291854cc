"""Alembic environment: runs on the connection `touchpoints db upgrade` hands over."""

from __future__ import annotations

from alembic import context

from touchpoints.db.registry import load_metadata
from touchpoints.feedback.search import include_object

target_metadata = load_metadata()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `touchpoints db upgrade`, which opens the store")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # The full-text index is written by hand in 0002, not described by the models.
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
