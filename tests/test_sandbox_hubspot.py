"""The HubSpot emulator answers every call the product makes, through the official SDK."""

from __future__ import annotations

import json
import time

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompanyApiException
from hubspot.crm.deals import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)
from hubspot.crm.deals.exceptions import (
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from hubspot.crm.objects.tasks import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate
from urllib3.util.retry import Retry

from sandbox import Sandbox


@pytest.fixture
def client(sandbox):
    return HubSpot(access_token="pat-sandbox", host=sandbox.url("hubspot"))


@pytest.fixture
def won_deal(sandbox):
    """An Acme deal with its company and two contacts, owned by Ada."""
    hs = sandbox.hubspot
    owner = hs.seed_owner("ada@example.com", "Ada", "Lee", teams=["EMEA"])
    acme = hs.seed_company({"name": "Acme", "domain": "acme.test", "country": "France"})
    other = hs.seed_company({"name": "Acme Holding"})
    bob = hs.seed_contact({"email": "bob@acme.test", "firstname": "Bob", "hs_language": "fr"})
    eve = hs.seed_contact({"email": "eve@acme.test", "firstname": "Eve"})
    deal = hs.seed_deal(
        {"dealname": "Acme renewal", "amount": "5000", "dealstage": "closedwon",
         "hubspot_owner_id": owner["id"]},
        company_ids=[acme["id"], other["id"]],
        contact_ids=[bob["id"], eve["id"]],
    )  # fmt: skip
    return {"deal": deal, "owner": owner, "companies": [acme, other], "contacts": [bob, eve]}


def body_of(exc: Exception) -> dict:
    return json.loads(exc.body)


# ----- reads ---------------------------------------------------------------------------
def test_deal_get_returns_requested_properties_and_associations(client, won_deal):
    deal = client.crm.deals.basic_api.get_by_id(
        won_deal["deal"]["id"],
        properties=["dealname", "amount", "dealstage", "pipeline", "hubspot_owner_id", "nope"],
        associations=["companies", "contacts"],
    )
    assert deal.properties["dealname"] == "Acme renewal"
    assert deal.properties["pipeline"] == "default"
    assert deal.properties["hs_object_id"] == deal.id
    assert "nope" not in deal.properties
    assert deal.created_at.tzinfo is not None
    companies = deal.associations["companies"].results
    assert {c.type for c in companies} == {"deal_to_company", "deal_to_company_unlabeled"}
    assert list(dict.fromkeys(c.id for c in companies)) == [c["id"] for c in won_deal["companies"]]
    assert [c.type for c in deal.associations["contacts"].results] == ["deal_to_contact"] * 2


def test_deal_get_accepts_comma_lists_and_type_ids(sandbox, won_deal):
    response = requests.get(
        f"{sandbox.url('hubspot')}/crm/v3/objects/0-3/{won_deal['deal']['id']}",
        params={"properties": "dealname,amount", "associations": "contacts"},
        headers={"Authorization": "Bearer pat-sandbox"},
    )
    body = response.json()
    assert set(body["properties"]) == {
        "dealname", "amount", "hs_object_id", "createdate", "hs_lastmodifieddate"
    }  # fmt: skip
    assert list(body["associations"]) == ["contacts"]


def test_deal_without_associations_has_no_associations_key(client, sandbox):
    deal = sandbox.hubspot.seed_deal({"dealname": "Lonely"})
    got = client.crm.deals.basic_api.get_by_id(deal["id"], associations=["companies"])
    assert got.associations is None
    assert got.properties["dealstage"] is None


def test_company_and_contact_get(client, won_deal):
    company = client.crm.companies.basic_api.get_by_id(
        won_deal["companies"][0]["id"], properties=["name", "domain", "country"]
    )
    contact = client.crm.contacts.basic_api.get_by_id(
        won_deal["contacts"][0]["id"], properties=["email", "hs_language"]
    )
    assert company.properties["domain"] == "acme.test"
    assert contact.properties["hs_language"] == "fr"


def test_owner_get_by_id_and_by_user_id_and_list_by_email(client, won_deal):
    owner = won_deal["owner"]
    by_id = client.crm.owners.owners_api.get_by_id(owner_id=int(owner["id"]), id_property="id")
    by_user = client.crm.owners.owners_api.get_by_id(owner_id=owner["userId"], id_property="userId")
    page = client.crm.owners.owners_api.get_page(email="ada@example.com")
    assert by_id.email == by_user.email == "ada@example.com"
    assert by_id.teams[0].name == "EMEA"
    assert [o.id for o in page.results] == [owner["id"]]


def test_owner_list_pages_with_after(client, sandbox):
    for n in range(3):
        sandbox.hubspot.seed_owner(f"rep{n}@example.com", "Rep", str(n))
    first = client.crm.owners.owners_api.get_page(limit=2)
    second = client.crm.owners.owners_api.get_page(limit=2, after=first.paging.next.after)
    assert len(first.results) == 2 and len(second.results) == 1
    assert second.paging is None


def test_batch_read_returns_200_or_207_naming_missing_ids(client, won_deal):
    ids = [c["id"] for c in won_deal["companies"]]
    batch = client.crm.companies.batch_api
    from hubspot.crm.companies import BatchReadInputSimplePublicObjectId as CompanyRead
    from hubspot.crm.companies import SimplePublicObjectId as CompanyId

    def read(wanted):
        return batch.read(
            batch_read_input_simple_public_object_id=CompanyRead(
                inputs=[CompanyId(id=i) for i in wanted], properties=["name"],
                properties_with_history=[],
            )
        )  # fmt: skip

    complete = read(ids)
    partial = read([*ids, "999999"])
    assert sorted(r.properties["name"] for r in complete.results) == ["Acme", "Acme Holding"]
    assert partial.num_errors == 1
    assert partial.errors[0].context == {"ids": ["999999"]}
    assert partial.errors[0].category == "OBJECT_NOT_FOUND"


def test_batch_read_over_100_inputs_is_refused(client):
    read = BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=str(i)) for i in range(101)],
        properties=[],
        properties_with_history=[],
    )
    with pytest.raises(ApiException) as caught:
        client.crm.deals.batch_api.read(batch_read_input_simple_public_object_id=read)
    assert caught.value.status == 400
    assert body_of(caught.value)["category"] == "VALIDATION_ERROR"


