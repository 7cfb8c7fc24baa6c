"""The connector's channel: a readable legal name, the next free one, and only ever its own."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient

from connectors.slack import SlackConnector
from connectors.slack_names import channel_name, numbered_names
from tests.conftest import FAST

PURPOSE = "Customer onboarding, HubSpot deal 42."


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("onboarding-Acme Robotics, Inc.", "onboarding-acme-robotics-inc"),
        ("Ромашка", "romashka"),
        ("ООО «Ромашка»", "ooo-romashka"),
        ("株式会社テスト", "zhu-shi-hui-shetesuto"),
        ("Müller & Söhne", "muller-sohne"),
        ("McDonald", "mcdonald"),  # Latin capitals are not syllables to split
        ("!!! ---", ""),
    ],
)
def test_channel_names_are_legal_and_readable(raw, name):
    assert channel_name(raw) == name


def test_a_long_name_keeps_80_characters_with_its_number():
    base = channel_name("x" * 100)
    assert base == "x" * 80
    names = numbered_names(base, 2)
    assert names[0] == "x" * 78 + "-2"
    assert all(len(n) <= 80 for n in names)


def test_numbered_names_start_at_the_first_number():
    assert numbered_names("acme")[:3] == ["acme", "acme-2", "acme-3"]
    assert numbered_names("acme", 3)[:2] == ["acme-3", "acme-4"]


@pytest.fixture
def connector(sandbox):
    return SlackConnector("xoxb-sandbox", sandbox.url("slack"), rate_scale=FAST, sleep=lambda _: 0)


@pytest.fixture
def client(sandbox):
    return WebClient(token="xoxb-sandbox", base_url=sandbox.url("slack"))


def test_a_new_channel_carries_its_purpose(sandbox, connector):
    channel = connector.ensure_channel("acme", PURPOSE)
    assert sandbox.slack.channel_by_name("acme")["purpose"]["value"] == PURPOSE
    assert channel.name == "acme"


def test_a_taken_name_gives_the_next_free_one_and_is_logged(sandbox, connector, caplog):
    caplog.set_level(logging.INFO, logger="connectors.slack")
    sandbox.slack.seed_channel("acme")
    sandbox.slack.seed_channel("acme-2", is_archived=True)
    sandbox.slack.seed_channel("acme-3", is_private=True)
    assert connector.ensure_channel("acme", PURPOSE).name == "acme-4"
    assert all(f"#acme{n} is taken" in caplog.text for n in ("", "-2", "-3"))


def test_recovery_finds_its_channel_under_a_numbered_name(sandbox, connector):
    sandbox.slack.seed_channel("acme")
    made = connector.ensure_channel("acme", PURPOSE)
    assert connector.ensure_channel("acme", PURPOSE, recovering=True) == made
    assert [c["name"] for c in sandbox.slack.channels()] == ["acme", "acme-2"]


def test_recovery_adopts_a_channel_made_before_its_purpose_was_set(sandbox, connector, client):
    made = client.conversations_create(name="acme")["channel"]  # then the process died
    assert connector.ensure_channel("acme", PURPOSE, recovering=True).id == made["id"]
    assert sandbox.slack.channel_by_name("acme")["purpose"]["value"] == PURPOSE
    assert len(sandbox.slack.channels()) == 1


def test_recovery_leaves_another_onboardings_channels_alone(sandbox, connector, client):
    connector.ensure_channel("acme", "Customer onboarding, HubSpot deal 7.")
    older = client.conversations_create(name="acme-2")["channel"]  # no purpose, but people in it
    person = sandbox.slack.seed_user("ana@acme.example", "Ana Lopez")
    client.conversations_invite(channel=older["id"], users=[person["id"]])
    assert connector.ensure_channel("acme", PURPOSE, recovering=True).name == "acme-3"


def test_a_create_whose_answer_was_lost_makes_one_channel(sandbox, connector, monkeypatch):
    create = connector.client.conversations_create

    def create_then_drop_the_connection(**kwargs):
        create(**kwargs)
        monkeypatch.setattr(connector.client, "conversations_create", create)
        raise ConnectionResetError("connection reset after Slack made the channel")

    monkeypatch.setattr(connector.client, "conversations_create", create_then_drop_the_connection)
    channel = connector.ensure_channel("acme", PURPOSE)
    assert channel.name == "acme"
    assert [c["name"] for c in sandbox.slack.channels()] == ["acme"]
    assert sandbox.slack.channel_by_name("acme")["purpose"]["value"] == PURPOSE
