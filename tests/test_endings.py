"""A lost, deleted or churned deal ends its onboarding; nothing in Notion or Slack is deleted."""

import json
from datetime import timedelta

from sqlalchemy import select

from sandbox.scenarios import seed_customer
from sync.jobs.worker import run_until_idle
from sync.store.models import Job, Onboarding
from tests.test_kickoff import counts, kickoff_done

DAY_MS = 24 * 3600 * 1000


def onboarding(world, deal_id):
    with world.services.store.session() as session:
        return session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))


def settle(world):
    run_until_idle(world.worker, lambda: world.worker.tick() == 0)


def started(world, **customer):
    """A customer whose deal was won and whose kickoff finished."""
    found = seed_customer(world.box, world.team, **customer)
    world.deliver([world.won(found.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, found.deal_id))
    return found


def lost_in_crm(world, deal_id):
    """A person moves the deal to Closed Lost; returns the webhook events HubSpot sends."""
    return world.box.hubspot.update_as_user("deals", deal_id, {"dealstage": "closedlost"})


def lose(world, deal_id):
    world.deliver(lost_in_crm(world, deal_id))
    settle(world)


def churn(world, customer, after_days):
    """A person ticks "Customer churned" on the company, ``after_days`` after the win."""
    events = world.box.hubspot.update_as_user(
        "companies", customer.company_id, {"customer_churned": "true"}
    )
    won_at = onboarding(world, customer.deal_id).won_at
    at = int(won_at.timestamp() * 1000) + after_days * DAY_MS
    world.deliver([{**e, "occurredAt": at} for e in events])
    settle(world)


def statuses(world, customer):
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    company = world.box.hubspot.record("companies", customer.company_id)["properties"]
    return deal.get("onboarding_status"), company.get("onboarding_status")


def test_a_lost_deal_is_counted_cancelled_and_hubspot_says_so(world):
    customer = started(world)
    before = counts(world.box, customer.deal_id)
    lose(world, customer.deal_id)

    row = onboarding(world, customer.deal_id)
    assert row.status == "cancelled"
    assert row.end_reason == "the deal moved to lost stage 'closedlost'"
    assert row.ended_at is not None and row.completed_on is None
    assert statuses(world, customer) == ("cancelled", "cancelled")
    assert counts(world.box, customer.deal_id) == before  # nothing deleted, nothing added
    channel = world.box.slack.channel_by_name("onboarding-acme-robotics")
    assert not channel["is_archived"]


def test_the_status_is_written_once_however_often_the_loss_is_delivered(world):
    customer = started(world)
    events = lost_in_crm(world, customer.deal_id)
    for attempt in range(3):
        world.deliver(events, attempt=attempt)
    settle(world)
    world.deliver(
        lost_in_crm(world, customer.deal_id)
        + [world.won(customer.deal_id)]  # and a late won event restarts nothing
    )
    settle(world)

    writes = world.box.hubspot.calls(method="POST", path_contains="/batch/update")
    assert len([c for c in writes if "cancelled" in json.dumps(c.body)]) == 2  # deal, company
    assert onboarding(world, customer.deal_id).status == "cancelled"
    assert counts(world.box, customer.deal_id)["projects"] == 1


def test_a_deleted_deal_cancels_its_onboarding_and_the_company_says_so(world):
    customer = started(world)
    world.deliver(world.box.hubspot.delete_as_user("deals", customer.deal_id))
    settle(world)

    row = onboarding(world, customer.deal_id)
    assert (row.status, row.end_reason) == ("cancelled", "the deal was deleted in HubSpot")
    assert statuses(world, customer)[1] == "cancelled"
    assert counts(world.box, customer.deal_id)["projects"] == 1


def test_a_churn_within_90_days_of_the_win_is_an_early_churn(world):
    customer = started(world)
    churn(world, customer, after_days=30)

    row = onboarding(world, customer.deal_id)
    assert row.status == "churned"
    assert row.ended_at - row.won_at == timedelta(days=30)
    assert statuses(world, customer) == ("churned", "churned")


def test_a_churn_after_90_days_leaves_the_onboarding_as_it_is(world):
    customer = started(world)
    churn(world, customer, after_days=91)

    row = onboarding(world, customer.deal_id)
    assert (row.status, row.ended_at) == ("active", None)
    assert statuses(world, customer) == ("on_track", "on_track")


def test_a_deal_lost_before_its_kickoff_ran_gets_no_onboarding(world):
    customer = seed_customer(world.box, world.team)
    won = world.won(customer.deal_id)
    lost = lost_in_crm(world, customer.deal_id)  # lost right after, in HubSpot
    world.worker.threads = 1  # the kickoff, then the end: the order the inbox gives them
    world.deliver([won, *lost])  # both at once, after an outage
    settle(world)

    assert onboarding(world, customer.deal_id) is None
    assert world.services.queue.get("kickoff", customer.deal_id).status == "done"
    assert counts(world.box, customer.deal_id)["projects"] == 0
    assert world.box.slack.channels() == []


def test_a_lost_deal_that_never_started_an_onboarding_queues_nothing(world):
    customer = seed_customer(world.box, world.team)
    lose(world, customer.deal_id)
    with world.services.store.session() as session:
        assert session.scalars(select(Job)).all() == []
