"""The catch-up finds won deals whose webhook never came and onboards each of them once."""

from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import Permanent
from connectors.hubspot import HubSpotConnector, date_entered_property
from sandbox.scenarios import seed_customer
from sync.intake.catchup import catch_up, catch_up_tick
from sync.jobs.worker import run_until_idle
from sync.store.cursors import read_cursor
from tests.conftest import FAST
from tests.test_kickoff import counts, kickoff_done

WON_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ENTERED = date_entered_property("closedwon")


def seed_won_deals(box, number, start=WON_AT, step=timedelta(seconds=1), **properties):
    """Deals that entered Closed Won at known times, seeded as history (no webhook, no company)."""
    fields = {"dealstage": "closedwon", "pipeline": "default", **properties}
    return [
        box.hubspot.seed_deal(
            {"dealname": f"Deal {n}", **fields, ENTERED: (start + n * step).isoformat()}
        )["id"]
        for n in range(number)
    ]


def searches(box):
    return box.hubspot.calls(method="POST", path_contains="/search")


def test_won_deal_whose_webhook_never_came_is_onboarded_once_by_the_catch_up(world):
    customer = seed_customer(world.box, world.team)
    world.box.hubspot.update_as_user("deals", customer.deal_id, {"dealstage": "closedwon"})
    assert world.box.hubspot.webhook_deliveries() == []  # no subscription: HubSpot sent nothing

    now = datetime.now(UTC)  # the window's end is exclusive, so it ends a moment from now
    since, until = now - timedelta(hours=1), now + timedelta(minutes=1)
    result = catch_up(world.services, since, until)
    assert (result.found, result.queued, result.known) == (1, [customer.deal_id], 0)
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    onboarded = counts(world.box, customer.deal_id)
    assert onboarded["projects"] == 1 and onboarded["started_events"] == 1

    world.deliver([world.won(customer.deal_id)])  # the webhook turns up after all
    run_until_idle(world.worker, lambda: world.worker.tick() == 0)
    again = catch_up(world.services, since, until)
    assert (again.found, again.queued, again.known) == (1, [], 1)
    assert counts(world.box, customer.deal_id) == onboarded
    assert world.services.queue.get("kickoff", customer.deal_id).payload["source"] == "catch-up"


def test_queued_kickoff_carries_the_stage_entry_time_as_the_won_time(world):
    [deal_id] = seed_won_deals(world.box, 1)
    catch_up(world.services, WON_AT - timedelta(minutes=5), WON_AT + timedelta(minutes=5))
    payload = world.services.queue.get("kickoff", deal_id).payload
    assert payload == {
        "deal_id": deal_id,
        "stage": "closedwon",
        "occurred_at_ms": int(WON_AT.timestamp() * 1000),
        "portal_id": world.services.settings.hubspot_portal_id,
        "source": "catch-up",
    }


def test_periodic_run_looks_back_the_overlap_then_resumes_from_its_cursor(world):
    services = world.services
    [deal_id] = seed_won_deals(world.box, 1, start=datetime.now(UTC) - timedelta(minutes=30))
    seed_won_deals(world.box, 1, start=datetime.now(UTC) - timedelta(hours=3))  # before the overlap

    overlap = timedelta(minutes=services.settings.catchup_overlap_minutes)
    first = catch_up_tick(services)
    assert first.queued == [deal_id]
    assert first.until - first.since == overlap
    cursor = read_cursor(services.store, "catchup")
    assert datetime.fromisoformat(cursor) == first.until

    second = catch_up_tick(services)
    assert (second.found, second.queued) == (1, [])  # the overlap sees it again, queues nothing
    assert second.since == first.until - overlap


def test_failed_periodic_run_keeps_its_cursor_so_the_next_run_covers_the_window_again(world):
    services = world.services
    catch_up_tick(services)
    cursor = read_cursor(services.store, "catchup")
    world.box.hubspot.faults.add("error", status=403, path_contains="/search")
    with pytest.raises(Permanent):
        catch_up_tick(services)
    assert read_cursor(services.store, "catchup") == cursor


