"""HubSpot's webhook deliveries as the sandbox sends them: fields, signatures, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import pytest
from hubspot.utils.signature import Signature
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox import Sandbox
from sandbox.hubspot.webhooks import HubSpotWebhookSender

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
VECTOR_URI = "https://www.example.com/webhook_uri"
VECTOR_BODY = b"{'example_field':'example_value'}"


def fixture(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def independent_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The reference's v3 steps, written apart from the sender and from the SDK."""
    for escape, char in {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
                         "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",",
                         "%3B": ";"}.items():  # fmt: skip
        uri = uri.replace(escape, char)
    source = f"{method}{uri}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


class Receiver:
    """A tiny endpoint that records what it is sent and answers the statuses it is told to."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[dict] = []
        self.arrived = threading.Event()
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hubspot/webhook"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(
            {"url": request.url, "headers": dict(request.headers), "body": request.get_data()}
        )
        status = self.statuses.pop(0) if self.statuses else 204
        if 200 <= status < 300:
            self.arrived.set()
        return Response(status=status)(environ, start_response)

    def events(self, index: int = -1) -> list[dict]:
        return json.loads(self.requests[index]["body"])

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def sender(receiver):
    return HubSpotWebhookSender(receiver.url, SECRET)


def now_ms() -> int:
    return int(time.time() * 1000)


# ----- signatures ----------------------------------------------------------------------
def test_v3_signature_matches_the_sdk_and_an_independent_implementation(sender):
    body = json.dumps(fixture("deal_batch_mixed"))
    stamp = now_ms()
    headers = sender.sign("POST", sender.target_url, body.encode(), stamp)
    signature = headers["X-HubSpot-Signature-v3"]
    assert Signature.is_valid(
        signature, SECRET, body, http_uri=sender.target_url, signature_version="v3",
        timestamp=headers["X-HubSpot-Request-Timestamp"],
    )  # fmt: skip
    assert signature == independent_v3(SECRET, "POST", sender.target_url, body.encode(), str(stamp))


def test_reference_test_vectors_pass_with_the_senders_sign():
    v1 = HubSpotWebhookSender(VECTOR_URI, SECRET)
    v2 = HubSpotWebhookSender(VECTOR_URI, SECRET, signature_version="v2")
    signed = v1.sign("POST", VECTOR_URI, VECTOR_BODY, 1693657560000)
    assert signed["X-HubSpot-Signature-v3"] == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    assert signed["X-HubSpot-Signature"] == (
        "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    )
    assert v2.sign("POST", VECTOR_URI, VECTOR_BODY, 0)["X-HubSpot-Signature"] == (
        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    )
    assert v2.sign("GET", VECTOR_URI, b"", 0)["X-HubSpot-Signature"] == (
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )
    docs_body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    assert v1.sign("POST", VECTOR_URI, docs_body, 0)["X-HubSpot-Signature"] == (
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    )


def test_signature_uri_decodes_only_the_listed_escapes():
    url = "https://hooks.example.com/in?next=a%3Ab%2Fc&name=x%20y"
    headers = HubSpotWebhookSender(url, SECRET).sign("POST", url, b"[]", 1693657560000)
    decoded = "https://hooks.example.com/in?next=a:b/c&name=x%20y"
    assert headers["X-HubSpot-Signature-v3"] == independent_v3(
        SECRET, "POST", decoded, b"[]", "1693657560000"
    )


def test_deliveries_carry_every_header(sender, receiver):
    sender.deliver([sender.event("deal.creation", 1)])
    headers = receiver.requests[0]["headers"]
    assert headers["User-Agent"] == "HubSpot Connect 2.0 (http://dev.hubspot.com/)"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hubspot-Signature-Version"] == "v1"
    assert abs(int(headers["X-Hubspot-Request-Timestamp"]) - now_ms()) < 60_000
    assert (
        headers["X-Hubspot-Signature"]
        == hashlib.sha256(SECRET.encode() + receiver.requests[0]["body"]).hexdigest()
    )


def test_older_deliveries_can_leave_out_v3(receiver):
    HubSpotWebhookSender(receiver.url, SECRET, send_v3=False).deliver([])
    assert "X-Hubspot-Signature-V3" not in receiver.requests[0]["headers"]


# ----- events --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind",
    ["deal_propertychange_dealstage", "deal_creation", "deal_deletion",
     "deal_associationchange", "deal_merge"],
)  # fmt: skip
def test_events_carry_every_field_of_the_real_payload(sender, kind):
    real = fixture(kind)[0]
    common = {"eventId", "subscriptionId", "portalId", "appId", "occurredAt",
              "subscriptionType", "attemptNumber", "objectId", "changeSource", "sourceId",
              "propertyName", "propertyValue", "changeFlag"}  # fmt: skip
    extra = {k: v for k, v in real.items() if k not in common}
    built = sender.event(
        real["subscriptionType"], real["objectId"], property_name=real.get("propertyName"),
        property_value=real.get("propertyValue"), **extra,
    )  # fmt: skip
    assert set(built) == set(real)
    assert {k: type(v) for k, v in built.items()} == {k: type(v) for k, v in real.items()}


def test_event_ids_rise_and_subscription_ids_stay_stable(sender):
    first = sender.event("deal.propertyChange", 7, property_name="dealstage", property_value="x")
    second = sender.event("deal.propertyChange", 8, property_name="dealstage", property_value="y")
    amount = sender.event("deal.propertyChange", 8, property_name="amount", property_value="1")
    assert second["eventId"] > first["eventId"] > 10**9
    assert first["subscriptionId"] == second["subscriptionId"] != amount["subscriptionId"]
    assert first["sourceId"].startswith("userId:")


def test_redelivery_increments_attempt_number(sender, receiver):
    events = [sender.event("deal.creation", 1), sender.event("deal.creation", 2)]
    sender.deliver(events)
    sender.redeliver(receiver.events())
    assert [e["attemptNumber"] for e in receiver.events(0)] == [0, 0]
    assert [e["attemptNumber"] for e in receiver.events(1)] == [1, 1]
    assert [d["attempt"] for d in sender.deliveries] == [0, 1]


def test_shuffle_changes_order_but_not_content(sender, receiver):
    events = [sender.event("deal.creation", n) for n in range(1, 21)]
    sender.deliver(events, shuffle=True)
    delivered = receiver.events()
    assert [e["objectId"] for e in delivered] != [e["objectId"] for e in events]
    assert sorted(delivered, key=lambda e: e["eventId"]) == events


def test_more_than_a_hundred_events_is_refused(sender):
    with pytest.raises(ValueError):
        sender.deliver([sender.event("deal.creation", n) for n in range(1, 102)])


# ----- the emulator sends them ---------------------------------------------------------
@pytest.fixture
def crm():
    with Sandbox() as box:
        box.hubspot.webhook_retry_delay = 0.05
        yield box.hubspot


def test_update_as_user_delivers_a_signed_dealstage_change(crm, receiver):
    deal = crm.seed_deal({"dealname": "Acme", "dealstage": "contractsent"})
    crm.configure_webhooks(receiver.url, SECRET)
    emitted = crm.update_as_user("deals", deal["id"], {"dealstage": "closedwon", "amount": "10"})
    crm.wait_for_webhooks()
    assert [e["propertyName"] for e in emitted] == ["dealstage", "amount"]
    assert {e["changeSource"] for e in emitted} == {"CRM_UI"}
    [sent] = receiver.requests
    [event] = json.loads(sent["body"])  # amount is not subscribed to
    assert (event["propertyName"], event["propertyValue"]) == ("dealstage", "closedwon")
    assert event["objectId"] == int(deal["id"])
    assert Signature.is_valid(
        sent["headers"]["X-Hubspot-Signature-V3"], SECRET, sent["body"].decode(),
        http_uri=sent["url"], signature_version="v3",
        timestamp=sent["headers"]["X-Hubspot-Request-Timestamp"],
    )  # fmt: skip
    stored = crm.record("deals", deal["id"])["properties"]
    assert stored["hs_date_entered_closedwon"] and stored["hs_is_closed_won"] == "true"


def test_failing_receiver_is_retried_with_rising_attempt_numbers(crm, receiver):
    receiver.statuses = [500, 503, 200]
    deal = crm.seed_deal({"dealname": "Acme", "dealstage": "contractsent"})
    crm.configure_webhooks(receiver.url, SECRET)
    crm.update_as_user("deal", deal["id"], {"dealstage": "closedwon"})
    deliveries = crm.wait_for_webhooks()
    assert [json.loads(r["body"])[0]["attemptNumber"] for r in receiver.requests] == [0, 1, 2]
    assert [d["status"] for d in deliveries] == [500, 503, 200]
    assert len({json.loads(r["body"])[0]["eventId"] for r in receiver.requests}) == 1
    assert [d["status"] for d in crm.snapshot()["webhooks"]["deliveries"]] == [500, 503, 200]


def test_delete_as_user_delivers_a_deletion(crm, receiver):
    deal = crm.seed_deal({"dealname": "Gone"})
    crm.configure_webhooks(receiver.url, SECRET, subscriptions=["deal.deletion"])
    crm.delete_as_user("0-3", deal["id"])
    crm.wait_for_webhooks()
    assert [e["subscriptionType"] for e in receiver.events()] == ["deal.deletion"]
    assert crm.records("deals") == [] and crm.records("deals", archived=True)
