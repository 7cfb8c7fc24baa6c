"""What the vendors' answers ask of the connectors: Retry-After on whatever status carries it,
HubSpot's wait-and-retry statuses, its 207 partial writes and its account's rate budget."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.calls import RateLimiter
from connectors.customerio import CustomerIOConnector
from connectors.errors import RateLimited, Transient
from connectors.hubspot import HubSpotConnector
from connectors.notion import NotionConnector
from connectors.slack import SlackConnector
from sandbox import Sandbox

CONNECTORS = {
    "hubspot": lambda box, **options: HubSpotConnector(
        "pat-sandbox", box.url("hubspot"), **options
    ),
    "notion": lambda box, **options: NotionConnector(
        "secret_sandbox", box.url("notion"), **options
    ),
    "slack": lambda box, **options: SlackConnector("xoxb-sandbox", box.url("slack"), **options),
    "customerio": lambda box, **options: CustomerIOConnector(
        "sandbox-site", "sandbox-key", box.url("customerio"), **options
    ),
}
CHECKS = {  # one harmless call each
    "hubspot": lambda hubspot: hubspot.property_names("deals"),
    "notion": lambda notion: notion.me(),
    "slack": lambda slack: slack.scopes(),
    "customerio": lambda customerio: customerio.region(),
}


@pytest.mark.parametrize("vendor", sorted(CONNECTORS))
def test_a_503s_retry_after_reaches_the_caller_at_every_vendor(sandbox, vendor):
    sandbox.emulators[vendor].faults.add("error", status=503, calls=1, retry_after=7)
    connector = CONNECTORS[vendor](sandbox, attempts=1)
    with pytest.raises(Transient) as refused:
        CHECKS[vendor](connector)
    assert refused.value.retry_after == 7
    assert "503" in refused.value.reason


def test_notions_529_service_overload_is_a_rate_limit_with_its_retry_after(sandbox):
    sandbox.notion.faults.add("error", status=529, calls=1, retry_after=3)
    with pytest.raises(RateLimited) as refused:
        CONNECTORS["notion"](sandbox, attempts=1).me()
    assert refused.value.retry_after == 3


@pytest.mark.parametrize(
    ("status", "retry_after", "waited"),
    [(423, None, 2.0), (477, 1, 1.0)],  # 423 Locked: "locks will last for 2 seconds"
)
def test_hubspots_423_locked_and_477_migrating_are_waited_out_then_retried(
    sandbox, status, retry_after, waited
):
    deal = sandbox.hubspot.seed_deal({"dealname": "Patient"})
    sandbox.hubspot.faults.add("error", status=status, calls=1, retry_after=retry_after)
    hubspot = CONNECTORS["hubspot"](sandbox)
    started = time.monotonic()
    assert hubspot.read_deal(deal["id"], ["dealname"]).properties["dealname"] == "Patient"
    assert time.monotonic() - started >= waited
    assert [c.status for c in sandbox.hubspot.calls()] == [status, 200]


def test_a_batch_update_answered_207_confirms_only_the_records_hubspot_wrote(sandbox):
    kept = sandbox.hubspot.seed_deal({"dealname": "Kept"})
    deleted = sandbox.hubspot.seed_deal({"dealname": "Deleted"})
    sandbox.hubspot.delete_as_user("deals", deleted["id"])
    hubspot = CONNECTORS["hubspot"](sandbox)
    outcome = hubspot.update_properties(
        "deals", {kept["id"]: {"dealname": "Kept!"}, deleted["id"]: {"dealname": "Deleted!"}}
    )
    assert [c.status for c in sandbox.hubspot.calls(path_contains="batch/update")] == [207]
    assert (outcome.calls, outcome.written, outcome.missing) == (1, {kept["id"]}, {deleted["id"]})
    assert outcome.failed == {}
    assert sandbox.hubspot.record("deals", kept["id"])["properties"]["dealname"] == "Kept!"


def test_a_starter_account_gets_no_429_once_its_first_answer_taught_the_limiter():
    """15 calls a second suit Professional (190 per 10 s), not Starter (100 per 10 s)."""
    with Sandbox(start=datetime(2026, 1, 15, 10, 0, tzinfo=UTC)) as box:
        box.hubspot.set_tier("starter")
        deal = box.hubspot.seed_deal({"dealname": "Small account"})

        def sleep(seconds: float) -> None:  # the limiter waits on the sandbox's own clock,
            box.clock.advance(timedelta(microseconds=math.ceil(seconds * 1e6)))  # to the µs

        limiter = RateLimiter(15, burst=5, sleep=sleep, clock=lambda: box.clock.now().timestamp())
        hubspot = CONNECTORS["hubspot"](box, rate_per_second=15, limiter=limiter, sleep=sleep)
        for _ in range(250):  # 25 virtual seconds at least: two and a half windows
            hubspot.read_deal(deal["id"], ["dealname"])
        statuses = [c.status for c in box.hubspot.calls()]
    assert statuses == [200] * 250
    assert limiter.rate == pytest.approx((100 * 0.9 - 5) / 10)
