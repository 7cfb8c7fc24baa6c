"""The Notion emulator, driven through notion-client 3.1 exactly as the app drives Notion."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.client import RetryOptions
from notion_client.errors import HTTPResponseError
from notion_client.helpers import iterate_paginated_api
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox import Sandbox
from sandbox.notion.webhooks import NotionWebhookSender

TOKEN = "secret_sandbox"
FIXTURES = Path(__file__).parent / "fixtures" / "notion"


def connect(box: Sandbox, token: str = TOKEN, retry: RetryOptions | bool = False) -> Client:
    return Client(auth=token, base_url=box.url("notion"), notion_version="2025-09-03", retry=retry)


def text(content: str) -> list[dict]:
    return [{"type": "text", "text": {"content": content}}]


@dataclass
class Projects:
    """Ids of a projects database like the app's, with one of every property type."""

    database: str
    source: str
    account: str
    owner: str


@pytest.fixture
def box():
    """The sandbox with rate limits raised, for tests that are not about rate limits."""
    with Sandbox(rate_scale=1000) as sandbox:
        yield sandbox


@pytest.fixture
def notion(box) -> Client:
    return connect(box)


@pytest.fixture
def projects(box, notion) -> Projects:
    parent = {"type": "page_id", "page_id": box.notion.seed_parent_page("Onboarding")["id"]}
    owner = box.notion.seed_user("Casey CSM", "casey@example.com")
    accounts = notion.databases.create(
        parent=parent,
        title=text("Accounts"),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    accounts_source = accounts["data_sources"][0]["id"]
    acme = notion.pages.create(
        parent={"data_source_id": accounts_source}, properties={"Name": {"title": text("Acme")}}
    )
    database = notion.databases.create(
        parent=parent,
        title=text("Onboarding projects"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "Kickoff": {"date": {}},
                "Stage": {"status": {}},
                "Tier": {
                    "select": {"options": [{"name": "Gold", "color": "yellow"}, {"name": "Silver"}]}
                },  # noqa: E501
                "Labels": {"multi_select": {"options": [{"name": "EU"}, {"name": "Priority"}]}},
                "Owner": {"people": {}},
                "Signed": {"checkbox": {}},
                "Account": {"relation": {"data_source_id": accounts_source, "single_property": {}}},
                "Seats": {"number": {"format": "number"}},
                "Slack URL": {"url": {}},
                "Contact": {"email": {}},
                "Notes": {"rich_text": {}},
                "Created": {"created_time": {}},
                "Edited": {"last_edited_time": {}},
            }
        },
    )
    return Projects(database["id"], database["data_sources"][0]["id"], acme["id"], owner["id"])


def add_task(notion: Client, projects: Projects, name: str, **properties: dict) -> dict:
    return notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": projects.source},
        properties={"Name": {"title": text(name)}, **properties},
    )


def names(pages: list[dict]) -> list[str]:
    return [p["properties"]["Name"]["title"][0]["plain_text"] for p in pages]


def query(notion: Client, projects: Projects, **body) -> list[str]:
    return names(notion.data_sources.query(projects.source, **body)["results"])


# ----- databases, data sources, pages ---------------------------------------------------------
def test_database_lists_its_data_source_and_the_data_source_holds_the_schema(notion, projects):
    database = notion.databases.retrieve(projects.database)
    assert "properties" not in database
    assert database["data_sources"] == [{"id": projects.source, "name": "Onboarding projects"}]

    source = notion.data_sources.retrieve(projects.source.replace("-", ""))
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": projects.database}
    assert source["properties"]["Name"] == {
        "id": "title",
        "name": "Name",
        "type": "title",
        "title": {},
    }  # noqa: E501
    stage = source["properties"]["Stage"]["status"]
    assert [o["name"] for o in stage["options"]] == ["Not started", "In progress", "Done"]
    assert [g["name"] for g in stage["groups"]] == ["To-do", "In progress", "Complete"]
    assert stage["groups"][2]["option_ids"] == [stage["options"][2]["id"]]
    assert source["properties"]["Account"]["relation"]["data_source_id"] != projects.source


def test_database_without_exactly_one_title_property_is_refused(box, notion, projects):
    parent = {"type": "page_id", "page_id": box.notion.seed_parent_page("Other")["id"]}
    with pytest.raises(APIResponseError) as refused:
        notion.databases.create(
            parent=parent, initial_data_source={"properties": {"Notes": {"rich_text": {}}}}
        )
    assert refused.value.code == APIErrorCode.ValidationError


