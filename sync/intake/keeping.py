"""How intake keeps what arrives: the body parsed or refused, each row inserted once.

The webhook inbox and the signal events share it: a redelivered event (same dedupe key) adds
no row, and where the table counts deliveries, bumps that count instead.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def parse_json(body: bytes, error: type[Exception]) -> Any:
    """The body as JSON, or ``error`` with a plain message (never a 500 on nesting or bytes)."""
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise error("the JSON body is nested too deeply") from exc
    except ValueError as exc:
        raise error(f"body is not valid JSON: {exc}") from exc


def insert_once(
    session: Session, model: Any, rows: list[dict[str, Any]], count: str | None = None
) -> int:
    """Insert the rows whose ``dedupe_key`` is unknown; returns how many were new.

    With ``count`` (a column name), a known row's count grows by the new row's instead.
    """
    rows = _collapse(rows, count)
    if not rows:
        return 0
    keys = [row["dedupe_key"] for row in rows]
    known = set(session.scalars(select(model.dedupe_key).where(model.dedupe_key.in_(keys))))
    statement = _insert(session.get_bind().dialect.name, model.__table__, count)
    # One executemany of a cached single-row statement: a 100-row VALUES would be compiled
    # afresh for every batch size, which costs more than the insert itself.
    session.connection().execute(statement, rows)
    return len(rows) - len(known)


def _collapse(rows: list[dict[str, Any]], count: str | None) -> list[dict[str, Any]]:
    """One row per dedupe key: a batch may carry the same event twice."""
    by_key: dict[str, dict[str, Any]] = {}
    for row in rows:
        first = by_key.setdefault(row["dedupe_key"], row)
        if count and first is not row:
            first[count] += row[count]
    return list(by_key.values())


@cache
def _insert(dialect: str, table: Table, count: str | None) -> Any:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, or DO UPDATE count += excluded count."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    if count is None:
        return statement.on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
    return statement.on_conflict_do_update(
        index_elements=[table.c.dedupe_key],
        set_={count: table.c[count] + statement.excluded[count]},
    )