# ----- writes --------------------------------------------------------------------------
def test_batch_update_writes_properties_and_reports_missing_ids(client, sandbox, won_deal):
    deal_id = won_deal["deal"]["id"]

    def update(*ids):
        inputs = [SimplePublicObjectBatchInput(id=i, properties={"amount": "7000"}) for i in ids]
        return client.crm.deals.batch_api.update(
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=inputs
            )
        )

    assert update(deal_id).results[0].properties["amount"] == "7000"
    partial = update(deal_id, "424242")
    assert partial.num_errors == 1 and partial.errors[0].context == {"ids": ["424242"]}
    assert sandbox.hubspot.record("deals", deal_id)["properties"]["amount"] == "7000"


def test_update_with_unknown_property_fails_whole_batch_naming_it(client, sandbox, won_deal):
    deal_id = won_deal["deal"]["id"]
    inputs = [
        SimplePublicObjectBatchInput(id=deal_id, properties={"amount": "1"}),
        SimplePublicObjectBatchInput(id=deal_id, properties={"myapp_score": "42"}),
    ]
    with pytest.raises(ApiException) as caught:
        client.crm.deals.batch_api.update(
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=inputs
            )
        )
    body = body_of(caught.value)
    assert caught.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert body["errors"][0]["in"] == "myapp_score"
    assert "myapp_score" in body["message"]
    assert sandbox.hubspot.record("deals", deal_id)["properties"]["amount"] == "5000"


