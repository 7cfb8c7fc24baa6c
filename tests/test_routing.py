"""Every real HubSpot payload in tests/fixtures/hubspot, posted signed to /webhooks/hubspot,
lands as the expected routed job (or the expected note when no job is due)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from sync.intake.routing import route_inbox
from sync.store.models import InboxEvent, Job

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
DEAL = "18543210987"
WON = "deal_propertychange_dealstage.json"


def post_fixture(world, name: str) -> None:
    events = json.loads((FIXTURES / name).read_text())
    assert world.deliver(events).status_code == 200
    route_inbox(world.services)


def jobs(world) -> list[tuple[str, str, dict]]:
    with world.services.store.session() as session:
        rows = session.execute(select(Job.kind, Job.key, Job.payload).order_by(Job.id))
        return [(kind, key, payload) for kind, key, payload in rows]


def notes(world) -> dict[str, tuple[str, str]]:
    with world.services.store.session() as session:
        rows = session.execute(select(InboxEvent.kind, InboxEvent.status, InboxEvent.note))
        return {kind: (status, note) for kind, status, note in rows}


def test_every_fixture_is_covered_here():
    covered = {WON, "deal_deletion.json", "deal_batch_mixed.json", "deal_merge.json", *IGNORED}
    assert covered == {path.name for path in FIXTURES.glob("*.json")}


def test_a_won_stage_change_queues_one_kickoff_with_the_event_facts(world):
    post_fixture(world, WON)
    post_fixture(world, WON)  # a redelivery routes nothing new
    [(kind, key, payload)] = jobs(world)
    assert (kind, key) == ("kickoff", DEAL)
    assert payload["stage"] == "closedwon"
    assert payload["occurred_at_ms"] == 1732300000123
    assert payload["portal_id"] == "12345678"


def test_a_deletion_of_a_deal_with_a_kickoff_queues_an_end(world):
    post_fixture(world, WON)
    post_fixture(world, "deal_deletion.json")
    assert [(kind, key) for kind, key, _ in jobs(world)] == [
        ("kickoff", DEAL),
        ("end", f"{DEAL}:deleted:1732300000789"),
    ]
    assert jobs(world)[1][2]["reason"] == "deleted"


def test_a_deletion_of_an_unknown_deal_is_noted_not_queued(world):
    post_fixture(world, "deal_deletion.json")
    assert jobs(world) == []
    assert notes(world)["deal.deletion"] == ("ignored", f"deleted: no onboarding for deal {DEAL}")


def test_a_merge_of_a_deal_with_a_kickoff_queues_its_following(world):
    assert world.deliver([world.won("18543210999")]).status_code == 200
    route_inbox(world.services)
    post_fixture(world, "deal_merge.json")
    assert [(kind, key) for kind, key, _ in jobs(world)] == [
        ("kickoff", "18543210999"),
        ("merge", f"18543210999:{DEAL}"),
    ]


def test_a_merge_of_deals_without_onboardings_is_noted(world):
    post_fixture(world, "deal_merge.json")
    assert jobs(world) == []
    assert notes(world)["deal.merge"] == (
        "ignored",
        f"merge into deal {DEAL}: no onboarding of the merged deals",
    )


IGNORED = {
    "deal_creation.json": "deal.creation",
    "deal_associationchange.json": "deal.associationChange",
}


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_events_no_rule_wants_are_kept_and_marked_ignored(world, name):
    post_fixture(world, name)
    assert jobs(world) == []
    kind = IGNORED[name]
    assert notes(world)[kind] == ("ignored", f"{kind} events are not acted on")


def test_a_mixed_batch_routes_each_event_on_its_own(world):
    post_fixture(world, "deal_batch_mixed.json")
    events = json.loads((FIXTURES / "deal_batch_mixed.json").read_text())
    won = [e for e in events if e.get("propertyValue") == "closedwon"]
    assert [(kind, key) for kind, key, _ in jobs(world)] == [
        ("kickoff", str(e["objectId"])) for e in won
    ]
    with world.services.store.session() as session:
        pending = session.scalars(select(InboxEvent).where(InboxEvent.status == "pending")).all()
    assert pending == []
