"""Progress flows back: Notion task states become HubSpot properties, incrementally."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bench.fleet import seed_fleet
from connectors.errors import Permanent
from sandbox.scenarios import SEGMENT_ID, seed_customer
from sync.jobs.worker import run_until_idle
from sync.onboarding import notion_schema as schema
from sync.onboarding.crm import GONE
from sync.progress.compute import TaskState, compute
from sync.progress.poll import CURSOR, poll_tasks
from sync.progress.tracking import DAY_CURSOR, progress_tick
from sync.store.cursors import read_cursor, save_cursor
from sync.store.models import Onboarding, OnboardingTask
from tests.test_kickoff import kickoff_done

MONDAY = date(2026, 11, 30)


def state(title, due, status="Not started", required=True, flags=(), done_on=None, phase="p1"):
    return TaskState(title, phase, due, status, required, flags, done_on)


# ----- the rules, on plain data --------------------------------------------------------------


def test_progress_counts_required_tasks_and_names_the_next_one():
    tasks = [
        state("Kickoff", MONDAY, "Done", done_on=MONDAY),
        state("Training", MONDAY + timedelta(days=3)),
        state("Nice to have", MONDAY + timedelta(days=1), required=False),
    ]
    progress = compute(tasks, today=MONDAY)
    assert (progress.percent, progress.required_done, progress.required_total) == (50, 1, 2)
    assert (progress.next_task, progress.next_task_due) == ("Nice to have", MONDAY + timedelta(1))
    assert progress.status == "on_track"


def test_a_task_just_late_is_at_risk_and_late_past_the_escalation_days_is_overdue():
    tasks = [state("Kickoff", MONDAY)]
    assert compute(tasks, today=MONDAY + timedelta(days=1)).status == "at_risk"
    assert compute(tasks, today=MONDAY + timedelta(days=3)).status == "overdue"  # Thursday
    assert compute(tasks, today=MONDAY + timedelta(days=1)).overdue == 1


def test_all_required_done_is_completed_on_the_last_done_date_with_milestones():
    tasks = [
        state("Setup form", MONDAY, "Done", flags=["setup_form"], done_on=MONDAY),
        state("Go live", MONDAY, "Done", flags=["go_live"], done_on=MONDAY + timedelta(2)),
    ]
    progress = compute(tasks, today=MONDAY + timedelta(days=5))
    assert progress.status == "completed" and progress.completed_on == MONDAY + timedelta(2)
    assert set(progress.milestones()) == {"setup_form", "go_live", "completed"}


def test_an_ended_onboarding_keeps_its_status():
    assert compute([state("Kickoff", MONDAY)], MONDAY, ended="cancelled").status == "cancelled"


# ----- the loop, against the sandbox ----------------------------------------------------------


def kicked_off(world, **customer):
    customer = seed_customer(world.box, world.team, **customer)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    progress_tick(world.services)  # the first round after kickoff: nothing to change
    return customer


def onboarding(world, deal_id):
    with world.services.store.session() as session:
        row = session.query(Onboarding).filter_by(deal_id=deal_id).one()
        _ = list(row.tasks)
        return row


def batch_updates(world):
    return [c for c in world.box.hubspot.calls() if c.path.endswith("/batch/update")]


def tick_in_notion(world, page_id, status="Done"):
    world.box.notion.edit_page_as_user(page_id, {schema.STATUS: {"status": {"name": status}}})


def notion_minute(moment):
    """``moment`` as Notion shows a ``last_edited_time``: rounded down to the minute."""
    return moment.strftime("%Y-%m-%dT%H:%M:00.000Z")


def tasks_done(world):
    with world.services.store.session() as session:
        done = select(func.count()).where(OnboardingTask.status == schema.TASK_STATUSES[-1])
        return session.scalar(done)


def test_a_ticked_task_reaches_the_deal_and_company_after_one_poll_and_nothing_else(world):
    customer = kicked_off(world, employees=10)
    first = onboarding(world, customer.deal_id).tasks[0]
    before = len(batch_updates(world))
    tick_in_notion(world, first.notion_page_id)
    tick = progress_tick(world.services)

    assert tick.applied.tasks_changed == 1
    written = batch_updates(world)[before:]
    assert [c.path.split("/")[-3] for c in written] == ["deals", "companies"]
    sent = written[0].body["inputs"][0]["properties"]
    assert set(sent) <= {"onboarding_progress", "onboarding_next_task", "onboarding_next_task_due"}
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    company = world.box.hubspot.record("companies", customer.company_id)["properties"]
    total = len(world.services.mappings.playbook("smb").tasks)
    assert deal["onboarding_progress"] == company["onboarding_progress"] == str(round(100 / total))

    again = progress_tick(world.services)  # re-reads the minute, changes nothing
    assert again.applied.tasks_changed == 0 and len(batch_updates(world)) == before + 2


def test_a_deal_deleted_in_hubspot_gets_a_207_once_then_only_its_company_is_written(world):
    customer = kicked_off(world, employees=10)
    tasks = onboarding(world, customer.deal_id).tasks
    world.box.hubspot.delete_as_user("deals", customer.deal_id)  # its webhook never arrives
    before = len(batch_updates(world))
    tick_in_notion(world, tasks[0].notion_page_id)
    progress_tick(world.services)

    answered = [(c.path.split("/")[-3], c.status) for c in batch_updates(world)[before:]]
    assert answered == [("deals", 207), ("companies", 200)]
    row = onboarding(world, customer.deal_id)
    assert row.written[GONE] == [f"deals/{customer.deal_id}"]
    assert row.written["progress"] == str(row.progress["percent"])  # settled: not sent again

    tick_in_notion(world, tasks[1].notion_page_id)
    progress_tick(world.services)
    answered = [(c.path.split("/")[-3], c.status) for c in batch_updates(world)[before + 2 :]]
    assert answered == [("companies", 200)]
    company = world.box.hubspot.record("companies", customer.company_id)["properties"]
    assert company["onboarding_progress"] == onboarding(world, customer.deal_id).written["progress"]


def test_two_edits_in_the_same_minute_on_each_side_of_a_poll_are_both_seen(tmp_path):
    from sandbox import Sandbox
    from tests.conftest import FAST, make_world

    minute = datetime(2026, 11, 27, 10, 0, 10, tzinfo=UTC)
    with Sandbox(rate_scale=FAST, start=minute) as box:
        world = make_world(box, tmp_path, rate_scale=FAST)
        customer = kicked_off(world, employees=10)
        tasks = onboarding(world, customer.deal_id).tasks
        tick_in_notion(world, tasks[0].notion_page_id)  # 10:00:10, Notion says 10:00
        progress_tick(world.services)
        box.clock.set(minute + timedelta(seconds=40))
        tick_in_notion(world, tasks[1].notion_page_id)  # 10:00:50, Notion says 10:00 too
        assert box.notion.page(tasks[1].notion_page_id)["last_edited_time"].endswith(
            "10:00:00.000Z"
        )
        tick = progress_tick(world.services)
    assert tick.applied.tasks_changed == 1
    assert [t.status for t in onboarding(world, customer.deal_id).tasks[:2]] == ["Done", "Done"]


def test_with_a_thousand_onboardings_a_poll_costs_calls_for_changes_only(world):
    services, box = world.services, world.box
    fleet = seed_fleet(box, services, count=1000, tasks_per=20)
    progress_tick(services, full=True)  # the baseline: everything read and written once
    later = box.clock.now() + timedelta(minutes=1)  # every seeded page is older than this
    save_cursor(services.store, CURSOR, notion_minute(later))
    box.clock.set(later + timedelta(minutes=1))
    notion_before, hubspot_before = len(box.notion.calls()), len(box.hubspot.calls())
    quiet = progress_tick(services)
    assert len(box.notion.calls()) - notion_before == 1
    assert len(box.hubspot.calls()) - hubspot_before == 0
    assert quiet.applied.pages == 0

    for pages in fleet.task_pages[:50]:
        tick_in_notion(world, pages[0])
    notion_before, hubspot_before = len(box.notion.calls()), len(box.hubspot.calls())
    busy = progress_tick(services)
    assert len(box.notion.calls()) - notion_before <= 2
    assert len(box.hubspot.calls()) - hubspot_before <= 2
    assert busy.applied.tasks_changed == 50 and busy.refreshed.changed == 50


def test_a_poll_failing_midway_keeps_the_pages_it_applied_and_the_next_reads_only_the_rest(world):
    services, box = world.services, world.box
    fleet = seed_fleet(box, services, count=13, tasks_per=20)
    edited = [page for pages in fleet.task_pages for page in pages][:250]
    start = (box.clock.now() + timedelta(minutes=1)).replace(second=0, microsecond=0)
    save_cursor(services.store, CURSOR, notion_minute(start))  # every seeded page is older
    for n, page_id in enumerate(edited):  # ten edits a minute, so each page of 100 ends a minute
        box.clock.set(start + timedelta(minutes=n // 10, seconds=n % 10))
        tick_in_notion(world, page_id)
    box.notion.faults.add("error", status=400, after=2, path_contains="/query")

    applied = []
    with pytest.raises(Permanent):  # Notion fails the third page of results
        poll_tasks(services, on_batch=applied.append)
    assert applied == [100, 100] and tasks_done(world) == 200
    assert read_cursor(services.store, CURSOR) == notion_minute(start + timedelta(minutes=19))

    box.notion.faults.clear()
    rest = poll_tasks(services)
    assert rest.pages == 10 + 50  # the last applied minute again, then the 50 never applied
    assert rest.tasks_changed == 50 and tasks_done(world) == 250


def test_csm_added_archived_and_moved_tasks_change_progress_as_a_person_expects(world):
    customer = kicked_off(world, employees=10)
    row = onboarding(world, customer.deal_id)
    total = len(row.tasks)
    projects_ds, tasks_ds = world.services.notion_sources
    project = world.services.notion.find_by_text(
        projects_ds,
        schema.DEAL_ID,
        customer.deal_id,
    )
    tomorrow = row.tasks[0].due_date - timedelta(days=1)
    world.services.notion.create_page(tasks_ds, {  # a CSM adds a task due before all others
        schema.TITLE: {"title": [{"text": {"content": "Call the CFO"}}]},
        schema.PROJECT: {"relation": [{"id": project["id"]}]},
        schema.DUE: {"date": {"start": tomorrow.isoformat()}},
    })  # fmt: skip
    progress_tick(world.services)
    after_add = onboarding(world, customer.deal_id).progress
    assert after_add["required_total"] == total + 1 and after_add["next_task"] == "Call the CFO"

    world.box.notion.trash_page_as_user(row.tasks[1].notion_page_id)
    progress_tick(world.services)
    assert onboarding(world, customer.deal_id).progress["required_total"] == total

    later = (row.tasks[-1].due_date + timedelta(days=30)).isoformat()
    world.box.notion.edit_page_as_user(
        [p for p in world.box.notion.pages() if "Call the CFO" in str(p)][0]["id"],
        {schema.DUE: {"date": {"start": later}}},
    )
    progress_tick(world.services)
    moved = onboarding(world, customer.deal_id).progress
    assert moved["next_task"] == row.tasks[0].title
    assert moved["next_task_due"] == row.tasks[0].due_date.isoformat()


def test_each_milestone_reaches_customerio_and_the_channel_once(world):
    customer = kicked_off(world, employees=10)
    setup = next(t for t in onboarding(world, customer.deal_id).tasks if "setup_form" in t.flags)
    tick_in_notion(world, setup.notion_page_id)
    for _ in range(2):  # the poll runs twice over the same milestone
        progress_tick(world.services)
        save_cursor(world.services.store, CURSOR, "2000-01-01T00:00:00.000Z")
    run_until_idle(world.worker, lambda: world.worker.tick() == 0)
    events = world.box.customerio.events(name="setup_form_completed")
    assert [e["customer_id"] for e in events] == [customer.contact_id]
    channel = world.box.slack.channels()[0]
    notes = [m for m in world.box.slack.messages(channel["id"]) if "setup form" in m["text"]]
    assert len(notes) == 1
    assert world.box.customerio.segment_members(SEGMENT_ID) == [customer.contact_id]


def test_a_new_day_recomputes_every_onboarding_once(world):
    customer = kicked_off(world, employees=10)
    save_cursor(world.services.store, DAY_CURSOR, "2000-01-01")
    tick = progress_tick(world.services)
    assert tick.refreshed.onboardings == 1
    assert progress_tick(world.services).refreshed.onboardings == 0
    assert onboarding(world, customer.deal_id).progress["status"] == "on_track"
