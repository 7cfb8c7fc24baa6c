"""Reminders to task owners and escalations of late tasks: one Slack digest per person per pass.

Rules (mappings/reminders.yaml): an owner hears of an open task on the last working day before
it is due, on the day, and while it is overdue; only on their working days between send_at and
quiet_from in their own time zone, so what falls in their night or weekend waits for their
next working morning. A task overdue by a level's business days reaches that level's person
(the owner's manager, or a fixed address) and, where configured, the customer's channel: once
per task, level and due date.

Every line (task, kind, day) is written "sending" with the marker of the message that will
carry it before that message is posted, and "sent" after. A line found "sending" by a later
pass may have reached Slack before the process died: its message is looked for by the marker
first, so each line is delivered exactly once.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, update

from connectors.errors import ConnectorError, Permanent
from sync.lifecycle.reasons import PAUSED
from sync.mappings import ReminderRules
from sync.onboarding.calendar import WorkingCalendar
from sync.onboarding.steps import SLACK_CHANNEL
from sync.onboarding.templating import hubspot_deal_url
from sync.progress.compute import DONE
from sync.services import Services
from sync.store.ledger import current_ids
from sync.store.models import (
    DirectChannel,
    Onboarding,
    OnboardingTask,
    Reminder,
    utcnow,
)

log = logging.getLogger(__name__)

CHANNEL = "#channel"  # the recipient of a channel line until its channel is looked up
SECTIONS = {
    "escalation": "Escalated to you",
    "overdue": "Overdue",
    "due": "Due today",
    "before": "Due next working day",
}
MAX_LINES = 40  # a digest lists the most urgent lines and counts the rest (Slack caps a message)
ONE_DAY = timedelta(days=1)
Key = tuple[int, str, date]  # (task id, kind, day): a line is sent once per key


@dataclass(frozen=True)
class OpenTask:
    """What a reminder needs of one open task and its onboarding (one query reads them all)."""

    id: int
    key: str
    title: str
    due: date
    owner: str
    notion_page_id: str | None
    onboarding_id: int
    deal_id: str
    company: str
    playbook: str | None
    portal_id: str | None


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


@dataclass
class Pass:
    """What one pass sent."""

    digests: int = 0
    lines: int = 0
    channel_posts: int = 0
    undeliverable: int = 0


class WorkingHours:
    """The rules' working hours, seen from each person's own time zone, on the one calendar."""

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


def reminder_tick(services: Services, now: datetime | None = None) -> Pass:
    """One pass over every live onboarding: each person with something to hear gets one digest."""
    now = now or services.now()
    rules = services.mappings.reminders
    calendar = WorkingHours(rules, services.settings.tz, services.calendar)
    tasks = _open_tasks(services, now)
    recorded = _recorded(services, now)
    lines = [
        line
        for task in tasks
        for line in _lines(task, rules, calendar, now)
        if recorded.get(line.key, (None, "sending"))[1] == "sending"
        and calendar.awake(line.hearer, now)
    ]
    rooms = _customer_channels(services, {x.task.onboarding_id for x in lines if x.to_channel})
    lines = [line for line in lines if not line.to_channel or line.task.onboarding_id in rooms]
    pending = {line.key: recorded[line.key][0] for line in lines if line.key in recorded}
    markers = _claim(services, [line for line in lines if line.key not in pending])
    result = Pass()
    people: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        if not line.to_channel:
            people[line.recipient].append(line)
    channels = _direct_channels(services, people)
    for email, mine in people.items():
        today = calendar.local(email, now).date()
        marker = markers.get(email) or _new_marker()
        _send_digest(services, email, mine, today, channels, pending, marker, result)
    for line in lines:
        if line.to_channel:
            room = rooms[line.task.onboarding_id]
            _post_to_channel(services, line, room, line.key in pending, result)
    return result


def _live_tasks() -> list:
    """Open tasks with an owner, of onboardings that still run."""
    return [
        Onboarding.status.not_in(PAUSED),
        Onboarding.ended_at.is_(None),
        Onboarding.completed_on.is_(None),
        OnboardingTask.status != DONE,
        OnboardingTask.archived.is_(False),
        OnboardingTask.owner_email.is_not(None),
    ]


def _open_tasks(services: Services, now: datetime) -> list[OpenTask]:
    """Every open task that is due soon or late, with its onboarding's fields, in one query."""
    customer_roles = [key for key, role in services.mappings.roles.items() if role.customer]
    horizon = (now + ONE_DAY).date() + timedelta(days=8)  # "next working day" over a week off
    query = (
        select(
            OnboardingTask.id,
            OnboardingTask.key,
            OnboardingTask.title,
            OnboardingTask.due_date,
            OnboardingTask.owner_email,
            OnboardingTask.notion_page_id,
            Onboarding.id,
            Onboarding.deal_id,
            Onboarding.company_name,
            Onboarding.playbook,
            Onboarding.context["portal_id"].as_string(),
        )
        .join(Onboarding, OnboardingTask.onboarding_id == Onboarding.id)
        .where(
            *_live_tasks(),
            OnboardingTask.owner_role.not_in(customer_roles),
            OnboardingTask.due_date <= horizon,
        )
    )
    with services.store.session() as session:
        rows = session.execute(query).all()
    return [
        OpenTask(id, key, title, due, owner.lower(), page, ob, deal, company or "", pb, portal)
        for id, key, title, due, owner, page, ob, deal, company, pb, portal in rows
    ]