def test_page_with_every_property_type_reads_back_in_notions_expanded_shapes(notion, projects):
    created = add_task(
        notion,
        projects,
        "Acme onboarding",
        Kickoff={"date": {"start": "2026-01-15", "end": None, "time_zone": None}},
        Stage={"status": {"name": "In progress"}},
        Tier={"select": {"name": "Platinum"}},
        Labels={"multi_select": [{"name": "EU"}, {"name": "New label"}]},
        Owner={"people": [{"object": "user", "id": projects.owner}]},
        Signed={"checkbox": True},
        Account={"relation": [{"id": projects.account}]},
        Seats={"number": 25},
        **{"Slack URL": {"url": "https://example.slack.com/archives/C123"}},
        Contact={"email": "ops@acme.test"},
        Notes={"rich_text": [{"text": {"content": "Kickoff", "link": {"url": "https://x.test"}}}]},
    )
    page = notion.pages.retrieve(created["id"])
    values = page["properties"]

    assert page["parent"] == {
        "type": "data_source_id",
        "data_source_id": projects.source,
        "database_id": projects.database,
    }
    assert values["Name"]["title"][0] == {
        "type": "text",
        "text": {"content": "Acme onboarding", "link": None},
        "annotations": {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": "Acme onboarding",
        "href": None,
    }
    assert values["Notes"]["rich_text"][0]["href"] == "https://x.test"
    assert values["Kickoff"]["date"] == {"start": "2026-01-15", "end": None, "time_zone": None}
    assert values["Stage"]["status"]["name"] == "In progress"
    assert values["Tier"]["select"]["name"] == "Platinum"  # a new select name creates the option
    assert [o["name"] for o in values["Labels"]["multi_select"]] == ["EU", "New label"]
    assert values["Owner"]["people"][0]["person"] == {"email": "casey@example.com"}
    assert values["Signed"] == {"id": values["Signed"]["id"], "type": "checkbox", "checkbox": True}
    assert values["Account"]["relation"] == [{"id": projects.account}]
    assert values["Account"]["has_more"] is False
    assert values["Seats"]["number"] == 25
    assert values["Slack URL"]["url"] == "https://example.slack.com/archives/C123"
    assert values["Contact"]["email"] == "ops@acme.test"
    assert values["Created"]["created_time"] == page["created_time"]
    assert values["Edited"]["last_edited_time"] == page["last_edited_time"]
    tiers = notion.data_sources.retrieve(projects.source)["properties"]["Tier"]["select"]
    assert "Platinum" in [o["name"] for o in tiers["options"]]


def test_unset_properties_come_back_empty_and_status_starts_at_not_started(notion, projects):
    values = add_task(notion, projects, "Bare")["properties"]
    assert values["Stage"]["status"]["name"] == "Not started"
    assert values["Tier"]["select"] is None
    assert values["Kickoff"]["date"] is None
    assert values["Labels"]["multi_select"] == []
    assert values["Signed"]["checkbox"] is False
    assert values["Notes"]["rich_text"] == []


def test_update_changes_only_the_listed_property(notion, projects):
    page = add_task(
        notion, projects, "Acme", Seats={"number": 10}, Stage={"status": {"name": "In progress"}}
    )  # noqa: E501
    updated = notion.pages.update(page["id"], properties={"Stage": {"status": {"name": "Done"}}})
    assert updated["properties"]["Stage"]["status"]["name"] == "Done"
    assert updated["properties"]["Seats"]["number"] == 10
    assert names([updated]) == ["Acme"]


def test_properties_can_be_written_by_property_id(notion, projects):
    schema = notion.data_sources.retrieve(projects.source)["properties"]
    page = add_task(notion, projects, "Acme", **{schema["Seats"]["id"]: {"number": 3}})
    assert page["properties"]["Seats"]["number"] == 3


def test_trashed_page_leaves_queries_until_restored(notion, projects):
    page = add_task(notion, projects, "Acme")
    add_task(notion, projects, "Globex")

    trashed = notion.pages.update(page["id"], in_trash=True)
    assert trashed["in_trash"] is True and trashed["archived"] is True
    assert query(notion, projects) == ["Globex"]
    assert sorted(query(notion, projects, in_trash=True)) == ["Acme", "Globex"]
    with pytest.raises(APIResponseError) as refused:
        notion.pages.update(page["id"], properties={"Seats": {"number": 1}})
    assert refused.value.code == APIErrorCode.ValidationError

    restored = notion.pages.update(page["id"], archived=False)
    assert restored["in_trash"] is False
    assert sorted(query(notion, projects)) == ["Acme", "Globex"]


def test_data_source_update_adds_and_renames_properties(notion, projects):
    source = notion.data_sources.update(
        projects.source,
        properties={
            "Health": {"select": {"options": [{"name": "Green"}]}},
            "Notes": {"name": "Summary"},
        },  # noqa: E501
    )
    assert source["properties"]["Health"]["type"] == "select"
    assert "Notes" not in source["properties"]
    assert source["properties"]["Summary"]["type"] == "rich_text"
    page = add_task(notion, projects, "Acme", Summary={"rich_text": text("renamed")})
    assert page["properties"]["Summary"]["rich_text"][0]["plain_text"] == "renamed"


# ----- queries --------------------------------------------------------------------------------
@pytest.fixture
def tasks(notion, projects) -> Projects:
    """Four projects to filter and sort."""
    add_task(
        notion,
        projects,
        "Acme",
        Stage={"status": {"name": "In progress"}},
        Tier={"select": {"name": "Gold"}},
        Seats={"number": 20},
    )  # noqa: E501
    add_task(
        notion,
        projects,
        "Globex",
        Stage={"status": {"name": "Done"}},
        Tier={"select": {"name": "Gold"}},
        Seats={"number": 5},
    )  # noqa: E501
    add_task(
        notion,
        projects,
        "Initech",
        Stage={"status": {"name": "In progress"}},
        Tier={"select": {"name": "Silver"}},
    )  # noqa: E501
    add_task(notion, projects, "Umbrella", Signed={"checkbox": True}, Seats={"number": 10})
    return projects


def test_query_filters_on_status(notion, tasks):
    found = query(notion, tasks, filter={"property": "Stage", "status": {"equals": "In progress"}})
    assert sorted(found) == ["Acme", "Initech"]


def test_query_combines_filters_with_and_and_or(notion, tasks):
    both = {
        "and": [
            {"property": "Stage", "status": {"equals": "In progress"}},
            {"property": "Tier", "select": {"equals": "Gold"}},
        ]
    }
    either = {
        "or": [
            {"property": "Signed", "checkbox": {"equals": True}},
            {"property": "Seats", "number": {"less_than": 10}},
        ]
    }
    nested = {"and": [{"property": "Name", "title": {"contains": "e"}}, either]}
    assert query(notion, tasks, filter=both) == ["Acme"]
    assert sorted(query(notion, tasks, filter=either)) == ["Globex", "Umbrella"]
    assert sorted(query(notion, tasks, filter=nested)) == ["Globex", "Umbrella"]


def test_filter_nested_deeper_than_two_levels_is_refused(notion, tasks):
    leaf = {"property": "Signed", "checkbox": {"equals": True}}
    legal = {"and": [{"or": [{"and": [leaf]}]}]}
    assert query(notion, tasks, filter=legal) == ["Umbrella"]
    with pytest.raises(APIResponseError) as refused:
        query(notion, tasks, filter={"or": [legal]})
    assert refused.value.code == APIErrorCode.ValidationError


def test_filter_on_an_unknown_property_or_operator_is_refused(notion, tasks):
    for bad in (
        {"property": "Nope", "checkbox": {"equals": True}},
        {"property": "Stage", "status": {"greater_than": "Done"}},
        {"property": "Stage", "select": {"equals": "Done"}},
    ):
        with pytest.raises(APIResponseError) as refused:
            query(notion, tasks, filter=bad)
        assert refused.value.code == APIErrorCode.ValidationError


def test_query_sorts_by_property_with_empty_values_last_then_by_timestamp(notion, tasks):
    by_seats = query(notion, tasks, sorts=[{"property": "Seats", "direction": "ascending"}])
    assert by_seats == ["Globex", "Umbrella", "Acme", "Initech"]
    by_tier = query(
        notion,
        tasks,
        sorts=[
            {"property": "Tier", "direction": "ascending"},
            {"timestamp": "created_time", "direction": "descending"},
        ],
    )
    assert by_tier == ["Globex", "Acme", "Initech", "Umbrella"]


def test_iterating_250_pages_takes_three_queries_of_at_most_100(box, notion, projects):
    for n in range(250):
        add_task(notion, projects, f"Task {n:03}")
    seen = list(
        iterate_paginated_api(
            notion.data_sources.query,
            data_source_id=projects.source,
            sorts=[{"property": "Name", "direction": "ascending"}],
        )
    )
    assert names(seen) == [f"Task {n:03}" for n in range(250)]
    assert len(box.notion.calls(path_contains="/query")) == 3
    first = notion.data_sources.query(projects.source, page_size=100)
    assert first["has_more"] is True and first["next_cursor"]
    assert first["type"] == "page_or_data_source" and first["page_or_data_source"] == {}
    assert first["request_id"]


def test_page_size_over_100_is_refused(notion, projects):
    with pytest.raises(APIResponseError) as refused:
        notion.data_sources.query(projects.source, page_size=101)
    assert refused.value.status == 400
    assert refused.value.code == APIErrorCode.ValidationError
    assert "should be ≤ `100`, instead was `101`" in str(refused.value)


# ----- minute-rounded timestamps --------------------------------------------------------------
def test_edits_in_one_minute_share_a_last_edited_time_rounded_down(box, notion, projects):
    box.clock.set(datetime(2026, 1, 15, 10, 20, 0, tzinfo=UTC))
    first = add_task(notion, projects, "First")
    second = add_task(notion, projects, "Second")

    box.clock.set(datetime(2026, 1, 15, 10, 23, 5, tzinfo=UTC))
    edited_first = notion.pages.update(first["id"], properties={"Seats": {"number": 1}})
    box.clock.set(datetime(2026, 1, 15, 10, 23, 41, 500_000, tzinfo=UTC))
    edited_second = notion.pages.update(second["id"], properties={"Seats": {"number": 2}})

    assert edited_first["last_edited_time"] == "2026-01-15T10:23:00.000Z"
    assert edited_second["last_edited_time"] == "2026-01-15T10:23:00.000Z"
    assert edited_second["created_time"] == "2026-01-15T10:20:00.000Z"

    def edited(operator: str) -> list[str]:
        condition = {operator: "2026-01-15T10:23:00.000Z"}
        spec = {"timestamp": "last_edited_time", "last_edited_time": condition}
        return query(
            notion,
            projects,
            filter=spec,
            sorts=[{"timestamp": "last_edited_time", "direction": "descending"}],
        )

    assert edited("on_or_after") == ["Second", "First"]  # ordered by the exact edit times
    assert edited("after") == []


def test_user_edit_bumps_last_edited_by_to_the_person(box, notion, projects):
    page = add_task(notion, projects, "Acme")
    box.clock.set(datetime(2026, 2, 1, 9, 30, 59, tzinfo=UTC))
    answer = requests.post(
        f"{box.url('notion')}/_sandbox/edit_page_as_user",
        json={"page_id": page["id"], "properties": {"Stage": {"status": {"name": "Done"}}}},
        timeout=5,
    ).json()
    assert answer["ok"] is True
    seen = notion.pages.retrieve(page["id"])
    assert seen["properties"]["Stage"]["status"]["name"] == "Done"
    assert seen["last_edited_time"] == "2026-02-01T09:30:00.000Z"
    assert seen["last_edited_by"]["id"] != box.notion.bot["id"]
    assert box.notion.page(page["id"])["last_edited_by"] == seen["last_edited_by"]


# ----- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"Nope": {"rich_text": text("x")}}, "Nope is not a property that exists."),
        ({"Stage": {"status": {"name": "Blocked"}}}, 'Status option "Blocked" does not exist'),
        ({"Stage": {"select": {"name": "Done"}}}, "Stage is expected to be status."),
        ({"Notes": {"rich_text": text("x" * 2001)}}, "should be ≤ `2000`, instead was `2001`."),
        (
            {"Owner": {"people": [{"id": "00000000-0000-4000-8000-000000000000"}]}},
            "Could not find user",
        ),  # noqa: E501
        ({"Created": {"created_time": "2026-01-01"}}, "cannot be written"),
    ],
)
def test_invalid_property_values_are_validation_errors(notion, projects, properties, message):
    with pytest.raises(APIResponseError) as refused:
        add_task(notion, projects, "Acme", **properties)
    assert refused.value.status == 400
    assert refused.value.code == APIErrorCode.ValidationError
    assert message in str(refused.value)


