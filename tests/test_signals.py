"""Quiet customers: activity and email signals become check-ins, CSM notes, at-risk and a score."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sandbox import Sandbox
from sandbox.customerio_webhooks import CustomerIOWebhookSender, sign
from sandbox.scenarios import CSM_EMAIL, seed_customer
from sync.jobs.worker import run_until_idle
from sync.signals.watch import signals_tick
from sync.store.models import Onboarding, SignalEvent
from tests.conftest import FAST, make_world
from tests.test_kickoff import kickoff_done

API_KEY = "activity-key-for-tests"
CIO_KEY = "cio-signing-key-for-tests"


@pytest.fixture
def world(tmp_path):
    """The shared world, with both signal feeds configured."""
    with Sandbox(rate_scale=FAST) as box:
        yield make_world(
            box,
            tmp_path,
            rate_scale=FAST,
            activity_api_key=API_KEY,
            customerio_webhook_signing_key=CIO_KEY,
        )


def started(world, name="Tiny Shop", days_ago=16):
    """A small customer won ``days_ago`` whose kickoff finished; (customer, onboarding).

    Passes then run at moments between the win and now, so activity is never "from the future".
    """
    customer = seed_customer(world.box, world.team, name=name, employees=10)
    won_ms = int((time.time() - days_ago * 86400) * 1000)
    world.deliver([world.won(customer.deal_id, occurred_at=won_ms)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    return customer, onboarding(world, customer.deal_id)


def onboarding(world, deal_id):
    with world.services.store.session() as session:
        return session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))


def settle(world):
    run_until_idle(world.worker, lambda: world.worker.tick() == 0)


def post_activity(world, events, key=API_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return world.app.test_client().post("/api/activity", json=events, headers=headers)


def logins(world, customer, at, count):
    events = [
        {"company_id": customer.company_id, "kind": "login", "user": f"u{n}", "at": at.isoformat()}
        for n in range(count)
    ]
    assert post_activity(world, events).status_code == 200


def post_cio(world, body, key=CIO_KEY, timestamp=None):
    """POST a Customer.io reporting event signed with ``key``, as Customer.io sends it."""
    raw = json.dumps(body).encode()
    stamp = str(timestamp or int(time.time()))
    headers = {"X-CIO-Timestamp": stamp, "X-CIO-Signature": sign(key, stamp, raw)}
    return world.app.test_client().post("/webhooks/customerio", data=raw, headers=headers)


def cio_event(customer, metric, at=None):
    sender = CustomerIOWebhookSender("http://unused", CIO_KEY)
    slug = customer.name.lower().replace(" ", "")
    event = sender.payload(metric, customer.contact_id, f"ops@{slug}.example")
    return {**event, "timestamp": int(at.timestamp() if at else time.time())}


def check_ins(world, deal_id):
    return [
        p
        for p in world.box.notion.pages()
        if _text(p, "Task ID").startswith(f"{deal_id}:signal:check_in")
    ]


def _text(page, name):
    prop = page["properties"].get(name) or {}
    return "".join(part.get("plain_text", "") for part in prop.get("rich_text", []))


def channel_messages(world, text):
    channel = next(c for c in world.box.slack.channels() if c["name"].startswith("onboarding-"))
    return [m for m in world.box.slack.messages(channel["id"]) if text in m["text"]]


def stored_events(world):
    with world.services.store.session() as session:
        return session.scalar(select(func.count()).select_from(SignalEvent))


def test_activity_below_the_threshold_creates_one_check_in_per_week_not_one_per_pass(world):
    customer, row = started(world)
    day8 = row.won_at + timedelta(days=8)
    logins(world, customer, day8 - timedelta(days=1), 2)

    for _ in range(3):
        signals_tick(world.services, now=day8)
    tasks = check_ins(world, customer.deal_id)
    assert len(tasks) == 1
    assert "2 logins in 7 days" in tasks[0]["properties"]["Name"]["title"][0]["plain_text"]
    csm = world.box.slack.user_by_email(CSM_EMAIL)["id"]
    notes = channel_messages(world, "Quiet customer")
    assert len(notes) == 1 and notes[0]["text"].startswith(f"<@{csm}>")

    signals_tick(world.services, now=day8 + timedelta(days=7))  # a second quiet week
    signals_tick(world.services, now=day8 + timedelta(days=7, hours=1))
    assert len(check_ins(world, customer.deal_id)) == 2
    assert len(channel_messages(world, "Quiet customer")) == 2
    keys = {t.key for t in onboarding_tasks(world, customer.deal_id) if t.key.startswith("signal")}
    assert keys == {"signal:check_in:w1", "signal:check_in:w2"}  # mirrored for progress


def onboarding_tasks(world, deal_id):
    with world.services.store.session() as session:
        return list(session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id)).tasks)


def test_activity_back_above_the_threshold_creates_no_check_in(world):
    customer, row = started(world)
    day8 = row.won_at + timedelta(days=8)
    logins(world, customer, day8 - timedelta(days=2), 5)

    signals_tick(world.services, now=day8)
    assert check_ins(world, customer.deal_id) == []
    assert channel_messages(world, "Quiet customer") == []


def test_the_activity_api_refuses_a_bad_key_and_keeps_valid_events_of_a_partly_bad_batch(world):
    customer, _ = started(world)
    now = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    good = {"company_id": customer.company_id, "kind": "login", "user": "ana", "at": now}
    assert post_activity(world, [good], key=None).status_code == 401
    assert post_activity(world, [good], key="wrong").status_code == 401
    assert stored_events(world) == 0

    batch = [
        good,
        {"domain": "tinyshop.example", "kind": "click", "at": now},
        {**good, "user": "bob"},
        {"kind": "login", "at": now},
        {**good, "user": "eve", "at": now[:19]},  # no timezone
    ]
    answer = post_activity(world, batch)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 3, 4]
    assert "kind 'click'" in body["rejected"][0]["error"]
    assert stored_events(world) == 2
    again = post_activity(world, [good]).get_json()  # a client retrying the batch
    assert again == {"accepted": 0, "duplicates": 1} and stored_events(world) == 2

    world.services.settings.activity_api_key = None
    assert post_activity(world, [good]).status_code == 503


def test_customerio_webhooks_with_a_bad_signature_are_refused_and_change_nothing(world):
    customer, _ = started(world)
    event = cio_event(customer, "opened")
    assert post_cio(world, event, key="not-the-key").status_code == 401
    assert post_cio(world, event, timestamp=int(time.time()) - 3600).status_code == 401
    assert stored_events(world) == 0

    assert post_cio(world, event).get_json() == {"new": 1, "duplicates": 0, "rejected": []}
    assert post_cio(world, event).get_json() == {"new": 0, "duplicates": 1, "rejected": []}
    assert stored_events(world) == 1


def test_a_bounce_tells_the_csm_once(world):
    customer, row = started(world)
    bounce = cio_event(customer, "bounced", at=row.won_at + timedelta(hours=1))
    post_cio(world, bounce)
    post_cio(world, bounce)  # redelivered

    for hours in (2, 3):
        signals_tick(world.services, now=row.won_at + timedelta(hours=hours))
    notes = channel_messages(world, "bounced")
    assert len(notes) == 1
    assert "ops@tinyshop.example" in notes[0]["text"] and "550 5.1.1" in notes[0]["text"]


def test_no_opens_for_seven_days_and_an_overdue_customer_facing_task_mark_it_at_risk(world):
    quiet, quiet_row = started(world)
    engaged, engaged_row = started(world, name="Busy Shop")
    day9 = quiet_row.won_at + timedelta(days=9)  # the kickoff call (customer facing) is late
    post_cio(world, cio_event(engaged, "opened", at=day9 - timedelta(days=2)))
    for customer in (quiet, engaged):
        logins(world, customer, day9 - timedelta(days=1), 9)

    signals_tick(world.services, now=day9)
    assert onboarding(world, quiet.deal_id).health["at_risk"] is True
    assert onboarding(world, engaged.deal_id).health["at_risk"] is False
    assert (
        onboarding(world, quiet.deal_id).health_score
        < onboarding(world, engaged.deal_id).health_score
    )


def test_the_health_score_reaches_hubspot_and_is_rewritten_only_when_it_changes(world):
    customer, row = started(world)
    day1 = row.won_at + timedelta(days=1)
    logins(world, customer, day1, 6)
    signals_tick(world.services, now=day1)
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    company = world.box.hubspot.record("companies", customer.company_id)["properties"]
    assert deal["onboarding_health_score"] == company["onboarding_health_score"] == "100"

    writes = len(world.box.hubspot.calls("POST", "batch/update"))
    signals_tick(world.services, now=day1 + timedelta(minutes=5))
    assert len(world.box.hubspot.calls("POST", "batch/update")) == writes

    bounce = cio_event(customer, "bounced", at=day1 + timedelta(minutes=6))
    post_cio(world, bounce)
    signals_tick(world.services, now=day1 + timedelta(minutes=10))
    assert len(world.box.hubspot.calls("POST", "batch/update")) == writes + 2  # deal, company
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    assert deal["onboarding_health_score"] == "90"


def test_an_on_hold_onboarding_gets_nothing_until_the_admin_picks_another_status(world):
    customer, row = started(world)
    held = world.box.hubspot.update_as_user(
        "deals", customer.deal_id, {"onboarding_status": "on_hold"}
    )
    world.deliver(held)
    settle(world)
    assert onboarding(world, customer.deal_id).status == "on_hold"

    day8 = row.won_at + timedelta(days=8)
    post_cio(world, cio_event(customer, "bounced", at=day8 - timedelta(days=1)))
    signals_tick(world.services, now=day8)  # quiet, bounced, late: and yet nothing
    assert check_ins(world, customer.deal_id) == [] and channel_messages(world, "bounced") == []
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    assert deal["onboarding_status"] == "on_hold"  # the write-back leaves the admin's value

    world.deliver(
        world.box.hubspot.update_as_user("deals", customer.deal_id, {"onboarding_status": ""})
    )
    settle(world)
    resumed = onboarding(world, customer.deal_id)
    assert resumed.status == "active"
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    assert deal["onboarding_status"] == resumed.progress["status"] != "on_hold"  # written at once


def test_a_cancelled_onboarding_produces_nothing_further(world):
    customer, row = started(world)
    world.deliver(
        world.box.hubspot.update_as_user("deals", customer.deal_id, {"dealstage": "closedlost"})
    )
    settle(world)
    assert onboarding(world, customer.deal_id).status == "cancelled"

    day8 = row.won_at + timedelta(days=8)
    post_cio(world, cio_event(customer, "bounced", at=day8 - timedelta(days=1)))
    result = signals_tick(world.services, now=day8)
    assert result.onboardings == 0
    assert check_ins(world, customer.deal_id) == [] and channel_messages(world, "bounced") == []
