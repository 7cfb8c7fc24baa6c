"""reminders.yaml: when owners hear of their tasks, and who hears when they are late."""

from __future__ import annotations

import itertools
import re
from datetime import date, time
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, field_validator, model_validator

from sync.mappings.base import EMAIL_PATTERN, Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone_name(value: str | None) -> str | None:
    """An IANA time zone name, refused loudly when Python does not know it."""
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            problem = f"unknown timezone {value!r} (an IANA name, e.g. Europe/Bucharest)"
            raise ValueError(problem) from None
    return value


def _clock(value: str) -> str:
    """A local time of day written HH:MM."""
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (use HH:MM, e.g. 09:00)") from None
    return value


class Person(Strict):
    """Someone who owns tasks or hears escalations: where they live and who manages them."""

    timezone: str | None = None
    manager: str | None = Field(default=None, pattern=EMAIL_PATTERN)

    _zone = field_validator("timezone")(_zone_name)


class EscalationLevel(Strict):
    """Who hears of a task overdue by `after` business days; `manager` is the owner's."""

    after: int = Field(ge=1)
    to: str = "manager"
    notify_channel: bool = False

    @field_validator("to")
    @classmethod
    def _manager_or_email(cls, value: str) -> str:
        if value != "manager" and not re.match(EMAIL_PATTERN, value):
            raise ValueError(f"{value!r}: use manager or an email address")
        return value


class PlaybookEscalation(Strict):
    """A playbook's own first escalation day, and single tasks' (business days overdue)."""

    escalate_after: int | None = Field(default=None, ge=1)
    tasks: dict[str, Annotated[int, Field(ge=1)]] = {}


class Escalation(Strict):
    """Levels in order; an override moves the first level and the rest keep their distance."""

    levels: list[EscalationLevel] = [EscalationLevel(after=2, notify_channel=True)]
    playbooks: dict[str, PlaybookEscalation] = {}

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[EscalationLevel]) -> list[EscalationLevel]:
        if any(b.after <= a.after for a, b in itertools.pairwise(levels)):
            raise ValueError("each level's after must be larger than the previous level's")
        return levels

    def thresholds(self, playbook: str | None, task: str) -> list[int]:
        """Business days overdue at which each level fires for this task."""
        if not self.levels:
            return []
        own = self.playbooks.get(playbook or "") or PlaybookEscalation()
        first = own.tasks.get(task) or own.escalate_after or self.levels[0].after
        shift = first - self.levels[0].after
        return [level.after + shift for level in self.levels]


class Holidays(Strict):
    """Days off: a country's public holidays (the holidays package) and/or listed dates."""

    country: str | None = None  # ISO 3166 code, e.g. RO, GB, IL
    subdivision: str | None = None  # a state or region where holidays differ, e.g. GB: SCT
    dates: list[date] = []

    @model_validator(mode="after")
    def _known_country(self) -> Holidays:
        supported = holidays.list_supported_countries()
        if self.country is not None and self.country not in supported:
            raise ValueError(f"unknown holiday country {self.country!r} (an ISO code, e.g. RO)")
        if self.subdivision is not None:
            if self.country is None:
                raise ValueError("a subdivision needs a country")
            if self.subdivision not in supported[self.country]:
                known = ", ".join(supported[self.country]) or "none"
                raise ValueError(f"unknown subdivision {self.subdivision!r} (known: {known})")
        return self


class ReminderRules(Strict):
    """reminders.yaml: when owners hear of their tasks, and who hears when they are late."""

    send_at: str = "09:00"
    quiet_from: str = "18:00"
    working_days: list[Weekday] = Field(default=list(WEEKDAYS[:5]), min_length=1)
    holidays: Holidays = Holidays()
    default_timezone: str | None = None  # None: the TIMEZONE setting
    overdue: Literal["daily", "once"] = "daily"
    people: dict[str, Person] = {}
    escalation: Escalation = Escalation()

    _clocks = field_validator("send_at", "quiet_from")(_clock)
    _zone = field_validator("default_timezone")(_zone_name)

    @model_validator(mode="after")
    def _day_has_hours(self) -> ReminderRules:
        if time.fromisoformat(self.quiet_from) <= time.fromisoformat(self.send_at):
            raise ValueError("quiet_from must be later than send_at")
        return self

    def person(self, email: str) -> Person:
        """The person's settings (keys compare without case); defaults for someone unlisted."""
        return self._by_email.get(email.lower()) or Person()

    @cached_property
    def _by_email(self) -> dict[str, Person]:
        return {email.lower(): person for email, person in self.people.items()}