def test_update_with_value_outside_the_options_is_invalid_option(client, sandbox):
    deal = sandbox.hubspot.seed_deal({"dealname": "X"})
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.update(
            deal["id"], simple_public_object_input=SimplePublicObjectInput(
                properties={"dealstage": "signed"}
            )
        )  # fmt: skip
    assert body_of(caught.value)["errors"][0]["code"] == "INVALID_OPTION"


def test_single_update_patches_and_records_stage_entry(client, sandbox, won_deal):
    deal_id = won_deal["deal"]["id"]
    sandbox.hubspot.seed_pipeline("77", "Renewals", [{"id": "88", "label": "Signed"}])
    updated = client.crm.deals.basic_api.update(
        deal_id,
        simple_public_object_input=SimplePublicObjectInput(
            properties={"dealstage": "88", "pipeline": "77", "closedate": "1732300000000"}
        ),
    )
    assert updated.properties["closedate"] == "2024-11-22T18:26:40.000Z"
    stored = sandbox.hubspot.record("deals", deal_id)["properties"]
    assert stored["hs_date_entered_88"].endswith("Z")
    assert stored["hs_is_closed_won"] == "false"


def test_task_create_with_deal_association(client, sandbox, won_deal):
    deal_id = won_deal["deal"]["id"]
    task = client.crm.objects.tasks.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={
                "hs_timestamp": "2024-11-29T09:00:00.000Z",
                "hs_task_subject": "Kick-off call",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_task_type": "TODO",
            },
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=deal_id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=216
                        )
                    ],
                )
            ],
        )
    )
    assert task.properties["hs_task_subject"] == "Kick-off call"
    deal = client.crm.deals.basic_api.get_by_id(deal_id, associations=["tasks"])
    assert [(a.id, a.type) for a in deal.associations["tasks"].results] == [
        (task.id, "deal_to_task")
    ]


def test_task_without_due_date_is_refused(client):
    with pytest.raises(Exception) as caught:
        client.crm.objects.tasks.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"hs_task_subject": "No date"}
            )
        )
    assert caught.value.status == 400
    assert body_of(caught.value)["errors"][0]["in"] == "hs_timestamp"


def test_property_group_and_property_create_then_409(client):
    props = client.crm.properties
    group = props.groups_api.create(
        object_type="deals",
        property_group_create=PropertyGroupCreate(name="myapp", label="My App", display_order=-1),
    )
    spec = PropertyCreate(
        name="myapp_risk_level", label="Risk level", type="enumeration", field_type="select",
        group_name="myapp",
        options=[OptionInput(label="Low", value="low", display_order=0, hidden=False)],
    )  # fmt: skip
    created = props.core_api.create(object_type="deals", property_create=spec)
    assert group.name == "myapp" and created.options[0].value == "low"
    assert props.core_api.get_by_name("deals", "myapp_risk_level").group_name == "myapp"
    assert "myapp_risk_level" in {p.name for p in props.core_api.get_all("deals").results}
    with pytest.raises(PropertiesApiException) as caught:
        props.core_api.create(object_type="deals", property_create=spec)
    assert caught.value.status == 409
    assert body_of(caught.value)["category"] == "OBJECT_ALREADY_EXISTS"
    with pytest.raises(PropertiesApiException) as again:
        props.groups_api.create(
            object_type="deals",
            property_group_create=PropertyGroupCreate(name="myapp", label="My App"),
        )
    assert again.value.status == 409


def test_created_enumeration_property_validates_writes(client, sandbox, won_deal):
    client.crm.properties.core_api.create(
        object_type="deals",
        property_create=PropertyCreate(
            name="myapp_risk", label="Risk", type="enumeration", field_type="select",
            group_name="dealinformation",
            options=[OptionInput(label="Low", value="low", display_order=0, hidden=False)],
        ),
    )  # fmt: skip
    deal_id = won_deal["deal"]["id"]
    ok = client.crm.deals.basic_api.update(
        deal_id,
        simple_public_object_input=SimplePublicObjectInput(properties={"myapp_risk": "low"}),
    )
    assert ok.properties["myapp_risk"] == "low"
    with pytest.raises(ApiException):
        client.crm.deals.basic_api.update(
            deal_id,
            simple_public_object_input=SimplePublicObjectInput(properties={"myapp_risk": "high"}),
        )


