"""Due dates: the win's local date plus calendar days or working days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sync.onboarding.calendar import DueOffset, WorkingCalendar

MONDAY_TO_FRIDAY = WorkingCalendar()
due_date = MONDAY_TO_FRIDAY.due_date

UTC_ZONE = ZoneInfo("UTC")
FRIDAY_NOON = datetime(2025, 3, 7, 12, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)


def business(count: int) -> DueOffset:
    return DueOffset(business_days=count)


def test_three_business_days_after_a_friday_win_is_wednesday():
    assert due_date(FRIDAY_NOON, business(3), UTC_ZONE) == date(2025, 3, 12)


def test_a_friday_night_utc_win_is_a_saturday_win_in_tokyo():
    late_friday = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)
    assert due_date(late_friday, DueOffset(days=0), ZoneInfo("Asia/Tokyo")) == date(2025, 3, 8)
    assert due_date(late_friday, business(1), ZoneInfo("Asia/Tokyo")) == date(2025, 3, 10)
    assert due_date(late_friday, business(1), UTC_ZONE) == date(2025, 3, 10)
    assert due_date(late_friday, business(2), ZoneInfo("Asia/Tokyo")) == date(2025, 3, 11)


def test_one_business_day_after_a_saturday_win_is_monday():
    assert due_date(SATURDAY_NOON, business(1), UTC_ZONE) == date(2025, 3, 10)


def test_zero_business_days_on_a_weekend_is_the_next_working_day():
    assert due_date(SATURDAY_NOON, business(0), UTC_ZONE) == date(2025, 3, 10)
    assert due_date(FRIDAY_NOON, business(0), UTC_ZONE) == date(2025, 3, 7)


def test_calendar_days_ignore_weekends():
    assert due_date(FRIDAY_NOON, DueOffset(days=1), UTC_ZONE) == date(2025, 3, 8)
    assert due_date(FRIDAY_NOON, DueOffset(days=30), UTC_ZONE) == date(2025, 4, 6)


def test_holidays_are_skipped():
    monday, tuesday = date(2025, 3, 10), date(2025, 3, 11)
    calendar = WorkingCalendar(days_off={monday, tuesday})
    due = calendar.due_date(FRIDAY_NOON, business(1), UTC_ZONE)
    assert due == date(2025, 3, 12)


def test_a_win_on_a_holiday_starts_counting_after_it():
    calendar = WorkingCalendar(days_off={date(2025, 12, 25)})
    assert calendar.add_business_days(date(2025, 12, 25), 0) == date(2025, 12, 26)


def test_ten_business_days_span_two_weekends():
    assert due_date(FRIDAY_NOON, business(10), UTC_ZONE) == date(2025, 3, 21)


def test_naive_win_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        due_date(datetime(2025, 3, 7, 12, 0), business(1), UTC_ZONE)


@pytest.mark.parametrize("given", [{}, {"days": 1, "business_days": 1}, {"days": -1}, {"weeks": 1}])
def test_offset_needs_exactly_one_non_negative_count(given):
    with pytest.raises(ValidationError):
        DueOffset(**given)
