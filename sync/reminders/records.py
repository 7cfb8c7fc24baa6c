"""The Reminder rows that deliver each line exactly once: claimed before posting, settled after."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from sync.reminders.rules import Key, Line
from sync.reminders.tasks import ONE_DAY, live_tasks
from sync.services import Services
from sync.store.models import Onboarding, OnboardingTask, Reminder, utcnow


def recorded(services: Services, now: datetime) -> dict[Key, tuple[int, str]]:
    """(row id, status) of the lines already written for live tasks that can still be wanted:
    today's reminders (in any time zone) and those keyed by the due date (escalations)."""
    earliest = (now - ONE_DAY).date()
    query = (
        select(Reminder.id, Reminder.task_id, Reminder.kind, Reminder.day, Reminder.status)
        .join(OnboardingTask, Reminder.task_id == OnboardingTask.id)
        .join(Onboarding, OnboardingTask.onboarding_id == Onboarding.id)
        .where(
            *live_tasks(), or_(Reminder.day >= earliest, Reminder.day == OnboardingTask.due_date)
        )
    )
    with services.store.session() as session:
        rows = session.execute(query)
        return {(task, kind, day): (id, status) for id, task, kind, day, status in rows}


def claim(services: Services, lines: Sequence[Line]) -> dict[str, str]:
    """Write new lines as "sending", with the marker of the message that will carry them,
    before anything is posted; returns each person's marker."""
    markers: dict[str, str] = {}
    rows = [
        {
            "task_id": line.task.id,
            "kind": line.kind,
            "day": line.day,
            "recipient": line.recipient,
            "status": "sending",
            "marker": channel_marker(line)
            if line.to_channel
            else markers.setdefault(line.recipient, new_marker()),
        }
        for line in lines
    ]
    if rows:
        with services.store.session() as session:
            session.execute(insert(Reminder), rows)
    return markers


def new_marker() -> str:
    """Tags one digest message, so a later pass can find it in Slack."""
    return f"reminders:{uuid.uuid4().hex}"


def channel_marker(line: Line) -> str:
    """Tags a channel's escalation note: one per task, level and due date."""
    return f"escalation:{line.task.id}:{line.kind}:{line.day.isoformat()}"


def not_yet_posted(
    services: Services, channel: str, lines: list[Line], pending: dict[Key, int]
) -> list[Line]:
    """Drop (and settle) the lines a dead pass posted before it could record them."""
    ids = [pending[line.key] for line in lines if line.key in pending]
    if not ids:
        return lines
    with services.store.session() as session:
        query = select(Reminder.id, Reminder.marker).where(Reminder.id.in_(ids))
        earlier = dict(session.execute(query).all())
    posted = {m for m in set(earlier.values()) if services.slack.find_message(channel, m)}
    settle(services, posted, "sent")
    return [line for line in lines if earlier.get(pending.get(line.key, -1)) not in posted]


def remark(services: Services, row_ids: list[int], marker: str) -> None:
    """Lines retried from a dead pass travel in this pass's message."""
    if row_ids:
        with services.store.session() as session:
            session.execute(update(Reminder).where(Reminder.id.in_(row_ids)).values(marker=marker))


def settle(services: Services, markers: Iterable[str], status: str) -> None:
    """Close the lines carried by these messages: sent, or undeliverable."""
    markers = list(markers)
    if markers:
        with services.store.session() as session:
            session.execute(
                update(Reminder)
                .where(Reminder.marker.in_(markers), Reminder.status == "sending")
                .values(status=status, sent_at=utcnow())
            )
