"""Alembic environment: every model module under ``lendline.store`` is imported."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context

import lendline.store as store_pkg
from lendline.store.base import Base, make_engine

for mod in pkgutil.iter_modules(store_pkg.__path__):
    if mod.name == "models" or mod.name.startswith("models_"):
        importlib.import_module(f"lendline.store.{mod.name}")

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    connectable = make_engine(url)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations_online()
