"""The working calendar: which days count as working days, built once from reminders.yaml
(working days and public holidays) and used by due dates, progress, reminders and escalation,
so a task is exactly as late everywhere."""

from __future__ import annotations

from collections.abc import Collection, Container
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as public_holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

ONE_DAY = timedelta(days=1)
MONDAY_TO_FRIDAY = frozenset(range(5))  # date.weekday(): Monday is 0
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DueOffset(BaseModel):
    """How long after the win a task is due: exactly one of working days or calendar days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_days: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> DueOffset:
        if (self.business_days is None) == (self.days is None):
            raise ValueError("give exactly one of business_days or days")
        return self


class WorkingCalendar:
    """Working weekdays minus days off; the same answer for every part of the engine."""

    def __init__(
        self, weekdays: Collection[int] = MONDAY_TO_FRIDAY, days_off: Container[date] = ()
    ) -> None:
        if not weekdays:
            raise ValueError("a calendar needs at least one working weekday")
        self.weekdays = frozenset(weekdays)
        self.days_off = days_off

    @classmethod
    def from_rules(
        cls, working_days: Collection[str], country: str | None = None,
        subdivision: str | None = None, dates: Collection[date] = (),
    ) -> WorkingCalendar:  # fmt: skip
        """From the mapping's names (mon..sun), a holiday country and listed dates."""
        weekdays = {WEEKDAY_NAMES.index(day) for day in working_days}
        if country is None:
            return cls(weekdays, frozenset(dates))
        days_off = public_holidays.country_holidays(country, subdiv=subdivision)
        days_off.update(dict.fromkeys(dates, "day off"))  # years expand as they are asked for
        return cls(weekdays, days_off)

    def is_working(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.days_off

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        while not self.is_working(day):
            day += ONE_DAY
        return day

    def add_business_days(self, start: date, count: int) -> date:
        """The count-th working day after start; 0 means start itself, or the next working day."""
        day = start
        for _ in range(count):
            day = self.next_working_day(day + ONE_DAY)
        return self.next_working_day(day)

    def business_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end is not later)."""
        return sum(
            1 for n in range(1, (end - start).days + 1) if self.is_working(start + n * ONE_DAY)
        )

    def due_date(self, won_at: datetime, offset: DueOffset, tz: ZoneInfo) -> date:
        """The task's due date in the team's time zone, so a late-evening win lands on the right
        day."""
        if won_at.tzinfo is None or won_at.utcoffset() is None:
            raise ValueError("won_at must be timezone-aware (a naive time has no local date)")
        start = won_at.astimezone(tz).date()
        if offset.days is not None:
            return start + timedelta(days=offset.days)
        return self.add_business_days(start, offset.business_days or 0)