def test_bad_token_is_unauthorized(box):
    with pytest.raises(APIResponseError) as refused:
        connect(box, token="secret_wrong").users.me()
    assert refused.value.status == 401
    assert refused.value.code == APIErrorCode.Unauthorized
    assert json.loads(refused.value.body)["message"] == "API token is invalid."


def test_added_token_is_accepted(box):
    box.notion.add_token("secret_second")
    assert connect(box, token="secret_second").users.me()["type"] == "bot"


def test_unknown_page_is_object_not_found(notion):
    with pytest.raises(APIResponseError) as refused:
        notion.pages.retrieve("0f6c5a1e8c1b4a579b8e3f2a1d9c7e11")
    assert refused.value.status == 404
    assert refused.value.code == APIErrorCode.ObjectNotFound


def test_missing_version_header_and_old_query_route_are_refused(box, projects):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    missing = requests.get(f"{box.url('notion')}/v1/users/me", headers=auth, timeout=5)
    assert missing.status_code == 400
    assert missing.json()["code"] == "missing_version"
    old_route = requests.post(
        f"{box.url('notion')}/v1/databases/{projects.database}/query",
        headers={**auth, "Notion-Version": "2025-09-03"},
        json={},
        timeout=5,
    )
    assert old_route.status_code == 400
    assert old_route.json()["code"] == "invalid_request_url"


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "service_unavailable"), (500, "internal_server_error"), (504, "gateway_timeout")],
)
def test_injected_errors_answer_with_notions_error_body(box, notion, status, code):
    box.notion.faults.add("error", status=status, calls=1)
    with pytest.raises(APIResponseError) as refused:
        notion.users.me()
    body = json.loads(refused.value.body)
    assert (body["object"], body["status"], body["code"]) == ("error", status, code)
    assert body["request_id"]
    assert notion.users.me()["type"] == "bot"


