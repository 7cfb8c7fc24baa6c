"""The app writes to the Notion data sources it made, even after a person adds another one to
the same database (Notion's 2025-09-03 API lets a database hold several)."""

from __future__ import annotations

from app import create_app
from sandbox.scenarios import seed_customer
from sync.jobs.worker import run_until_idle
from tests.conftest import make_world
from tests.test_kickoff import kickoff_done

NOTES = {"Name": {"title": {}}, "Note": {"rich_text": {}}}


def pages_in(box, data_source_id: str) -> int:
    return sum(
        1 for page in box.notion.pages() if page["parent"].get("data_source_id") == data_source_id
    )


def test_a_second_data_source_added_first_does_not_receive_the_plan(world):
    settings = world.services.settings
    ours = settings.notion_tasks_data_source_id
    theirs = world.box.notion.add_data_source_as_user(
        settings.notion_tasks_database_id, "Notes", NOTES
    )
    customer = seed_customer(world.box, world.team)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    assert world.services.queue.get("kickoff", customer.deal_id).status == "done"
    assert pages_in(world.box, theirs["id"]) == 0
    assert pages_in(world.box, ours) > 0


def test_without_named_data_sources_a_database_with_two_stops_the_kickoff_with_a_reason(
    sandbox, tmp_path
):
    world = make_world(sandbox, tmp_path)
    installed = world.services.settings
    app = create_app(
        {
            **world.app_config,  # as configured before data sources were named
            "notion_projects_database_id": installed.notion_projects_database_id,
            "notion_tasks_database_id": installed.notion_tasks_database_id,
        }
    )
    database = installed.notion_tasks_database_id
    sandbox.notion.add_data_source_as_user(database, "Notes", NOTES)
    customer = seed_customer(world.box, world.team)
    world.deliver([world.won(customer.deal_id)], client=app.test_client())
    services = app.extensions["services"]
    run_until_idle(app.extensions["worker"], lambda: kickoff_done_in(services, customer.deal_id))

    job = services.queue.get("kickoff", customer.deal_id)
    assert job.status == "failed"
    assert f"database {database} has 2 data sources" in job.last_error
    assert "set the data source id the app owns" in job.last_error


def kickoff_done_in(services, deal_id: str) -> bool:
    job = services.queue.get("kickoff", deal_id)
    return job is not None and job.status in ("done", "failed")
