"""Quiet-customer signals: activity and email events, each onboarding's health score

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("deal_id", sa.String(length=64), nullable=True),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("person", sa.String(length=255), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    for column in ("kind", "deal_id", "company_id", "domain", "person", "occurred_at"):
        op.create_index(op.f(f"ix_signal_events_{column}"), "signal_events", [column])
    op.add_column("onboardings", sa.Column("health_score", sa.Integer(), nullable=True))
    op.add_column("onboardings", sa.Column("health", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("onboardings", "health")
    op.drop_column("onboardings", "health_score")
    for column in ("kind", "deal_id", "company_id", "domain", "person", "occurred_at"):
        op.drop_index(op.f(f"ix_signal_events_{column}"), table_name="signal_events")
    op.drop_table("signal_events")