def test_an_injected_529_is_notions_service_overload_with_the_retry_after_asked(box, notion):
    box.notion.faults.add("error", status=529, calls=1, retry_after=2)
    with pytest.raises(HTTPResponseError) as refused:  # the SDK knows no service_overload code
        notion.users.me()
    body = json.loads(refused.value.body)
    assert (body["status"], body["code"]) == (529, "service_overload")
    assert refused.value.headers["Retry-After"] == "2"


# ----- rate limits ----------------------------------------------------------------------------
def test_a_burst_beyond_three_requests_gets_429_with_an_integer_retry_after(sandbox):
    notion = connect(sandbox)
    for _ in range(3):
        notion.users.me()
    with pytest.raises(APIResponseError) as refused:
        notion.users.me()
    assert refused.value.status == 429
    assert refused.value.code == APIErrorCode.RateLimited
    assert json.loads(refused.value.body)["message"] == (
        "You have been rate limited. Please try again in a few minutes."
    )
    assert int(refused.value.headers["Retry-After"]) >= 1


def test_injected_rate_limit_looks_like_the_real_one(box, notion):
    box.notion.faults.add("rate_limit", calls=1, retry_after=2)
    with pytest.raises(APIResponseError) as refused:
        notion.users.me()
    assert refused.value.code == APIErrorCode.RateLimited
    assert refused.value.headers["Retry-After"] == "2"