def _recorded(services: Services, now: datetime) -> dict[Key, tuple[int, str]]:
    """(row id, status) of the lines already written for live tasks that can still be wanted:
    today's reminders (in any time zone) and those keyed by the due date (escalations)."""
    earliest = (now - ONE_DAY).date()
    query = (
        select(Reminder.id, Reminder.task_id, Reminder.kind, Reminder.day, Reminder.status)
        .join(OnboardingTask, Reminder.task_id == OnboardingTask.id)
        .join(Onboarding, OnboardingTask.onboarding_id == Onboarding.id)
        .where(
            *_live_tasks(), or_(Reminder.day >= earliest, Reminder.day == OnboardingTask.due_date)
        )
    )
    with services.store.session() as session:
        rows = session.execute(query)
        return {(task, kind, day): (id, status) for id, task, kind, day, status in rows}


def _lines(
    task: OpenTask, rules: ReminderRules, calendar: WorkingHours, now: datetime
) -> Iterator[Line]:
    """What the task's owner, its escalation people and its channel should hear of it today."""
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


def _claim(services: Services, lines: Sequence[Line]) -> dict[str, str]:
    """Write new lines as "sending" before anything is posted; returns each person's marker."""
    markers: dict[str, str] = {}
    rows = [
        {
            "task_id": line.task.id,
            "kind": line.kind,
            "day": line.day,
            "recipient": line.recipient,
            "status": "sending",
            "marker": _channel_marker(line)
            if line.to_channel
            else markers.setdefault(line.recipient, _new_marker()),
        }
        for line in lines
    ]
    if rows:
        with services.store.session() as session:
            session.execute(insert(Reminder), rows)
    return markers


def _new_marker() -> str:
    return f"reminders:{uuid.uuid4().hex}"


def _channel_marker(line: Line) -> str:
    return f"escalation:{line.task.id}:{line.kind}:{line.day.isoformat()}"


def _direct_channels(services: Services, people: Iterable[str]) -> dict[str, str]:
    """The DM channels already known, in one query."""
    with services.store.session() as session:
        found = session.execute(
            select(DirectChannel.email, DirectChannel.channel_id).where(
                DirectChannel.email.in_(list(people))
            )
        )
        return dict(found.all())


def _dm(services: Services, email: str, channels: dict[str, str]) -> str | None:
    """The person's DM channel: remembered, else looked up once and remembered."""
    if email in channels:
        return channels[email]
    channel = services.slack.dm(email)
    if channel is not None:
        with services.store.session() as session:
            session.merge(DirectChannel(email=email, channel_id=channel))
        channels[email] = channel
    return channel


