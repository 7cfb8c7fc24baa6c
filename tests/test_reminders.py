"""Task owners hear of their tasks once a day in their own working hours; late tasks escalate
once per level; nothing is said twice, nor after a task is done or its onboarding ended."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from sandbox import Sandbox
from sandbox.scenarios import CSM_EMAIL, seed_customer
from sync.jobs.worker import run_until_idle
from sync.mappings import MappingError, load_mappings
from sync.reminders.send import reminder_tick
from sync.store.models import DirectChannel, Onboarding, OnboardingTask, Reminder
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


@contextmanager
def reminders_world(tmp_path, rules: str = RULES):
    """The app with these reminder rules, and the people they name in Slack."""
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    (mappings / "reminders.yaml").write_text(rules)
    with Sandbox(rate_scale=FAST) as box:
        world = make_world(box, tmp_path, rate_scale=FAST, mappings_dir=str(mappings))
        for email in (MANAGER, HEAD, SPECIALIST, ENGINEER):
            box.slack.seed_user(email=email, real_name=email.split("@")[0])
        yield world


@pytest.fixture
def world(tmp_path):
    with reminders_world(tmp_path) as world:
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


def digests_to(world, email):
    with world.services.store.session() as session:
        channel = session.get(DirectChannel, email.lower())
    return world.box.slack.messages(channel.channel_id) if channel else []


def test_a_cancelled_or_on_hold_onboarding_hears_nothing_more(world):
    onboarding_id, _ = start_onboarding(world)
    second_id, _ = start_onboarding(world, name="Beta Foods")
    with world.services.store.session() as session:
        session.execute(
            update(Onboarding).where(Onboarding.id == onboarding_id).values(status="cancelled")
        )
        session.execute(
            update(Onboarding).where(Onboarding.id == second_id).values(status="on_hold")
        )
    for hour in range(0, 24 * 21, 1):
        assert tick(world, WON + timedelta(hours=hour)).digests == 0
    assert [m for m in world.box.slack.messages() if m["channel"].startswith("D")] == []
    with world.services.store.session() as session:
        assert session.scalars(select(Reminder)).all() == []


TUESDAY = WON + timedelta(days=1)  # 10:00 in Bucharest: the specialist and the engineer hear


def test_a_digest_whose_first_post_fails_is_retried_without_a_duplicate(world):
    start_onboarding(world)
    world.box.slack.faults.add("error", status=503, calls=1, path_contains="chat.postMessage")
    first = tick(world, TUESDAY)
    again = tick(world, TUESDAY + timedelta(minutes=15))
    assert (first.digests, again.digests) == (2, 0)
    assert [len(digests_to(world, who)) for who in (SPECIALIST, ENGINEER)] == [1, 1]


def test_a_pass_killed_after_slack_took_a_digest_sends_each_line_exactly_once(world, tmp_path):
    start_onboarding(world)
    process = [None]

    def kill_after_first_digest(call):
        if "chat.postMessage" in call.path and call.status == 200 and process[0] is not None:
            os.kill(process[0].pid, signal.SIGKILL)  # Slack posted it; the pass never hears back

    world.box.slack.observers.append(kill_after_first_digest)
    config = {**world.app_config, **_notion_ids(world)}
    script = (
        "import json, sys; from datetime import datetime; from app import create_app;"
        "from sync.reminders.send import reminder_tick;"
        "app = create_app(json.loads(sys.argv[1]));"
        "reminder_tick(app.extensions['services'], datetime.fromisoformat(sys.argv[2]))"
    )
    process[0] = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps(config, default=str), TUESDAY.isoformat()],
        cwd=ROOT,
    )
    assert process[0].wait(timeout=60) == -signal.SIGKILL
    world.box.slack.observers.clear()
    with world.services.store.session() as session:
        states = sorted(session.scalars(select(Reminder.status)).all())
    assert states == ["sending"] * 3  # every line written before the first post

    restarted = tick(world, TUESDAY + timedelta(minutes=15))
    assert restarted.digests == 1  # the other one was found in Slack, not sent again
    heard = [digests_to(world, who) for who in (SPECIALIST, ENGINEER)]
    assert [len(messages) for messages in heard] == [1, 1]
    assert "Review the setup form" in heard[0][0]["text"]
    assert "Create portal access" in heard[0][0]["text"]  # Monday's task, now overdue
    assert "Write the configuration requirements" in heard[1][0]["text"]
    with world.services.store.session() as session:
        assert session.scalars(select(Reminder.status)).all() == ["sent"] * 3


def _notion_ids(world):
    settings = world.services.settings
    return {
        "notion_projects_database_id": settings.notion_projects_database_id,
        "notion_tasks_database_id": settings.notion_tasks_database_id,
    }


def write_rules(tmp_path, text):
    mappings = tmp_path / "rules"
    shutil.copytree(ROOT / "mappings", mappings)
    (mappings / "reminders.yaml").write_text(text)
    return mappings


def test_a_playbook_or_task_override_moves_the_first_level_and_the_rest_keep_their_distance(
    tmp_path,
):
    rules = RULES + "  playbooks:\n    enterprise:\n      escalate_after: 3\n"
    rules += "      tasks: {kickoff_meeting: 1}\n"
    escalation = load_mappings(write_rules(tmp_path, rules)).reminders.escalation
    assert escalation.thresholds("mid_market", "kickoff_meeting") == [2, 5]
    assert escalation.thresholds("enterprise", "go_live") == [3, 6]
    assert escalation.thresholds("enterprise", "kickoff_meeting") == [1, 4]


def test_reminder_rules_with_mistakes_are_refused_with_file_line_and_key(tmp_path):
    where = "rules/reminders.yaml"
    rules = RULES.replace('"09:00"', '"9 am"').replace("mon, tue", "mon, tues")
    rules += "    - {after: 4, to: nobody}\n"
    with pytest.raises(MappingError) as caught:
        load_mappings(write_rules(tmp_path, rules))
    assert caught.value.errors == [
        f"{where}:2: send_at: '9 am' is not a time of day (use HH:MM, e.g. 09:00)",
        f"{where}:4: working_days[1]: 'tues' is not one of mon, tue, wed, thu, fri, sat, sun",
        f"{where}:14: escalation.levels[2].to: 'nobody': use manager or an email address",
    ]
    rules = RULES + "  playbooks:\n    enterprize: {escalate_after: 3}\n"
    rules += "    smb: {tasks: {no_such_task: 2}}\n"
    with pytest.raises(MappingError) as caught:
        load_mappings(write_rules(tmp_path / "second", rules))
    assert caught.value.errors == [
        f"{where}:15: escalation.playbooks.enterprize: no playbook 'enterprize'"
        " (have enterprise, mid_market, smb)",
        f"{where}:16: escalation.playbooks.smb.tasks.no_such_task: no task 'no_such_task'"
        " in playbook 'smb'",
    ]
