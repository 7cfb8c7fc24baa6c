"""A deal merged into another: the onboarding follows the surviving deal; nothing ends."""

from __future__ import annotations

from sqlalchemy import select

from sync.jobs.payloads import MergeJob
from sync.lifecycle.merges import run_merge
from sync.store.models import Onboarding
from tests.test_endings import counts, onboarding, settle, started


def test_a_merged_deal_moves_its_onboarding_to_the_survivor_and_ends_nothing(world):
    customer = started(world)
    survivor = world.box.hubspot.seed_deal(
        {"dealname": "Acme Robotics - renewal", "dealstage": "closedwon", "pipeline": "default"}
    )["id"]
    events = world.box.hubspot.merge_as_user("deals", survivor, customer.deal_id)
    assert [e["subscriptionType"] for e in events] == ["deal.deletion", "deal.merge"]
    world.deliver(events)
    settle(world)

    assert onboarding(world, customer.deal_id) is None
    moved = onboarding(world, survivor)
    assert moved.status == "active" and moved.ended_at is None
    fields = world.box.hubspot.record("deals", survivor)["properties"]
    assert fields.get("onboarding_status") == "on_track"  # written afresh to the survivor
    assert counts(world.box, customer.deal_id)["projects"] == 1  # nothing re-created


def test_a_deal_merged_into_one_with_its_own_onboarding_ends_as_merged(world):
    first, second = started(world), started(world, name="Acme Robotics EU")
    world.deliver(world.box.hubspot.merge_as_user("deals", second.deal_id, first.deal_id))
    settle(world)

    absorbed = onboarding(world, first.deal_id)
    assert absorbed.status == "cancelled"
    assert absorbed.end_reason == f"merged into deal {second.deal_id}, which has its own"
    assert onboarding(world, second.deal_id).status == "active"


def test_a_plain_deletion_still_ends_the_onboarding(world):
    customer = started(world)
    world.deliver(world.box.hubspot.delete_as_user("deals", customer.deal_id))
    settle(world)
    assert onboarding(world, customer.deal_id).status == "cancelled"


def test_a_merge_job_run_again_after_dying_before_the_write_writes_the_survivor(world):
    customer = started(world)
    survivor = world.box.hubspot.seed_deal(
        {"dealname": "Acme Robotics - renewal", "dealstage": "closedwon", "pipeline": "default"}
    )["id"]
    with world.services.store.session() as session:  # moved, then the process died
        moved = session.scalar(select(Onboarding).where(Onboarding.deal_id == customer.deal_id))
        moved.deal_id, moved.written = survivor, {}

    note = run_merge(world.services, MergeJob(customer.deal_id, survivor_id=survivor))

    assert note == f"deal {customer.deal_id} was already followed"
    fields = world.box.hubspot.record("deals", survivor)["properties"]
    assert fields.get("onboarding_status") == "on_track"