def test_sdk_with_retries_waits_out_the_429_and_succeeds(sandbox):
    impatient = connect(sandbox)
    for _ in range(3):
        impatient.users.me()
    with pytest.raises(APIResponseError) as refused:
        impatient.users.me()
    retry_after = int(refused.value.headers["Retry-After"])

    patient = connect(sandbox, retry=RetryOptions(max_retries=2, initial_retry_delay_ms=50))
    started = time.monotonic()
    assert patient.users.me()["type"] == "bot"
    assert time.monotonic() - started >= retry_after
    assert len(sandbox.notion.calls(status=429)) == 2  # ours, then the one the SDK waited out


# ----- blocks, search, users ------------------------------------------------------------------
def test_append_takes_at_most_100_blocks_and_children_list_in_pages(notion, projects):
    page = add_task(notion, projects, "Acme")
    paragraph = {"object": "block", "type": "paragraph", "paragraph": {"rich_text": text("step")}}
    with pytest.raises(APIResponseError) as refused:
        notion.blocks.children.append(page["id"], children=[paragraph] * 101)
    assert refused.value.code == APIErrorCode.ValidationError

    appended = notion.blocks.children.append(page["id"], children=[paragraph] * 60)
    assert len(appended["results"]) == 60
    notion.blocks.children.append(page["id"], children=[paragraph] * 60)
    first = notion.blocks.children.list(page["id"], page_size=100)
    assert len(first["results"]) == 100 and first["has_more"] is True
    rest = notion.blocks.children.list(page["id"], start_cursor=first["next_cursor"])
    assert len(rest["results"]) == 20 and rest["has_more"] is False
    assert rest["results"][0]["paragraph"]["rich_text"][0]["plain_text"] == "step"


