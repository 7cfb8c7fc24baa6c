"""Due dates for playbook tasks: a won deal's local date plus calendar or working days."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

ONE_DAY = timedelta(days=1)
SATURDAY = 5


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


def due_date(
    won_at: datetime, offset: DueOffset, tz: ZoneInfo, holidays: Collection[date] = ()
) -> date:
    """The task's due date in the team's time zone, so a late-evening win lands on the right day."""
    if won_at.tzinfo is None or won_at.utcoffset() is None:
        raise ValueError("won_at must be timezone-aware (a naive time has no local date)")
    start = won_at.astimezone(tz).date()
    if offset.days is not None:
        return start + timedelta(days=offset.days)
    return add_business_days(start, offset.business_days or 0, frozenset(holidays))


def add_business_days(start: date, count: int, holidays: Collection[date] = ()) -> date:
    """The count-th working day after start; 0 means start itself, or the next working day."""
    day = start
    for _ in range(count):
        day = _next_working_day(day + ONE_DAY, holidays)
    return _next_working_day(day, holidays)


def _next_working_day(day: date, holidays: Collection[date]) -> date:
    """The first day on or after `day` that is neither a weekend nor a holiday."""
    while day.weekday() >= SATURDAY or day in holidays:
        day += ONE_DAY
    return day


def business_days_between(start: date, end: date, holidays: Collection[date] = ()) -> int:
    """Working days after `start` up to and including `end` (0 when end is not later)."""
    days, count = start, 0
    while days < end:
        days += ONE_DAY
        if days.weekday() < SATURDAY and days not in holidays:
            count += 1
    return count
