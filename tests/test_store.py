"""The database: migrations, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from sync.store.models import InboxEvent


def test_migrations_run_twice_without_harm(store):
    store.upgrade()
    with store.session() as session:
        assert session.scalar(select(InboxEvent).limit(1)) is None
