"""Task mirror, progress, cursors: what the progress poll keeps (existing rows get defaults)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:29:31.923760
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.add_column(
        "onboarding_tasks",
        sa.Column("status", sa.String(length=32), nullable=False, server_default="Not started"),
    )
    op.add_column("onboarding_tasks", sa.Column("done_on", sa.Date(), nullable=True))
    op.add_column(
        "onboarding_tasks",
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "onboarding_tasks",
        sa.Column("added_in_notion", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "onboarding_tasks", sa.Column("notion_edited_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        op.f("ix_onboarding_tasks_notion_page_id"),
        "onboarding_tasks",
        ["notion_page_id"],
        unique=False,
    )
    op.add_column(
        "onboardings", sa.Column("progress", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column(
        "onboardings", sa.Column("written", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column("onboardings", sa.Column("first_value_on", sa.Date(), nullable=True))
    op.add_column("onboardings", sa.Column("go_live_on", sa.Date(), nullable=True))
    op.add_column("onboardings", sa.Column("completed_on", sa.Date(), nullable=True))
    op.add_column("onboardings", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("onboardings", sa.Column("end_reason", sa.Text(), nullable=True))
    op.add_column("onboardings", sa.Column("drift", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("onboardings", "drift")
    op.drop_column("onboardings", "end_reason")
    op.drop_column("onboardings", "ended_at")
    op.drop_column("onboardings", "completed_on")
    op.drop_column("onboardings", "go_live_on")
    op.drop_column("onboardings", "first_value_on")
    op.drop_column("onboardings", "written")
    op.drop_column("onboardings", "progress")
    op.drop_index(op.f("ix_onboarding_tasks_notion_page_id"), table_name="onboarding_tasks")
    op.drop_column("onboarding_tasks", "notion_edited_at")
    op.drop_column("onboarding_tasks", "added_in_notion")
    op.drop_column("onboarding_tasks", "archived")
    op.drop_column("onboarding_tasks", "done_on")
    op.drop_column("onboarding_tasks", "status")
    op.drop_table("sync_cursors")