def _send_digest(
    services: Services,
    email: str,
    lines: list[Line],
    today: date,
    channels: dict[str, str],
    pending: dict[Key, int],
    marker: str,
    result: Pass,
) -> None:
    """One message with every line for this person; lines a dead pass may have posted are
    looked for first. A failure leaves the lines "sending" for the next pass."""
    try:
        channel = _dm(services, email, channels)
        if channel is not None:
            lines = _not_yet_posted(services, channel, lines, pending)
        if not lines:
            return
        _remark(services, [pending[line.key] for line in lines if line.key in pending], marker)
        if channel is None:
            log.warning("reminders: no Slack user for %s; %d lines dropped", email, len(lines))
            _settle(services, [marker], "undeliverable")
            result.undeliverable += len(lines)
            return
        services.slack.post_once(channel, digest_text(services, lines, today), marker, False)
    except ConnectorError as exc:
        log.warning("reminders: digest for %s not sent: %s", email, exc)
        if isinstance(exc, Permanent):
            _forget_channel(services, email)
        return
    _settle(services, [marker], "sent")
    result.digests += 1
    result.lines += len(lines)


def _not_yet_posted(
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
    _settle(services, posted, "sent")
    return [line for line in lines if earlier.get(pending.get(line.key, -1)) not in posted]


def _remark(services: Services, row_ids: list[int], marker: str) -> None:
    """Lines retried from a dead pass travel in this pass's message."""
    if row_ids:
        with services.store.session() as session:
            session.execute(update(Reminder).where(Reminder.id.in_(row_ids)).values(marker=marker))


def _settle(services: Services, markers: Iterable[str], status: str) -> None:
    """Close the lines carried by these messages: sent, or undeliverable."""
    markers = list(markers)
    if markers:
        with services.store.session() as session:
            session.execute(
                update(Reminder)
                .where(Reminder.marker.in_(markers), Reminder.status == "sending")
                .values(status=status, sent_at=utcnow())
            )


def _forget_channel(services: Services, email: str) -> None:
    """A refused DM channel (a deactivated person) is looked up afresh next time."""
    with services.store.session() as session:
        row = session.get(DirectChannel, email)
        if row is not None:
            session.delete(row)


def _customer_channels(services: Services, onboarding_ids: set[int]) -> dict[int, str]:
    """Each onboarding's current channel (the newest repair generation), in one query."""
    return current_ids(services.store, onboarding_ids, SLACK_CHANNEL)


def _post_to_channel(
    services: Services, line: Line, channel: str, recovering: bool, result: Pass
) -> None:
    """The customer's current channel hears of an escalated task, once per level."""
    marker = _channel_marker(line)
    try:
        services.slack.post_once(channel, channel_text(services, line), marker, recovering)
    except ConnectorError as exc:
        log.warning("reminders: escalation of task %s not posted: %s", line.task.id, exc)
        if isinstance(exc, Permanent):
            _settle(services, [marker], "undeliverable")
        return
    _settle(services, [marker], "sent")
    result.channel_posts += 1


def digest_text(services: Services, lines: Sequence[Line], today: date) -> str:
    """The digest: a heading per kind of line, most urgent first, the overflow counted."""
    order = list(SECTIONS)
    ranked = sorted(lines, key=lambda x: (order.index(x.section), x.task.due, x.task.company))
    parts = [f"Onboarding tasks for {today:%a %d %b %Y}"]
    section = None
    for line in ranked[:MAX_LINES]:
        if line.section != section:
            section = line.section
            parts.append(f"*{SECTIONS[section]}*")
        parts.append(f"• {_describe(services, line)}")
    if len(ranked) > MAX_LINES:
        parts.append(f"…and {len(ranked) - MAX_LINES} more: see the Notion projects.")
    return "\n".join(parts)


def channel_text(services: Services, line: Line) -> str:
    """The channel's note on an escalated task."""
    return f":warning: Escalated: {_describe(services, line)}"


def _describe(services: Services, line: Line) -> str:
    """One task on one line: its title linked to Notion, the customer, the due date, the deal."""
    task = line.task
    title = _escape(task.title)
    if task.notion_page_id:
        title = f"<{notion_url(task.notion_page_id)}|{title}>"
    text = f"{title} · {_escape(task.company)} · due {task.due:%a %d %b}"
    if line.late:
        text += f" · {line.late} business day{'s' if line.late != 1 else ''} late"
    if line.section in ("escalation", "channel"):
        text += f" · owner {task.owner}"
    deal = hubspot_deal_url(services, task.deal_id, task.portal_id)
    return f"{text} · <{deal}|HubSpot deal>"


def notion_url(page_id: str) -> str:
    """The page's Notion web address."""
    return f"https://www.notion.so/{page_id.replace('-', '')}"


def _escape(text: str) -> str:
    """Slack mrkdwn's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
