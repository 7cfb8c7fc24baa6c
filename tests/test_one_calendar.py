"""One calendar: with Sunday-Thursday working days and a public holiday mid-plan, due dates,
progress, reminders and escalation all count the same working days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from sync.progress.writeback import refresh
from sync.store.models import Onboarding, Reminder
from tests.test_reminders import LATE_TASK, RULES, reminders_world, start_onboarding, tick

SUNDAY_TO_THURSDAY = {6, 0, 1, 2, 3}  # date.weekday()


def working(day: date, holidays: set[date]) -> bool:
    """The test's own oracle of the calendar."""
    return day.weekday() in SUNDAY_TO_THURSDAY and day not in holidays


@pytest.fixture
def plan_holiday():
    """A day off that falls right after the late task's due date (4 March 2027 is a Thursday:
    the task is due Wednesday 3 March on a Sunday-Thursday week)."""
    return date(2027, 3, 4)


@pytest.fixture
def world(tmp_path, plan_holiday):
    sunday_to_thursday = "working_days: [sun, mon, tue, wed, thu]"
    rules = RULES.replace("working_days: [mon, tue, wed, thu, fri]", sunday_to_thursday)
    rules += f"holidays:\n  dates: [{plan_holiday.isoformat()}]\n"
    with reminders_world(tmp_path, rules) as world:
        yield world


def test_progress_reminders_and_escalation_count_the_same_working_days(world, plan_holiday):
    holidays = {plan_holiday}
    onboarding_id, tasks = start_onboarding(world)
    with world.services.store.session() as session:
        playbook = world.services.mappings.playbook(session.get(Onboarding, onboarding_id).playbook)
    for planned in playbook.tasks:  # due dates in business days land on working days only
        if planned.due_in.business_days is not None:
            assert working(tasks[planned.key].due_date, holidays), planned.key
    late_task = tasks[LATE_TASK]
    due = late_task.due_date
    days = [due + timedelta(days=n) for n in range(1, 12)]
    days = [day for day in days if working(day, holidays)]
    seen = []
    for day in days:
        expected = late_by(due, day, holidays)
        worst = max(late_by(t.due_date, day, holidays) for t in tasks.values() if t.required)
        tick(world, datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC))  # 09:30 local
        refresh(world.services, [onboarding_id], today=day)
        with world.services.store.session() as session:
            status = session.get(Onboarding, onboarding_id).progress["status"]
            escalated = session.scalar(
                select(Reminder.id).where(
                    Reminder.task_id == late_task.id, Reminder.kind == "escalation.1"
                )
            )
        late = _digest_lateness(world, late_task.title)
        seen.append((day, expected, worst, status, escalated is not None, late))
    threshold = world.services.settings.escalate_after_business_days
    for day, expected, worst, status, escalated, digest_late in seen:
        assert status == ("overdue" if worst > threshold else "at_risk"), day
        assert escalated == (expected >= 2), day  # the first level is after 2 business days
        assert digest_late == expected, day
    naive = [sum(1 for n in range(1, (d - due).days + 1) if (due + timedelta(days=n)).weekday() < 5)
             for d, *_ in seen]  # fmt: skip
    assert naive != [expected for _, expected, *_ in seen]  # Monday-Friday would count otherwise


def late_by(due: date, day: date, holidays: set[date]) -> int:
    """Working days after ``due`` up to and including ``day``."""
    return sum(
        1 for n in range(1, (day - due).days + 1) if working(due + timedelta(days=n), holidays)
    )


def _digest_lateness(world, title: str) -> int | None:
    """The 'N business days late' of the task in the newest message that mentions it."""
    pattern = re.escape(title) + r"[^\n]*· (\d+) business days? late"
    for message in reversed(world.box.slack.messages()):
        if match := re.search(pattern, message["text"]):
            return int(match.group(1))
    return None
