"""The reminder pass at scale: wall time, database queries and Slack calls per pass.

10,000 running onboardings of 20 tasks (bench/fleet.py), owned in turn by a pool of 50 people,
checked on a working-day morning when each owner has tasks due or late and the oldest are past
the second escalation level (the head of Customer Success hears of them). The first pass also
looks each person up and opens their DM (3 Slack calls a person); later passes reuse the stored
DM channel, so Slack calls equal the people with something to hear. A repeated pass the same
morning sends nothing. Queries are counted with SQLAlchemy's ``before_cursor_execute``:

    .venv/bin/python -m bench.reminders [--onboardings 10000] [--people 50] [--scale 3]

Numbers (the default command: 10,000 onboardings, 50 people, SQLite, --scale 3):

    pass          seconds  queries  slack calls  digests  lines
    first           21.9      158     153 (51 posts)  51    30,000
    same morning     1.1        4       0              0         0
    next day        10.7       55      50 (50 posts)  50    20,000

The 50 owners and the head of Customer Success (escalations) hear in the first pass; the next
day the head has nothing new (escalations go once per level). Queries: 4 per pass plus one per
digest (plus two per person seen for the first time). Wall time is Slack's tiers, not the
database: lookups and conversations.open are tier 3 (50/min), posts tier 4 (100/min), here
scaled by 3 with no 429 answered; the 10,000 onboardings cost ~1 s (the "same morning" pass).
Seeding the fleet took 44 s and is not counted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, update

from app import create_installed_app
from bench.fleet import seed_fleet
from sandbox import Sandbox
from sandbox.scenarios import app_settings, seed_team
from sync.reminders.send import reminder_tick
from sync.services import Services
from sync.store.models import OnboardingTask

HEAD = "head-of-cs@example.com"  # the shipped reminders.yaml's second escalation level


def give_owners(box: Sandbox, services: Services, people: int) -> list[str]:
    """Onboardings owned in turn by ``people`` colleagues (all tasks of one by one), on Slack."""
    emails = [f"person{n}@vendor.example" for n in range(people)]
    with services.store.session() as session:
        for n, email in enumerate(emails):
            session.execute(
                update(OnboardingTask)
                .where(OnboardingTask.onboarding_id % people == n)
                .values(owner_email=email)
            )
    for email in [*emails, HEAD]:
        box.slack.seed_user(email=email, real_name=email.split("@")[0])
    return emails


def counted_pass(box: Sandbox, services: Services, now: datetime) -> dict:
    """One reminder pass, with its wall time, queries and Slack calls."""
    queries = [0]

    def count(*_args: object) -> None:
        queries[0] += 1

    event.listen(services.store.engine, "before_cursor_execute", count)
    slack = len(box.slack.calls())
    started = time.perf_counter()
    result = reminder_tick(services, now)
    wall = time.perf_counter() - started
    event.remove(services.store.engine, "before_cursor_execute", count)
    calls = box.slack.calls()[slack:]
    return {
        "seconds": round(wall, 2),
        "queries": queries[0],
        "slack_calls": len(calls),
        "slack_posts": sum(1 for c in calls if "chat.postMessage" in c.path),
        "digests": result.digests,
        "lines": result.lines,
        "rate_limited": sum(1 for c in calls if c.status == 429),
    }


def measure(onboardings: int, people: int, scale: float, folder: Path) -> list[dict]:
    with Sandbox(rate_scale=scale) as box:
        team = seed_team(box)
        database = f"sqlite:///{folder / 'r.db'}"
        config = {**app_settings(box), "database_url": database, "rate_scale": scale}
        app = create_installed_app(config, team["notion_parent"])
        services = app.extensions["services"]
        started = time.perf_counter()
        seed_fleet(box, services, onboardings)
        give_owners(box, services, people)
        seeded = time.perf_counter() - started
        # Day 16 of the fleet, 10:00 UTC on a working day: task 0 is 8 days late, task 1 due soon.
        day = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
        now = day + timedelta(days=15)
        while now.weekday() >= 5:
            now += timedelta(days=1)
        rows = []
        for label, moment in (
            ("first", now),
            ("same morning", now + timedelta(minutes=15)),
            ("next day", _next_working_day(now)),
        ):
            rows.append(
                {"pass": label, "onboardings": onboardings, **counted_pass(box, services, moment)}
            )
        rows[0]["seed_seconds"] = round(seeded, 1)
        return rows


def _next_working_day(moment: datetime) -> datetime:
    moment += timedelta(days=1)
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--onboardings", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--scale", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for row in measure(args.onboardings, args.people, args.scale, Path(folder)):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
