"""inbox, jobs, onboardings, tasks, ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-26 23:51:45.803475
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index(op.f("ix_inbox_events_object_id"), "inbox_events", ["object_id"], unique=False)
    op.create_index(op.f("ix_inbox_events_status"), "inbox_events", ["status"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "key"),
    )
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"], unique=False)
    op.create_table(
        "onboardings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("company_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("playbook", sa.String(length=64), nullable=True),
        sa.Column("mappings_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("won_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deal_id"),
    )
    op.create_table(
        "ledger_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["onboarding_id"],
            ["onboardings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", "name"),
    )
    op.create_index(
        op.f("ix_ledger_steps_onboarding_id"), "ledger_steps", ["onboarding_id"], unique=False
    )
    op.create_table(
        "onboarding_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("onboarding_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=False),
        sa.Column("owner_role", sa.String(length=64), nullable=False),
        sa.Column("owner_email", sa.String(length=255), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("notion_page_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["onboarding_id"],
            ["onboardings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("onboarding_id", "key"),
    )
    op.create_index(
        op.f("ix_onboarding_tasks_onboarding_id"),
        "onboarding_tasks",
        ["onboarding_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_onboarding_tasks_onboarding_id"), table_name="onboarding_tasks")
    op.drop_table("onboarding_tasks")
    op.drop_index(op.f("ix_ledger_steps_onboarding_id"), table_name="ledger_steps")
    op.drop_table("ledger_steps")
    op.drop_table("onboardings")
    op.drop_index(op.f("ix_jobs_status"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_inbox_events_status"), table_name="inbox_events")
    op.drop_index(op.f("ix_inbox_events_object_id"), table_name="inbox_events")
    op.drop_table("inbox_events")
