"""One reminder pass: each person's digest by DM, and escalations posted to customers' channels."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from connectors.errors import ConnectorError, Permanent
from sync.onboarding.steps import SLACK_CHANNEL
from sync.reminders import records
from sync.reminders.digest import channel_text, digest_text
from sync.reminders.rules import Key, Line, WorkingHours, lines_for
from sync.reminders.tasks import open_tasks
from sync.services import Services
from sync.store.ledger import current_ids
from sync.store.models import DirectChannel

log = logging.getLogger(__name__)


@dataclass
class Pass:
    """What one pass sent."""

    digests: int = 0
    lines: int = 0
    channel_posts: int = 0
    undeliverable: int = 0


def reminder_tick(services: Services, now: datetime | None = None) -> Pass:
    """One pass over every live onboarding: each person with something to hear gets one digest.

    Every line is written "sending" with the marker of the message that will carry it before
    that message is posted, and "sent" after. A line found "sending" by a later pass may have
    reached Slack before the process died: its message is looked for by the marker first, so
    each line is delivered exactly once.
    """
    now = now or services.now()
    rules = services.mappings.reminders
    calendar = WorkingHours(rules, services.settings.tz, services.calendar)
    tasks = open_tasks(services, now)
    recorded = records.recorded(services, now)
    lines = [
        line
        for task in tasks
        for line in lines_for(task, rules, calendar, now)
        if recorded.get(line.key, (None, "sending"))[1] == "sending"
        and calendar.awake(line.hearer, now)
    ]
    rooms = _customer_channels(services, {x.task.onboarding_id for x in lines if x.to_channel})
    lines = [line for line in lines if not line.to_channel or line.task.onboarding_id in rooms]
    pending = {line.key: recorded[line.key][0] for line in lines if line.key in recorded}
    markers = records.claim(services, [line for line in lines if line.key not in pending])
    result = Pass()
    people: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        if not line.to_channel:
            people[line.recipient].append(line)
    channels = _direct_channels(services, people)
    for email, mine in people.items():
        today = calendar.local(email, now).date()
        marker = markers.get(email) or records.new_marker()
        _send_digest(services, email, mine, today, channels, pending, marker, result)
    for line in lines:
        if line.to_channel:
            room = rooms[line.task.onboarding_id]
            _post_to_channel(services, line, room, line.key in pending, result)
    return result


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
            lines = records.not_yet_posted(services, channel, lines, pending)
        if not lines:
            return
        retried = [pending[line.key] for line in lines if line.key in pending]
        records.remark(services, retried, marker)
        if channel is None:
            log.warning("reminders: no Slack user for %s; %d lines dropped", email, len(lines))
            records.settle(services, [marker], "undeliverable")
            result.undeliverable += len(lines)
            return
        services.slack.post_once(channel, digest_text(services, lines, today), marker, False)
    except ConnectorError as exc:
        log.warning("reminders: digest for %s not sent: %s", email, exc)
        if isinstance(exc, Permanent):
            _forget_channel(services, email)
        return
    records.settle(services, [marker], "sent")
    result.digests += 1
    result.lines += len(lines)


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
    marker = records.channel_marker(line)
    try:
        services.slack.post_once(channel, channel_text(services, line), marker, recovering)
    except ConnectorError as exc:
        log.warning("reminders: escalation of task %s not posted: %s", line.task.id, exc)
        if isinstance(exc, Permanent):
            records.settle(services, [marker], "undeliverable")
        return
    records.settle(services, [marker], "sent")
    result.channel_posts += 1
