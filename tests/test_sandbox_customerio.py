"""The Customer.io emulator through the official SDK, and the reporting webhook sender."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from customerio import CustomerIO, CustomerIOException
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox import Sandbox
from sandbox.customerio_webhooks import EMAIL_METRICS, CustomerIOWebhookSender

FIXTURES = Path(__file__).parent / "fixtures" / "customerio"
SEGMENT = 7


def client(box: Sandbox, site_id: str = "sandbox-site", api_key: str = "sandbox-key"):
    """The SDK as the app builds it, pointed at the emulator (the SDK forces https)."""
    cio = CustomerIO(site_id, api_key)
    cio.base_url = box.url("customerio")
    return cio


@pytest.fixture
def cio(sandbox):
    sandbox.customerio.seed_segment(SEGMENT, "Onboarding")
    return client(sandbox)


def add_to_segment(cio, ids, segment=SEGMENT, id_type=None):
    query = f"?id_type={id_type}" if id_type else ""
    url = f"{cio.base_url}/segments/{segment}/add_customers{query}"
    return cio.send_request("POST", url, {"ids": ids})


def test_identify_then_read_back_attributes(sandbox, cio):
    signup = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    cio.identify("42", email="ana@acme.example", plan="gold", created_at=signup)
    cio.identify("42", plan="platinum", company={"name": "Acme"})
    person = sandbox.customerio.person("42")
    assert person["attributes"] == {
        "email": "ana@acme.example",
        "plan": "platinum",
        "created_at": 1700000000,
        "company": {"name": "Acme"},
    }
    assert person["created_at"] == 1700000000


def test_identify_by_email_path_updates_the_same_person(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    cio.identify("ana@acme.example", plan="gold")
    assert [p["id"] for p in sandbox.customerio.people()] == ["42"]
    assert sandbox.customerio.person("42")["attributes"]["plan"] == "gold"


def test_event_with_the_same_id_twice_is_one_event(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    for _ in range(2):
        cio.track("42", "onboarding_started", data={"project": "p1"}, id="01HSANDBOX", timestamp=1)
    [event] = sandbox.customerio.events(customer_id="42", name="onboarding_started")
    assert (event["data"], event["timestamp"]) == ({"project": "p1"}, 1)


def test_events_without_id_are_all_kept_and_stamped_by_the_clock():
    with Sandbox(start=datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) as box:
        cio = client(box)
        cio.track("42", "reminder_sent")
        cio.track("42", "reminder_sent")
        events = box.customerio.events("42")
    assert [e["timestamp"] for e in events] == [1700000000, 1700000000]


def test_event_without_a_name_is_refused_with_400(cio):
    with pytest.raises(CustomerIOException, match="^400"):
        cio.track("42", None)


def test_anonymous_event_is_recorded_without_a_person(sandbox, cio):
    cio.track_anonymous("anon-1", "pricing_viewed", data={"plan": "gold"})
    [event] = sandbox.customerio.events(name="pricing_viewed")
    assert (event["anonymous_id"], event.get("customer_id")) == ("anon-1", None)
    assert sandbox.customerio.people() == []


def test_add_customers_adds_identified_ids_once_even_if_sent_twice(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    cio.identify("43", email="ben@acme.example")
    add_to_segment(cio, ["42", "43", "99"])
    add_to_segment(cio, ["42", "43"])
    emulator = sandbox.customerio
    assert emulator.segment_members(SEGMENT) == ["42", "43"]
    assert emulator.segment_adds(SEGMENT) == 2
    assert emulator.segment_ignored(SEGMENT) == ["99"]


def test_add_customers_by_email_and_remove_them(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    add_to_segment(cio, ["ANA@acme.example"], id_type="email")
    assert sandbox.customerio.segment_members(SEGMENT) == ["42"]
    url = f"{cio.base_url}/segments/{SEGMENT}/remove_customers"
    cio.send_request("POST", url, {"ids": ["42"]})
    assert sandbox.customerio.segment_members(SEGMENT) == []


def test_unknown_segment_is_404(cio):
    with pytest.raises(CustomerIOException, match="^404"):
        add_to_segment(cio, ["42"], segment=999)


def test_more_than_1000_ids_is_400(cio):
    with pytest.raises(CustomerIOException, match="^400.*1000"):
        add_to_segment(cio, [str(n) for n in range(1001)])


def test_bad_credentials_get_401(sandbox, cio):
    with pytest.raises(CustomerIOException, match="^401"):
        client(sandbox, api_key="wrong").identify("42", email="ana@acme.example")
    sandbox.customerio.set_credentials("site-2", "key-2")
    with pytest.raises(CustomerIOException, match="^401"):
        cio.identify("42")
    client(sandbox, "site-2", "key-2").identify("42")
    assert sandbox.customerio.person("42") is not None


def test_delete_forgets_the_person_and_their_segment_membership(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    add_to_segment(cio, ["42"])
    cio.delete("42")
    assert sandbox.customerio.person("42") is None
    assert sandbox.customerio.segment_members(SEGMENT) == []


def test_suppress_and_unsuppress(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    cio.suppress("42")
    assert sandbox.customerio.person("42")["suppressed"] is True
    cio.unsuppress("42")
    assert sandbox.customerio.person("42")["suppressed"] is False


def test_over_the_per_second_limit_is_429_without_retry_after():
    with Sandbox(rate_scale=0.03) as box:  # 3 requests a second
        cio = client(box)
        for n in range(3):
            cio.identify(str(n))
        with pytest.raises(CustomerIOException, match="^429"):
            cio.identify("4")
        raw = requests.put(
            f"{box.url('customerio')}/customers/5", json={}, auth=("sandbox-site", "sandbox-key")
        )
    assert raw.status_code == 429
    assert "Retry-After" not in raw.headers


def test_an_injected_rate_limit_sends_retry_after_only_when_asked(sandbox, cio):
    sandbox.customerio.faults.add("rate_limit", calls=1, retry_after=3)
    sandbox.customerio.faults.add("rate_limit", calls=1, retry_after=0)
    url = f"{cio.base_url}/customers/42"
    first = cio.http.put(url, json={}, timeout=5)
    second = cio.http.put(url, json={}, timeout=5)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert second.status_code == 429 and "Retry-After" not in second.headers


def test_snapshot_shows_people_segments_and_events(sandbox, cio):
    cio.identify("42", email="ana@acme.example")
    add_to_segment(cio, ["42"])
    cio.track("42", "onboarding_started")
    state = sandbox.customerio.snapshot()
    assert state["people"][0]["attributes"] == {"email": "ana@acme.example"}
    assert state["segments"][0]["members"] == ["42"]
    assert state["events"][0]["name"] == "onboarding_started"


# ----- reporting webhooks -----------------------------------------------------------------
@pytest.fixture
def receiver():
    """A real local endpoint that keeps what it was sent."""
    received: list[Request] = []

    def app(environ, start_response):
        request = Request(environ)
        request.get_data()
        received.append(request)
        return Response("", 200)(environ, start_response)

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/webhooks/customerio", received
    server.shutdown()


def test_webhook_signature_verifies_with_an_independent_hmac(receiver):
    url, received = receiver
    sender = CustomerIOWebhookSender(url, "whsec-sandbox")
    assert sender.send("delivered", "42", "ana@acme.example").status_code == 200
    [request] = received
    timestamp = request.headers["X-CIO-Timestamp"]
    expected = hmac.new(
        b"whsec-sandbox", f"v0:{timestamp}:".encode() + request.get_data(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["X-CIO-Signature"], expected)
    assert json.loads(request.get_data())["data"]["customer_id"] == "42"


@pytest.mark.parametrize("metric", EMAIL_METRICS)
def test_webhook_bodies_have_the_shape_of_the_real_ones(metric):
    real = json.loads((FIXTURES / f"email_{metric}.json").read_text())
    sent = CustomerIOWebhookSender("http://unused", "k").payload(metric, "42", "a@b.com")
    assert set(sent) == set(real)
    assert set(sent["data"]) == set(real["data"])
    assert (sent["metric"], sent["object_type"], len(sent["event_id"])) == (metric, "email", 26)
