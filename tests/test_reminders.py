"""Task owners hear of their tasks once a day in their own working hours; late tasks escalate
once per level; nothing is said twice, nor after a task is done or its onboarding ended."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from sandbox import Sandbox
from sandbox.scenarios import CSM_EMAIL, seed_customer
from sync.models import DirectChannel, Onboarding, OnboardingTask
from sync.reminders import reminder_tick
from sync.worker import run_until_idle
from tests.conftest import FAST, make_world
from tests.test_kickoff import kickoff_done

ROOT = Path(__file__).resolve().parent.parent
MANAGER = "maria.lead@vendor.example"
HEAD = "head-of-cs@example.com"
SPECIALIST = "onboarding@example.com"  # the onboarding_specialist role's fixed address
ENGINEER = "solutions@example.com"
BUCHAREST, NEW_YORK = ZoneInfo("Europe/Bucharest"), ZoneInfo("America/New_York")
ZONES = {CSM_EMAIL: NEW_YORK}  # everyone else: the default zone below
RULES = f"""
send_at: "09:00"
quiet_from: "18:00"
working_days: [mon, tue, wed, thu, fri]
default_timezone: Europe/Bucharest
people:
  {CSM_EMAIL}: {{timezone: America/New_York, manager: {MANAGER}}}
  {SPECIALIST}: {{manager: {MANAGER}}}
  {ENGINEER}: {{manager: {MANAGER}}}
escalation:
  levels:
    - {{after: 2, to: manager, notify_channel: true}}
    - {{after: 5, to: {HEAD}}}
"""
WON = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday morning, after the kickoff's real time
LATE_TASK = "review_setup_form"  # the specialist's, due Wednesday 3 March, left open 8 days
LATE_DONE = datetime(2027, 3, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path):
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    (mappings / "reminders.yaml").write_text(RULES)
    with Sandbox(rate_scale=FAST) as box:
        world = make_world(box, tmp_path, rate_scale=FAST, mappings_dir=str(mappings))
        for email in (MANAGER, HEAD, SPECIALIST, ENGINEER):
            box.slack.seed_user(email=email, real_name=email.split("@")[0])
        yield world


def start_onboarding(world, name="Acme Robotics"):
    """A mid-market customer won on Monday 1 March 2027; its tasks by key."""
    customer = seed_customer(world.box, world.team, name=name, employees=50)
    world.deliver([world.won(customer.deal_id, occurred_at=int(WON.timestamp() * 1000))])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    with world.services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).filter_by(deal_id=customer.deal_id))
        return onboarding.id, {t.key: t for t in onboarding.tasks}


def tick(world, now):
    world.box.clock.set(now)  # Slack stamps messages with the simulated time
    return reminder_tick(world.services, now)


def mark_done(world, task_id, when):
    with world.services.store.session() as session:
        session.execute(
            update(OnboardingTask)
            .where(OnboardingTask.id == task_id)
            .values(status="Done", done_on=when.date())
        )


def received(world, titles):
    """Every DM digest as (email, local time, [(section, task key)])."""
    with world.services.store.session() as session:
        people = {
            c: e for e, c in session.execute(select(DirectChannel.email, DirectChannel.channel_id))
        }
    heard = []
    for message in world.box.slack.messages():
        email = people.get(message["channel"])
        if email is None:
            continue
        at = datetime.fromtimestamp(float(message["ts"]), UTC).astimezone(zone(email))
        lines, section = [], None
        for row in message["text"].splitlines()[1:]:
            if row.startswith("*"):
                section = row.strip("*")
            else:
                title = re.match(r"• <[^|]+\|([^>]+)>", row).group(1)
                lines.append((section, titles[title]))
        heard.append((email, at, sorted(lines)))
    return heard


def zone(email):
    return ZONES.get(email, BUCHAREST)


def weekdays(start: date, end: date):
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def expected_reminders(tasks, done_at, end):
    """The oracle: each owner, each working day, at 09:00 their time, for each open task."""
    want = defaultdict(list)
    for task in tasks.values():
        owner = task.owner_email
        for day in weekdays(WON.astimezone(zone(owner)).date(), end):
            moment = max(
                datetime.combine(day, datetime.min.time().replace(hour=9), zone(owner)), WON
            )
            if done_at[task.key] <= moment:
                continue
            next_day = next(weekdays(day + timedelta(days=1), day + timedelta(days=7)))
            if day < task.due_date <= next_day:
                want[(owner, day)].append(("Due next working day", task.key))
            elif day == task.due_date:
                want[(owner, day)].append(("Due today", task.key))
            elif day > task.due_date:
                want[(owner, day)].append(("Overdue", task.key))
    return {key: sorted(lines) for key, lines in want.items()}


def test_a_ninety_day_onboarding_reminds_each_owner_once_a_working_day_and_escalates_once(world):
    _, tasks = start_onboarding(world)
    # Everyone finishes on the due day at 15:00 UTC (a weekend task on the Monday), but one.
    done_at = {}
    for key, task in tasks.items():
        day = next(weekdays(task.due_date, task.due_date + timedelta(days=3)))
        done_at[key] = datetime.combine(day, datetime.min.time().replace(hour=15), UTC)
    done_at[LATE_TASK] = LATE_DONE
    end = WON + timedelta(days=95)
    now = WON
    while now < end:
        for key, at in done_at.items():
            if at <= now < at + timedelta(hours=1):
                mark_done(world, tasks[key].id, at)
        tick(world, now)
        now += timedelta(hours=1)

    titles = {t.title: t.key for t in tasks.values()}
    heard = received(world, titles)
    for email, at, _ in heard:  # nobody hears at night or on their weekend
        assert at.weekday() < 5 and 9 <= at.hour < 18, (email, at)
    days = [(email, at.date()) for email, at, _ in heard]
    assert len(days) == len(set(days))  # one digest per person per day
    got = {(email, at.date()): lines for email, at, lines in heard}
    escalations = {
        key: got.pop(key) for key in [(MANAGER, date(2027, 3, 5)), (HEAD, date(2027, 3, 10))]
    }
    assert escalations == {
        (MANAGER, date(2027, 3, 5)): [("Escalated to you", LATE_TASK)],
        (HEAD, date(2027, 3, 10)): [("Escalated to you", LATE_TASK)],
    }
    assert got == expected_reminders(tasks, done_at, end.date())
    late_lines = [d for (email, d), lines in got.items() for s, k in lines if k == LATE_TASK]
    assert late_lines[-1] == date(2027, 3, 11) and len(late_lines) == 8  # before, due, 6 overdue
    channel = world.box.slack.channel_by_name("onboarding-acme-robotics")
    notes = [m["text"] for m in world.box.slack.messages(channel["id"]) if "Escalated" in m["text"]]
    assert len(notes) == 1 and "2 business days late" in notes[0]
