"""On-hold checks become jobs of their own kind ('hold'), no longer 'end' jobs with reason hold.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JOBS = sa.table("jobs", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                sa.column("payload", sa.JSON))  # fmt: skip


def _move(old: str, new: str) -> None:
    """Queued or finished hold checks keep their key; only their kind changes."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(JOBS.c.id, JOBS.c.payload).where(JOBS.c.kind == old)).all()
    ids = [row.id for row in rows if (row.payload or {}).get("reason") == "hold"]
    if ids:
        bind.execute(sa.update(JOBS).where(JOBS.c.id.in_(ids)).values(kind=new))


def upgrade() -> None:
    _move("end", "hold")


def downgrade() -> None:
    _move("hold", "end")