def test_missing_property_is_404(client):
    with pytest.raises(PropertiesApiException) as caught:
        client.crm.properties.core_api.get_by_name("deals", "myapp_nothing")
    assert caught.value.status == 404


def test_pipelines_list_default_and_seeded_stages(client, sandbox):
    sandbox.hubspot.seed_pipeline(
        "1234", "Renewals",
        [{"id": "5678", "label": "Won", "metadata": {"isClosed": "true", "probability": 1.0}}],
    )  # fmt: skip
    pipelines = client.crm.pipelines.pipelines_api.get_all(object_type="deals").results
    default = next(p for p in pipelines if p.id == "default")
    won = {s.id: s.metadata for s in default.stages}
    assert won["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert won["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    one = client.crm.pipelines.pipelines_api.get_by_id(object_type="deals", pipeline_id="1234")
    assert one.stages[0].metadata == {"isClosed": "true", "probability": "1.0"}


# ----- search --------------------------------------------------------------------------
def search(client, filters=(), **kwargs):
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": list(group)} for group in filters], **kwargs
    )
    return client.crm.deals.search_api.do_search(public_object_search_request=request)


def test_search_filters_or_of_groups_and_within_and_pages(sandbox):
    box = Sandbox(rate_scale=10).start()  # 40 searches a second: paging without 429s
    try:
        client = HubSpot(access_token="pat-sandbox", host=box.url("hubspot"))
        for n in range(5):
            box.hubspot.seed_deal(
                {"dealname": f"Deal {n}", "amount": str(n * 100),
                 "dealstage": "closedwon" if n % 2 else "qualifiedtobuy",
                 "closedate": f"2024-11-0{n + 1}T00:00:00.000Z"}
            )  # fmt: skip
        won = search(
            client, [[{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]]
        )
        assert sorted(d.properties["dealname"] for d in won.results) == ["Deal 1", "Deal 3"]
        either = search(
            client,
            [
                [{"propertyName": "amount", "operator": "GTE", "value": "300"},
                 {"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"}],
                [{"propertyName": "amount", "operator": "BETWEEN", "value": "0",
                  "highValue": "100"}],
            ],
            properties=["amount"],
        )  # fmt: skip
        assert sorted(d.properties["amount"] for d in either.results) == ["0", "100", "400"]
        after_nov_3 = search(
            client,
            [[{"propertyName": "closedate", "operator": "GT", "value": "1730592000000"}]],
            sorts=["-closedate"],
        )
        assert [d.properties["dealname"] for d in after_nov_3.results] == ["Deal 4", "Deal 3"]
        first = search(client, sorts=["amount"], limit=2)
        second = search(client, sorts=["amount"], limit=2, after=first.paging.next.after)
        assert first.total == 5
        assert [d.properties["amount"] for d in second.results] == ["200", "300"]
        listed = search(
            client, [[{"propertyName": "dealstage", "operator": "IN", "values": ["closedwon"]},
                      {"propertyName": "amount", "operator": "HAS_PROPERTY"}]]
        )  # fmt: skip
        assert listed.total == 2
    finally:
        box.stop()


def test_search_beyond_ten_thousand_results_is_refused(client):
    with pytest.raises(ApiException) as caught:
        search(client, limit=100, after="10000")
    assert caught.value.status == 400
    with pytest.raises(ApiException):
        search(client, limit=201)


def test_search_has_its_own_four_per_second_limit(client):
    statuses = []
    for _ in range(5):
        try:
            search(client)
            statuses.append(200)
        except ApiException as exc:
            statuses.append(exc.status)
            assert body_of(exc)["errorType"] == "RATE_LIMIT"
    assert statuses == [200, 200, 200, 200, 429]


# ----- token info and errors -----------------------------------------------------------
def test_token_info_lists_the_scopes_of_a_token(client, sandbox):
    sandbox.hubspot.add_token("pat-readonly", ["crm.objects.deals.read"])
    answer = client.api_request(
        {
            "method": "POST",
            "path": "/oauth/v2/private-apps/get/access-token-info",
            "body": {"tokenKey": "pat-readonly"},
            "base_url": sandbox.url("hubspot"),
        }
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "userId": 7654321, "hubId": 12345678, "appId": 3456789,
        "scopes": ["crm.objects.deals.read"],
    }  # fmt: skip


def test_bad_token_is_401_with_category(sandbox, won_deal):
    client = HubSpot(access_token="pat-wrong", host=sandbox.url("hubspot"))
    with pytest.raises(UnauthorizedException) as caught:
        client.crm.deals.basic_api.get_by_id(won_deal["deal"]["id"])
    assert body_of(caught.value)["category"] == "INVALID_AUTHENTICATION"


def test_missing_deal_is_404_object_not_found(client):
    with pytest.raises(NotFoundException) as caught:
        client.crm.deals.basic_api.get_by_id("31337")
    body = body_of(caught.value)
    assert body["category"] == "OBJECT_NOT_FOUND" and body["correlationId"]


def test_archived_deal_is_found_only_with_archived_true(client, sandbox, won_deal):
    deal_id = won_deal["deal"]["id"]
    sandbox.hubspot.delete_as_user("deals", deal_id)
    with pytest.raises(NotFoundException):
        client.crm.deals.basic_api.get_by_id(deal_id)
    assert client.crm.deals.basic_api.get_by_id(deal_id, archived=True).archived is True


def test_missing_scope_is_403_naming_the_scope(sandbox, won_deal):
    sandbox.hubspot.add_token("pat-readonly", ["crm.objects.deals.read"])
    client = HubSpot(access_token="pat-readonly", host=sandbox.url("hubspot"))
    assert client.crm.deals.basic_api.get_by_id(won_deal["deal"]["id"]).id
    with pytest.raises(ForbiddenException) as caught:
        client.crm.deals.basic_api.update(
            won_deal["deal"]["id"],
            simple_public_object_input=SimplePublicObjectInput(properties={"amount": "1"}),
        )
    body = body_of(caught.value)
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.write"]
    with pytest.raises(CompanyApiException) as company:
        client.crm.companies.basic_api.get_by_id(won_deal["companies"][0]["id"])
    assert company.value.status == 403


# ----- rate limits ---------------------------------------------------------------------
@pytest.fixture
def small_window():
    """HubSpot scaled down to 3 calls per 10 s."""
    with Sandbox(rate_scale=3 / 190) as box:
        box.hubspot.seed_deal({"dealname": "Limited"}, id="1000")
        yield box


def test_fourth_call_in_the_window_gets_hubspots_429(small_window):
    # retry=False: urllib3's default Retry would otherwise sleep out the Retry-After of a GET
    client = HubSpot(access_token="pat-sandbox", host=small_window.url("hubspot"), retry=False)
    first = client.crm.deals.basic_api.get_by_id_with_http_info("1000")
    assert first[2]["X-HubSpot-RateLimit-Max"] == "3"
    assert first[2]["X-HubSpot-RateLimit-Remaining"] == "2"
    assert first[2]["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert int(first[2]["X-HubSpot-RateLimit-Daily-Remaining"]) > 0
    for _ in range(2):
        client.crm.deals.basic_api.get_by_id("1000")
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.get_by_id("1000")
    body = body_of(caught.value)
    assert caught.value.status == 429
    assert {k: body[k] for k in ("status", "errorType", "policyName", "message")} == {
        "status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING",
        "message": "You have reached your secondly limit.",
    }  # fmt: skip
    assert body["correlationId"] and body["requestId"]
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 10


def test_a_starter_account_reports_and_enforces_100_calls_per_10_seconds(sandbox):
    deal = sandbox.hubspot.seed_deal({"dealname": "Small account"})
    answer = requests.post(f"{sandbox.url('hubspot')}/_sandbox/set_tier", json={"tier": "starter"})
    assert answer.json()["result"] == {"per_ten_seconds": 100, "daily": 250_000}
    client = HubSpot(access_token="pat-sandbox", host=sandbox.url("hubspot"), retry=False)
    first = client.crm.deals.basic_api.get_by_id_with_http_info(deal["id"])
    assert first[2]["X-HubSpot-RateLimit-Max"] == "100"
    assert first[2]["X-HubSpot-RateLimit-Daily"] == "250000"
    for _ in range(99):
        client.crm.deals.basic_api.get_by_id(deal["id"])
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.get_by_id(deal["id"])
    assert caught.value.status == 429
    sandbox.reset()  # back to the tier the emulator was made with
    assert sandbox.hubspot.tier == "professional"


def test_window_frees_up_when_the_clock_moves_on(small_window):
    from datetime import timedelta

    client = HubSpot(access_token="pat-sandbox", host=small_window.url("hubspot"))
    for _ in range(3):
        client.crm.deals.basic_api.get_by_id("1000")
    small_window.clock.advance(timedelta(seconds=11))
    assert client.crm.deals.basic_api.get_by_id("1000").id == "1000"


def test_sdk_retry_waits_the_retry_after_of_an_injected_429(sandbox, won_deal):
    sandbox.hubspot.faults.add("rate_limit", calls=1, retry_after=1)
    retry = Retry(
        total=3, backoff_factor=0, status_forcelist=(429,), allowed_methods=None,
        respect_retry_after_header=True,
    )  # fmt: skip
    client = HubSpot(access_token="pat-sandbox", host=sandbox.url("hubspot"), retry=retry)
    started = time.monotonic()
    deal = client.crm.deals.basic_api.get_by_id(won_deal["deal"]["id"])
    assert deal.id == won_deal["deal"]["id"]
    assert time.monotonic() - started >= 1.0
    refused = sandbox.hubspot.calls(status=429)
    assert len(refused) == 1 and refused[0].fault == "rate_limit"


def test_sdk_without_retry_option_still_sleeps_out_a_get_429_with_retry_after(client, sandbox):
    """urllib3's default Retry honours Retry-After on GET 429s: a hidden wait to know about."""
    deal = sandbox.hubspot.seed_deal({"dealname": "Patient"})
    sandbox.hubspot.faults.add("rate_limit", calls=1, retry_after=1)
    started = time.monotonic()
    assert client.crm.deals.basic_api.get_by_id(deal["id"]).id == deal["id"]
    assert time.monotonic() - started >= 1.0


def test_injected_429_has_the_same_body_as_a_real_one(sandbox, won_deal):
    sandbox.hubspot.faults.add("rate_limit", calls=1, retry_after=2)
    client = HubSpot(access_token="pat-sandbox", host=sandbox.url("hubspot"), retry=False)
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.get_by_id(won_deal["deal"]["id"])
    assert body_of(caught.value)["policyName"] == "TEN_SECONDLY_ROLLING"
    assert caught.value.headers["Retry-After"] == "2"


# ----- seeding over HTTP and the state page --------------------------------------------
def test_commands_work_over_http_and_show_in_the_snapshot(sandbox):
    base = sandbox.url("hubspot")
    company = requests.post(
        f"{base}/_sandbox/seed_company", json={"properties": {"name": "Initech"}}
    ).json()["result"]
    requests.post(
        f"{base}/_sandbox/seed_deal",
        json={"properties": {"dealname": "Initech"}, "company_ids": [company["id"]]},
    )
    state = requests.post(f"{base}/_sandbox/state").json()["result"]
    assert state["deals"][0]["companies"] == [company["id"]]
    assert state["companies"][0]["deals"] == [state["deals"][0]["id"]]
