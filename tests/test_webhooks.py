"""POST /webhooks/hubspot: only HubSpot's signed, fresh requests are stored; nothing else runs."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from sync.store.models import InboxEvent
from web.signatures import verify_hubspot_signature

VECTOR_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
VECTOR_BODY = b"{'example_field':'example_value'}"
VECTOR_URI = "https://www.example.com/webhook_uri"


def inbox_rows(world):
    with world.services.store.session() as session:
        return session.query(InboxEvent).order_by(InboxEvent.id).all()


def signed_request(world, events, uri="http://localhost/webhooks/hubspot", ts=None, **sign):
    body = json.dumps(events).encode()
    ts = int(time.time() * 1000) if ts is None else ts
    return body, world.sender.sign("POST", uri, body, ts)


# ----- the reference's test vectors, through our verifier --------------------------------


def test_reference_v3_vector_verifies():
    headers = {
        "X-HubSpot-Signature-v3": "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
        "X-HubSpot-Request-Timestamp": "1693657560000",
    }
    version = verify_hubspot_signature(
        client_secret=VECTOR_SECRET,
        method="POST",
        uri=VECTOR_URI,
        body=VECTOR_BODY,
        headers=headers,
        now=1693657560.0 + 10,
    )
    assert version == "v3"


@pytest.mark.parametrize(
    ("version", "signature"),
    [
        ("v1", "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"),
        ("v2", "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"),
    ],
)
def test_reference_v1_and_v2_vectors_verify(version, signature):
    headers = {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version}
    assert (
        verify_hubspot_signature(
            client_secret=VECTOR_SECRET,
            method="POST",
            uri=VECTOR_URI,
            body=VECTOR_BODY,
            headers=headers,
        )
        == version
    )


def test_reference_docs_v1_vector_verifies():
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    headers = {
        "X-HubSpot-Signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
        "X-HubSpot-Signature-Version": "v1",
    }
    assert (
        verify_hubspot_signature(
            client_secret=VECTOR_SECRET, method="POST", uri="https://x", body=body, headers=headers
        )
        == "v1"
    )


def test_v3_signature_is_independent_hmac_of_method_uri_body_timestamp():
    # Written from the reference, not from the SDK: base64(HMAC-SHA256(secret, source)).
    source = b"POST" + VECTOR_URI.encode() + VECTOR_BODY + b"1693657560000"
    expected = base64.b64encode(
        hmac.new(VECTOR_SECRET.encode(), source, hashlib.sha256).digest()
    ).decode()
    assert expected == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_escaped_characters_in_the_uri_are_decoded_before_checking():
    ts = "1693657560000"
    uri = "https://www.example.com/webhook_uri?a=b%3Ac"
    source = f"POST{uri.replace('%3A', ':')}{VECTOR_BODY.decode()}{ts}".encode()
    sig = base64.b64encode(hmac.new(VECTOR_SECRET.encode(), source, hashlib.sha256).digest())
    headers = {"X-HubSpot-Signature-v3": sig.decode(), "X-HubSpot-Request-Timestamp": ts}
    verify_hubspot_signature(
        client_secret=VECTOR_SECRET,
        method="POST",
        uri=uri,
        body=VECTOR_BODY,
        headers=headers,
        now=1693657560.0,
    )


# ----- the route ---------------------------------------------------------------------------


def test_valid_v3_batch_is_stored_and_answered_at_once(world):
    events = [world.won("101"), world.sender.event("deal.creation", "102")]
    body, headers = signed_request(world, events)
    calls_before = {name: len(emu.calls()) for name, emu in world.box.emulators.items()}
    answer = world.app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json() == {"new": 2, "duplicates": 0, "malformed": 0}
    assert [r.kind for r in inbox_rows(world)] == ["deal.propertyChange", "deal.creation"]
    # Nothing but storing happens in the request: no service was called.
    assert {name: len(emu.calls()) for name, emu in world.box.emulators.items()} == calls_before


def test_v1_only_delivery_is_accepted(world):
    body, headers = signed_request(world, [world.won("101")])
    for name in ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"):
        headers.pop(name)
    answer = world.app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
    assert answer.status_code == 200


@pytest.mark.parametrize("tamper", ["body", "uri", "timestamp"])
def test_one_changed_byte_is_refused_and_nothing_is_stored(world, tamper):
    body, headers = signed_request(world, [world.won("101")])
    path = "/webhooks/hubspot"
    if tamper == "body":
        body = body.replace(b"101", b"102")
    elif tamper == "uri":
        path = "/webhooks/hubspoT"
    else:
        headers["X-HubSpot-Request-Timestamp"] = str(
            int(headers["X-HubSpot-Request-Timestamp"]) + 1
        )
    world.app.add_url_rule(
        "/webhooks/hubspoT",
        view_func=world.app.view_functions["webhooks.hubspot"],
        methods=["POST"],
    )
    answer = world.app.test_client().post(path, data=body, headers=headers)
    assert answer.status_code == 401
    assert inbox_rows(world) == []


def test_timestamp_older_than_five_minutes_is_refused(world):
    stale = int((time.time() - 301) * 1000)
    body, headers = signed_request(world, [world.won("101")], ts=stale)
    answer = world.app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
    assert answer.status_code == 401
    assert inbox_rows(world) == []


def test_unsigned_request_is_refused(world):
    answer = world.app.test_client().post("/webhooks/hubspot", json=[world.won("101")])
    assert answer.status_code == 401


def test_behind_a_proxy_the_public_url_is_what_was_signed(sandbox, tmp_path):
    from tests.conftest import make_world

    world = make_world(sandbox, tmp_path, public_base_url="https://onboarding.example.com")
    body, headers = signed_request(
        world, [world.won("101")], uri="https://onboarding.example.com/webhooks/hubspot"
    )
    answer = world.app.test_client().post(
        "/webhooks/hubspot", data=body, headers=headers, base_url="http://10.0.0.5:8000"
    )
    assert answer.status_code == 200


def test_malformed_json_is_400_and_kept_for_a_person(world):
    body = b'[{"eventId": 1,'
    headers = world.sender.sign(
        "POST", "http://localhost/webhooks/hubspot", body, int(time.time() * 1000)
    )
    answer = world.app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
    assert answer.status_code == 400
    rows = inbox_rows(world)
    assert [(r.status, r.payload) for r in rows] == [("malformed", body.decode())]


def test_malformed_event_in_a_batch_is_kept_and_the_rest_stored(world):
    events = [world.won("101"), {"subscriptionType": "deal.creation"}]
    answer = world.deliver(events)
    assert answer.get_json() == {"new": 2, "duplicates": 0, "malformed": 1}
    assert sorted(r.status for r in inbox_rows(world)) == ["malformed", "pending"]


def test_redelivered_events_are_counted_not_stored_twice(world):
    events = [world.won("101")]
    world.deliver(events)
    answer = world.deliver(events, attempt=1)
    assert answer.get_json() == {"new": 0, "duplicates": 1, "malformed": 0}
    (row,) = inbox_rows(world)
    assert row.deliveries == 2


def test_with_v3_required_a_v1_only_delivery_is_refused_and_v3_still_accepted(sandbox, tmp_path):
    from tests.conftest import make_world

    world = make_world(sandbox, tmp_path, require_hubspot_v3_signatures=True)
    body, headers = signed_request(world, [world.won("101")])
    legacy = {k: v for k, v in headers.items() if "v3" not in k and "Timestamp" not in k}
    refused = world.app.test_client().post("/webhooks/hubspot", data=body, headers=legacy)
    assert refused.status_code == 401
    assert "REQUIRE_HUBSPOT_V3_SIGNATURES" in refused.get_json()["error"]
    assert inbox_rows(world) == []
    answer = world.app.test_client().post("/webhooks/hubspot", data=body, headers=headers)
    assert answer.status_code == 200
