"""The kickoff's channel is one this app made for the deal: never a person's, another
customer's or a private one that shares the name, and readable whatever the company's script."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import update

from sync.kickoff.slack_channel import ensure_channel
from sync.onboarding.run import OnboardingRun, load_onboarding
from sync.onboarding.steps import SLACK_CHANNEL
from sync.store.models import LedgerStep
from tests.test_endings import started

NAME = "onboarding-acme-robotics"


def channel_of(world, deal_id: str) -> dict:
    """The channel the deal's onboarding points at (its link in HubSpot)."""
    url = world.box.hubspot.record("deals", deal_id)["properties"]["onboarding_channel_url"]
    return next(c for c in world.box.slack.channels() if url.endswith(c["id"]))


def test_a_channel_a_person_made_with_the_name_is_left_alone(world, caplog):
    caplog.set_level(logging.INFO, logger="connectors.slack")
    theirs = world.box.slack.seed_channel(NAME)
    customer = started(world)

    ours = channel_of(world, customer.deal_id)
    assert ours["name"] == f"{NAME}-2"
    assert len(world.box.slack.messages(ours["id"])) == 1
    assert world.box.slack.messages(theirs["id"]) == []
    assert f"#{NAME} is taken" in caplog.text


def test_a_private_channel_with_the_name_is_skipped_and_not_called_archived(world, caplog):
    caplog.set_level(logging.INFO)
    world.box.slack.seed_channel(NAME, is_private=True)
    customer = started(world)

    assert channel_of(world, customer.deal_id)["name"] == f"{NAME}-2"
    assert "archived" not in caplog.text


@pytest.mark.parametrize(
    ("company", "name"),
    [("Ромашка", "onboarding-romashka"), ("株式会社テスト", "onboarding-zhu-shi-hui-shetesuto")],
)
def test_a_non_latin_company_name_is_transliterated(world, company, name):
    customer = started(world, name=company)
    assert channel_of(world, customer.deal_id)["name"] == name


def test_a_company_name_with_nothing_to_spell_falls_back_to_the_deal_id(world):
    customer = started(world, name="***")
    assert channel_of(world, customer.deal_id)["name"] == f"onboarding-{customer.deal_id}"


def test_two_customers_of_the_same_name_get_a_channel_each(world):
    first, second = started(world), started(world)

    channels = [channel_of(world, c.deal_id) for c in (first, second)]
    assert [c["name"] for c in channels] == [NAME, f"{NAME}-2"]
    assert all(len(world.box.slack.messages(c["id"])) == 1 for c in channels)


def test_a_retry_after_a_crash_mid_step_finds_the_channel_it_made(world):
    world.box.slack.seed_channel(NAME)  # a person's: ours is -2
    customer = started(world)
    made = channel_of(world, customer.deal_id)
    onboarding = load_onboarding(world.services, customer.deal_id)
    with world.services.store.session() as session:  # as if the process died inside the step
        session.execute(
            update(LedgerStep)
            .where(LedgerStep.onboarding_id == onboarding.id, LedgerStep.name == SLACK_CHANNEL)
            .values(status="started")
        )

    assert ensure_channel(OnboardingRun.of(world.services, onboarding)) == made["id"]
    assert sorted(c["name"] for c in world.box.slack.channels()) == [NAME, f"{NAME}-2"]
