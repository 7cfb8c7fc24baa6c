"""The durable records: webhook inbox, jobs, onboardings, their tasks, the side-effect ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend (SQLite forgets the zone; we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class InboxEvent(Base):
    """One webhook event exactly as received, stored before the sender gets its 2xx."""

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str | None] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Job(Base):
    """Durable work: one row per (kind, key), claimed by an UPDATE so two workers never share it."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Onboarding(Base):
    """One customer's onboarding, started by one won deal."""

    __tablename__ = "onboardings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[str | None] = mapped_column(String(64))
    company_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="starting")
    segment: Mapped[str | None] = mapped_column(String(64))
    playbook: Mapped[str | None] = mapped_column(String(64))
    mappings_fingerprint: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    won_at: Mapped[datetime] = mapped_column(UTCDateTime)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Progress, as last computed from the task mirror, and what was last written to HubSpot
    # (so only changed properties are written again).
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    written: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_value_on: Mapped[date | None] = mapped_column(Date)
    go_live_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    # Why and when it stopped early: the deal was lost, deleted, or the customer churned.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    # What the drift check last found missing (a trashed project, an archived channel).
    drift: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The signal pass's verdict (sync/signals/watch.py): 0-100, and the facts behind it.
    health_score: Mapped[int | None] = mapped_column(Integer)
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tasks: Mapped[list[OnboardingTask]] = relationship(
        back_populates="onboarding", order_by="OnboardingTask.position"
    )
    steps: Mapped[list[LedgerStep]] = relationship(
        back_populates="onboarding", order_by="LedgerStep.id"
    )


class OnboardingTask(Base):
    """A task of the onboarding's plan, frozen at kickoff, with the Notion page made for it."""

    __tablename__ = "onboarding_tasks"
    __table_args__ = (UniqueConstraint("onboarding_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboardings.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    phase: Mapped[str] = mapped_column(String(100))
    owner_role: Mapped[str] = mapped_column(String(64))
    owner_email: Mapped[str | None] = mapped_column(String(255))
    due_date: Mapped[date] = mapped_column(Date)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notion_page_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The mirror of the Notion page, kept by the poll: a CSM's edits win over the plan.
    status: Mapped[str] = mapped_column(String(32), default="Not started")
    done_on: Mapped[date | None] = mapped_column(Date)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    added_in_notion: Mapped[bool] = mapped_column(Boolean, default=False)
    notion_edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    onboarding: Mapped[Onboarding] = relationship(back_populates="tasks")


class SyncCursor(Base):
    """Where an incremental poll got to; saved only after the pages it covers are applied."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LedgerStep(Base):
    """One side effect in an external system: written before the call, completed after it."""

    __tablename__ = "ledger_steps"
    __table_args__ = (UniqueConstraint("onboarding_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    onboarding_id: Mapped[int] = mapped_column(ForeignKey("onboardings.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="started")
    external_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    onboarding: Mapped[Onboarding] = relationship(back_populates="steps")


class Reminder(Base):
    """One line of a reminder or escalation, keyed (task, kind, day): written "sending" before
    its digest is posted and "sent" after, so a crash between the two is looked up, not re-sent."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("task_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("onboarding_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # before, due, overdue, escalation.N, channel.N
    day: Mapped[date] = mapped_column(Date)  # the owner's local day; the due date for escalations
    recipient: Mapped[str] = mapped_column(String(255))  # an email, or a channel id
    status: Mapped[str] = mapped_column(String(16), default="sending")  # sent, undeliverable
    marker: Mapped[str] = mapped_column(String(64))  # tags the Slack message that carries it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DirectChannel(Base):
    """The bot's DM channel with a person, kept so a digest costs one Slack call, not three."""

    __tablename__ = "direct_channels"

    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SignalEvent(Base):
    """A product activity or email engagement event, stored before the sender hears 2xx."""

    __tablename__ = "signal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # "api" or "customerio"
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # login, usage, opened, bounced...
    deal_id: Mapped[str | None] = mapped_column(String(64), index=True)
    company_id: Mapped[str | None] = mapped_column(String(64), index=True)
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    person: Mapped[str | None] = mapped_column(String(255), index=True)  # user, email or CIO id
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[str] = mapped_column(Text)
