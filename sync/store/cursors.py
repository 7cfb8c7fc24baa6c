"""Named cursors of incremental syncs, kept in the store."""

from __future__ import annotations

from sync.store.db import Store
from sync.store.models import SyncCursor


def read_cursor(store: Store, name: str) -> str | None:
    with store.session() as session:
        row = session.get(SyncCursor, name)
        return row.value if row else None


def save_cursor(store: Store, name: str, value: str) -> None:
    """Move the cursor; call only once what it covers has been applied."""
    with store.session() as session:
        row = session.get(SyncCursor, name)
        if row is None:
            session.add(SyncCursor(name=name, value=value))
        else:
            row.value = value