def test_search_finds_pages_and_data_sources_by_title(notion, tasks):
    pages = notion.search(query="acme", filter={"property": "object", "value": "page"})
    assert [p["object"] for p in pages["results"]] == ["page", "page"]  # project and account
    sources = notion.search(
        query="onboarding", filter={"property": "object", "value": "data_source"}
    )  # noqa: E501
    assert [s["id"] for s in sources["results"]] == [tasks.source]


def test_users_list_the_seeded_people_and_the_bot(notion, projects):
    users = notion.users.list()["results"]
    assert {u["type"] for u in users} == {"person", "bot"}
    assert projects.owner in [u["id"] for u in users]
    assert notion.users.me()["type"] == "bot"


# ----- webhooks -------------------------------------------------------------------------------
@pytest.fixture
def receiver():
    """A local endpoint recording each POST's raw body and headers."""
    received: list[tuple[bytes, dict[str, str]]] = []

    def app(environ, start_response):
        request = Request(environ)
        received.append((request.get_data(), dict(request.headers)))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/webhooks/notion", received
    server.shutdown()


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_handshake_posts_the_verification_token_unsigned(receiver):
    url, received = receiver
    sender = NotionWebhookSender(url, "secret_verify")
    sender.handshake()
    sender.wait()
    raw, headers = received[0]
    assert json.loads(raw) == {"verification_token": "secret_verify"}
    assert json.loads(raw).keys() == fixture("verification").keys()
    assert "X-Notion-Signature" not in headers


def test_event_signature_verifies_with_an_independent_hmac(receiver):
    url, received = receiver
    sender = NotionWebhookSender(url, "secret_verify")
    sender.on_change(
        "page.created",
        entity={"id": "p1", "type": "page"},
        data={"parent": {"id": "d1", "type": "database", "data_source_id": "s1"}},
        authors=[{"id": "u1", "type": "person"}],
        timestamp="2026-01-15T10:00:00.000Z",
    )
    sender.wait()
    raw, headers = received[0]
    expected = hmac.new(b"secret_verify", raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Notion-Signature"], f"sha256={expected}")
    assert json.loads(raw).keys() == fixture("page_created").keys()


def test_user_edit_and_trash_send_signed_events_shaped_like_notions(box, projects, receiver):
    url, received = receiver
    notion = connect(box)
    page = add_task(notion, projects, "Acme")
    box.notion.configure_webhooks(url, "secret_verify")
    box.notion.edit_page_as_user(page["id"], {"Seats": {"number": 7}}, projects.owner)
    box.notion.trash_page_as_user(page["id"])
    box.notion.webhooks.wait()

    bodies = [json.loads(raw) for raw, _ in received]
    assert bodies[0] == {"verification_token": "secret_verify"}
    updated, deleted = bodies[1], bodies[2]
    assert updated.keys() == fixture("page_properties_updated").keys()
    assert updated["type"] == "page.properties_updated"
    assert updated["entity"] == {"id": page["id"], "type": "page"}
    assert updated["authors"] == [{"id": projects.owner, "type": "person"}]
    assert updated["data"]["parent"] == {
        "id": projects.database,
        "type": "database",
        "data_source_id": projects.source,
    }
    seats = notion.data_sources.retrieve(projects.source)["properties"]["Seats"]["id"]
    assert updated["data"]["updated_properties"] == [seats]
    assert deleted["type"] == "page.deleted"
    assert deleted.keys() == fixture("page_deleted").keys()
    assert [d["status"] for d in box.notion.webhook_deliveries()] == [200, 200, 200]