def test_more_than_200_matching_deals_are_read_page_by_page(world):
    deals = seed_won_deals(world.box, 230)
    pages = []
    result = catch_up(
        world.services, WON_AT, WON_AT + timedelta(hours=1), on_page=lambda p: pages.append(p)
    )
    assert sorted(result.queued) == sorted(deals)
    assert [p.deals for p in pages] == [200, 30]
    assert len(searches(world.box)) == 2


def test_window_matching_more_than_the_result_cap_is_split_until_each_part_fits(world):
    deals = seed_won_deals(world.box, 24, step=timedelta(minutes=1))
    settings = world.services.settings
    hubspot = HubSpotConnector(
        settings.hubspot_access_token.get_secret_value(),
        settings.hubspot_api_base,
        search_rate_per_second=4 * FAST,
    )
    found = [
        record.id
        for page in hubspot.deals_entered_stage(
            "default", "closedwon", WON_AT, WON_AT + timedelta(hours=1), cap=10
        )
        for record in page
    ]
    assert sorted(found) == sorted(deals)  # each deal once, none lost at a boundary
    assert len(searches(world.box)) > 3  # the whole window, its halves, and their halves


def test_deals_of_other_pipelines_stages_or_times_are_ignored(world):
    box = world.box
    box.hubspot.seed_pipeline("renewals", "Renewals", ["renewal_open", "closedwon_renewal"])
    [wanted] = seed_won_deals(box, 1)
    seed_won_deals(box, 1, pipeline="renewals")  # a stage id the trigger names, other pipeline
    seed_won_deals(box, 1, dealstage="closedlost")  # won in the window, lost since
    seed_won_deals(box, 1, start=WON_AT - timedelta(days=2))  # won before the window
    box.hubspot.seed_deal(
        {
            "dealname": "Renewal",
            "pipeline": "renewals",
            "dealstage": "closedwon_renewal",
            date_entered_property("closedwon_renewal"): WON_AT.isoformat(),
        }
    )
    result = catch_up(world.services, WON_AT - timedelta(hours=1), WON_AT + timedelta(hours=1))
    assert (result.found, result.queued) == (1, [wanted])


def test_cli_catch_up_prints_each_page_and_a_summary(world):
    seed_won_deals(world.box, 3)
    runner = world.app.test_cli_runner()
    args = ["onboarding", "catch-up", "--since", "2025-03-03T08:00Z", "--until", "2025-03-03"]
    assert "must be later than --since" in runner.invoke(args=args).output

    args[-1] = "2025-03-03T10:00+00:00"
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "default/closedwon: 3 deals, 3 newly queued" in first.output
    assert "3 deals entered a start stage" in first.output
    assert "3 newly queued, 0 already known" in first.output

    second = runner.invoke(args=args)
    assert second.exit_code == 0
    assert "0 newly queued, 3 already known" in second.output


def test_on_a_starter_account_the_catch_up_finds_won_deals_without_stage_entry_dates(world):
    """Free and Starter accounts have no hs_v2_date_entered_*: a search by it finds nothing."""
    world.box.hubspot.set_tier("starter")
    old = world.box.hubspot.seed_deal(  # won a month ago, edited today: not a missed webhook
        {"dealname": "Old win", "dealstage": "closedwon", "pipeline": "default",
         "closedate": (datetime.now(UTC) - timedelta(days=30)).isoformat()}
    )["id"]  # fmt: skip
    world.box.hubspot.update_as_user("deals", old, {"amount": "5"})
    customer = seed_customer(world.box, world.team)
    world.box.hubspot.update_as_user("deals", customer.deal_id, {"dealstage": "closedwon"})
    assert ENTERED not in world.box.hubspot.record("deals", customer.deal_id)["properties"]

    now = datetime.now(UTC)
    result = catch_up(world.services, now - timedelta(hours=1), now + timedelta(minutes=1))
    assert result.queued == [customer.deal_id]
    won = world.box.hubspot.record("deals", customer.deal_id)["properties"]["closedate"]
    payload = world.services.queue.get("kickoff", customer.deal_id).payload
    assert payload["occurred_at_ms"] == int(datetime.fromisoformat(won).timestamp() * 1000)

    doctor = world.app.test_cli_runner().invoke(args=["doctor"]).output
    assert "no 'date entered' property for closedwon (a Free or Starter account)" in doctor
