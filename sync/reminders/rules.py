"""Who should hear of which open task today, and when they may be messaged (reminders.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sync.mappings import ReminderRules
from sync.onboarding.calendar import WorkingCalendar
from sync.reminders.tasks import ONE_DAY, OpenTask

CHANNEL = "#channel"  # the recipient of a channel line until its channel is looked up
Key = tuple[int, str, date]  # (task id, kind, day): a line is sent once per key


@dataclass(frozen=True)
class Line:
    """One thing one recipient hears about one task: kind is before, due, overdue,
    escalation.N (to a person) or channel.N (to the customer's channel)."""

    task: OpenTask
    kind: str
    day: date
    recipient: str
    late: int

    @property
    def key(self) -> Key:
        return (self.task.id, self.kind, self.day)

    @property
    def section(self) -> str:
        return self.kind.split(".")[0]

    @property
    def to_channel(self) -> bool:
        return self.recipient == CHANNEL

    @property
    def hearer(self) -> str:
        """Whose working hours decide when it goes out (a channel follows the task's owner)."""
        return self.task.owner if self.to_channel else self.recipient


class WorkingHours:
    """The rules' working hours, seen from each person's own time zone, on the one calendar:
    what falls in someone's night or weekend waits for their next working morning."""

    def __init__(self, rules: ReminderRules, default_tz: ZoneInfo, days: WorkingCalendar) -> None:
        self.rules = rules
        self.days = days
        self.start = time.fromisoformat(rules.send_at)
        self.end = time.fromisoformat(rules.quiet_from)
        self.default = ZoneInfo(rules.default_timezone) if rules.default_timezone else default_tz
        self._zones: dict[str, ZoneInfo] = {}

    def local(self, email: str, now: datetime) -> datetime:
        """``now`` on the person's own clock."""
        if email not in self._zones:
            zone = self.rules.person(email).timezone
            self._zones[email] = ZoneInfo(zone) if zone else self.default
        return now.astimezone(self._zones[email])

    def awake(self, email: str, now: datetime) -> bool:
        """Whether the person may be messaged now: a working day, between send_at and quiet_from."""
        local = self.local(email, now)
        return self.working(local.date()) and self.start <= local.time() < self.end

    def working(self, day: date) -> bool:
        return self.days.is_working(day)

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        return self.days.next_working_day(day + ONE_DAY)

    def late(self, due: date, today: date) -> int:
        """Working days after ``due`` up to and including ``today``."""
        return self.days.business_days_between(due, today)


def lines_for(
    task: OpenTask, rules: ReminderRules, calendar: WorkingHours, now: datetime
) -> Iterator[Line]:
    """What the task's owner, its escalation people and its channel should hear of it today.

    The owner hears on the last working day before the due date, on the day, and while it is
    overdue. A task overdue by a level's business days reaches that level's person (the owner's
    manager, or a fixed address) and, where configured, the customer's channel: once per task,
    level and due date, and only the highest level reached.
    """
    today = calendar.local(task.owner, now).date()
    late = calendar.late(task.due, today)
    if calendar.working(today):
        if today < task.due <= calendar.next_working_day(today):
            yield Line(task, "before", today, task.owner, 0)
        elif today == task.due:
            yield Line(task, "due", today, task.owner, 0)
        elif today > task.due:
            day = today if rules.overdue == "daily" else task.due
            yield Line(task, "overdue", day, task.owner, late)
    thresholds = rules.escalation.thresholds(task.playbook, task.key)
    reached = [n for n, after in enumerate(thresholds) if late >= after]
    if not reached:
        return
    level = rules.escalation.levels[reached[-1]]  # only the highest: no burst of old levels
    number = reached[-1] + 1
    to = rules.person(task.owner).manager if level.to == "manager" else level.to
    if to:
        yield Line(task, f"escalation.{number}", task.due, to.lower(), late)
    if level.notify_channel:
        yield Line(task, f"channel.{number}", task.due, CHANNEL, late)
