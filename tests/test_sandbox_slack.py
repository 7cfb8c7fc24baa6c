"""The Slack emulator, driven through slack_sdk's WebClient exactly as the app drives Slack."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox import Sandbox

# Slack's published Web API spec (github.com/slackapi/slack-api-specs, MIT: see its LICENSE).
SPEC_PATH = (
    Path(__file__).parent
    / "fixtures"
    / "slack"
    / "openapi"
    / "slack_web_openapi_v2_without_examples.json"
)
FIXTURES = Path(__file__).parent / "fixtures" / "slack"
# bookmarks.add is missing from the OpenAPI spec: its arguments per its docs page (mirrored in
# slack-ruby/slack-api-ref); its example answer is fixtures/slack/bookmarks_add.json.
BOOKMARKS_ADD_ARGS = {
    "channel_id",
    "title",
    "type",
    "access_level",
    "emoji",
    "entity_id",
    "link",
    "parent_id",
}


@pytest.fixture
def slack(sandbox):
    return WebClient(token="xoxb-sandbox", base_url=sandbox.url("slack"))


@pytest.fixture
def people(sandbox):
    """Two workspace members the bot can find by email."""
    return [
        sandbox.slack.seed_user("ana@acme.example", "Ana Lopez"),
        sandbox.slack.seed_user("ben@acme.example", "Ben Stone"),
    ]


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]


# ----- channels --------------------------------------------------------------------------
def test_name_taken_when_channel_exists(slack):
    created = slack.conversations_create(name="onboarding-acme")
    assert created["channel"]["id"].startswith("C")
    assert created["channel"]["is_member"] is True
    assert error_of(slack.conversations_create, name="onboarding-acme") == "name_taken"


def test_name_taken_also_for_an_archived_channel(sandbox, slack):
    channel = slack.conversations_create(name="onboarding-old")["channel"]
    sandbox.slack.archive_channel_as_user(channel["id"])
    assert error_of(slack.conversations_create, name="onboarding-old") == "name_taken"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Onboarding-Acme", "invalid_name_specials"),
        ("acme corp", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("--__", "invalid_name_punctuation"),
        ("", "invalid_name_required"),
    ],
)
def test_invalid_channel_names_are_refused(slack, name, error):
    assert error_of(slack.conversations_create, name=name) == error


def test_a_name_of_80_characters_is_accepted(slack):
    assert slack.conversations_create(name="a" * 80)["ok"]


def test_list_pages_with_a_cursor_until_the_channel_is_found(sandbox, slack):
    for n in range(5):
        slack.conversations_create(name=f"onboarding-{n}")
    names, cursor, pages = [], None, 0
    while cursor != "":
        page = slack.conversations_list(limit=2, cursor=cursor, types="public_channel")
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        pages += 1
    assert pages == 3
    assert names == [f"onboarding-{n}" for n in range(5)]


def test_list_leaves_out_archived_channels_when_asked(sandbox, slack):
    sandbox.slack.seed_channel("onboarding-gone", is_archived=True)
    slack.conversations_create(name="onboarding-live")
    every = [c["name"] for c in slack.conversations_list()["channels"]]
    live = [c["name"] for c in slack.conversations_list(exclude_archived=True)["channels"]]
    assert every == ["onboarding-gone", "onboarding-live"]
    assert live == ["onboarding-live"]


def test_private_channels_are_listed_only_for_their_type(slack):
    slack.conversations_create(name="onboarding-secret", is_private=True)
    public = slack.conversations_list(types="public_channel")["channels"]
    private = slack.conversations_list(types="private_channel")["channels"]
    assert public == []
    assert [c["name"] for c in private] == ["onboarding-secret"]
    assert private[0]["is_private"] is True


def test_bad_cursor_and_limit_are_refused(slack):
    assert error_of(slack.conversations_list, cursor="not-a-cursor") == "invalid_cursor"
    assert error_of(slack.conversations_list, limit=1001) == "invalid_limit"


def test_info_counts_members_and_unknown_channel_is_not_found(slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_invite(channel=channel["id"], users=[people[0]["id"]])
    info = slack.conversations_info(channel=channel["id"], include_num_members=True)
    assert info["channel"]["num_members"] == 2
    assert error_of(slack.conversations_info, channel="C999999999") == "channel_not_found"


# ----- invitations ------------------------------------------------------------------------
def test_invite_users_found_by_email(sandbox, slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    ids = [slack.users_lookupByEmail(email=p["profile"]["email"])["user"]["id"] for p in people]
    slack.conversations_invite(channel=channel["id"], users=ids)
    assert sandbox.slack.members(channel["id"])[1:] == ids


def test_already_in_channel_on_a_second_invite(slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_invite(channel=channel["id"], users=people[0]["id"])
    error = error_of(slack.conversations_invite, channel=channel["id"], users=people[0]["id"])
    assert error == "already_in_channel"


def test_one_refused_invite_stops_all_and_lists_errors(sandbox, slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_invite(channel=channel["id"], users=people[0]["id"])
    with pytest.raises(SlackApiError) as info:
        slack.conversations_invite(channel=channel["id"], users=[people[0]["id"], people[1]["id"]])
    assert info.value.response["error"] == "already_in_channel"
    assert info.value.response["errors"] == [
        {"user": people[0]["id"], "ok": False, "error": "already_in_channel"}
    ]
    assert people[1]["id"] not in sandbox.slack.members(channel["id"])


def test_force_invites_the_valid_users(sandbox, slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_invite(channel=channel["id"], users=people[0]["id"])
    answer = slack.conversations_invite(
        channel=channel["id"], users=[people[0]["id"], people[1]["id"]], force=True
    )
    assert answer["ok"]
    assert people[1]["id"] in sandbox.slack.members(channel["id"])


def test_invite_refuses_self_unknown_users_and_channels_the_bot_is_not_in(sandbox, slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    bot = slack.auth_test()["user_id"]
    assert error_of(slack.conversations_invite, channel=channel["id"], users=bot) == (
        "cant_invite_self"
    )
    assert error_of(slack.conversations_invite, channel=channel["id"], users="U404404404") == (
        "user_not_found"
    )
    theirs = sandbox.slack.seed_channel("customer-general")
    assert error_of(slack.conversations_invite, channel=theirs["id"], users="U404404404") == (
        "not_in_channel"
    )


def test_users_not_found_for_an_unknown_email(slack):
    assert error_of(slack.users_lookupByEmail, email="nobody@acme.example") == "users_not_found"


def test_users_info_returns_the_seeded_profile(slack, people):
    user = slack.users_info(user=people[0]["id"])["user"]
    assert (user["real_name"], user["profile"]["email"]) == ("Ana Lopez", "ana@acme.example")


# ----- messages, topic, bookmarks, DMs ------------------------------------------------------
def test_post_message_sends_json_and_is_stored(sandbox, slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Welcome*"}}]
    sent = slack.chat_postMessage(channel=channel["id"], text="Welcome", blocks=blocks)
    assert re.fullmatch(r"\d{10}\.\d{6}", sent["ts"])
    [call] = sandbox.slack.calls(path_contains="chat.postMessage")
    assert call.headers["Content-Type"].startswith("application/json")
    [stored] = sandbox.slack.messages(channel["id"])
    assert (stored["text"], stored["ts"], stored["blocks"]) == ("Welcome", sent["ts"], blocks)


def test_message_ts_comes_from_the_clock_and_stays_unique():
    with Sandbox(start=datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) as box:
        client = WebClient(token="xoxb-sandbox", base_url=box.url("slack"))
        channel = client.conversations_create(name="onboarding-acme")["channel"]
        first = client.chat_postMessage(channel=channel["id"], text="one")["ts"]
        second = client.chat_postMessage(channel=channel["id"], text="two")["ts"]
    assert (first, second) == ("1700000000.000000", "1700000000.000001")


def test_post_message_refusals(sandbox, slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    theirs = sandbox.slack.seed_channel("customer-general")
    post = slack.chat_postMessage
    assert error_of(post, channel=channel["id"], text="") == "no_text"
    assert error_of(post, channel=channel["id"], text="x" * 40_001) == "msg_too_long"
    assert error_of(post, channel=theirs["id"], text="hi") == "not_in_channel"
    assert error_of(post, channel="C999999999", text="hi") == "channel_not_found"
    sandbox.slack.archive_channel_as_user(channel["id"])
    assert error_of(post, channel=channel["id"], text="hi") == "is_archived"


def test_set_topic_shows_in_info(slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_setTopic(channel=channel["id"], topic="Kickoff on Monday")
    topic = slack.conversations_info(channel=channel["id"])["channel"]["topic"]
    assert topic["value"] == "Kickoff on Monday"
    assert topic["creator"] == slack.auth_test()["user_id"]


def test_set_purpose_shows_in_info_and_list(slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    answer = slack.conversations_setPurpose(channel=channel["id"], purpose="HubSpot deal 42")
    assert answer["channel"]["purpose"]["value"] == "HubSpot deal 42"
    purpose = slack.conversations_info(channel=channel["id"])["channel"]["purpose"]
    assert purpose["value"] == "HubSpot deal 42"
    assert purpose["creator"] == slack.auth_test()["user_id"]
    [listed] = slack.conversations_list()["channels"]
    assert listed["purpose"]["value"] == "HubSpot deal 42"


def test_set_purpose_refusals(sandbox, slack):
    theirs = sandbox.slack.seed_channel("general")
    set_purpose = slack.conversations_setPurpose
    assert error_of(set_purpose, channel=theirs["id"], purpose="x") == "not_in_channel"
    mine = slack.conversations_create(name="onboarding-acme")["channel"]
    assert error_of(set_purpose, channel=mine["id"], purpose="x" * 251) == "too_long"
    sandbox.slack.archive_channel_as_user(mine["id"])
    assert error_of(set_purpose, channel=mine["id"], purpose="x") == "is_archived"


def test_bookmark_is_added_to_the_channel(sandbox, slack):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    answer = slack.bookmarks_add(
        channel_id=channel["id"], title="Project", type="link", link="https://notion.so/p"
    )
    assert answer["bookmark"]["id"].startswith("Bk")
    assert sandbox.slack.channel_by_name("onboarding-acme")["bookmarks"][0]["title"] == "Project"
    assert error_of(
        slack.bookmarks_add, channel_id=channel["id"], title="x", type="link", link="notion.so"
    ) == ("invalid_link")


def test_open_dm_gives_one_d_channel_per_user_that_takes_messages(sandbox, slack, people):
    first = slack.conversations_open(users=people[0]["id"])
    again = slack.conversations_open(users=[people[0]["id"]])
    dm = first["channel"]["id"]
    assert dm.startswith("D")
    assert again["channel"]["id"] == dm and again["already_open"] is True
    slack.chat_postMessage(channel=dm, text="Reminder: kickoff tomorrow")
    assert [m["text"] for m in sandbox.slack.messages(dm)] == ["Reminder: kickoff tomorrow"]


# ----- auth and scopes ---------------------------------------------------------------------
def test_auth_test_reports_the_token_scopes_in_a_header(slack):
    answer = slack.auth_test()
    scopes = set(answer.headers["x-oauth-scopes"].split(","))
    assert {"channels:manage", "chat:write", "users:read.email", "bookmarks:write"} <= scopes
    assert answer["bot_id"].startswith("B") and answer["user_id"].startswith("U")


def test_invalid_auth_for_an_unknown_token_and_not_authed_without_one(sandbox):
    stranger = WebClient(token="xoxb-stranger", base_url=sandbox.url("slack"))
    assert error_of(stranger.auth_test) == "invalid_auth"
    answer = requests.post(sandbox.url("slack") + "auth.test", timeout=5).json()
    assert answer == {"ok": False, "error": "not_authed"}


def test_token_is_accepted_as_a_form_field(sandbox):
    answer = requests.post(
        sandbox.url("slack") + "conversations.create",
        data={"token": "xoxb-sandbox", "name": "onboarding-form"},
        timeout=5,
    ).json()
    assert answer["ok"] and answer["channel"]["name"] == "onboarding-form"


def test_missing_scope_names_what_is_needed_and_provided(sandbox):
    sandbox.slack.add_token("xoxb-reader", ["channels:read"])
    reader = WebClient(token="xoxb-reader", base_url=sandbox.url("slack"))
    with pytest.raises(SlackApiError) as info:
        reader.conversations_create(name="onboarding-acme")
    response = info.value.response
    assert (response["error"], response["needed"], response["provided"]) == (
        "missing_scope",
        "channels:manage",
        "channels:read",
    )


def test_private_channels_need_groups_write(sandbox):
    sandbox.slack.add_token("xoxb-public-only", "channels:manage,channels:read")
    client = WebClient(token="xoxb-public-only", base_url=sandbox.url("slack"))
    assert client.conversations_create(name="onboarding-open")["ok"]
    assert error_of(client.conversations_create, name="secret", is_private=True) == (
        "missing_scope"
    )


def test_seeding_works_over_http(sandbox, slack):
    answer = requests.post(
        f"{sandbox.base_url}/slack/_sandbox/seed_user",
        json={"email": "cleo@acme.example", "real_name": "Cleo"},
        timeout=5,
    ).json()
    assert (
        slack.users_lookupByEmail(email="cleo@acme.example")["user"]["id"]
        == (answer["result"]["id"])
    )


def test_snapshot_shows_channels_with_members_topic_bookmarks_and_messages(sandbox, slack, people):
    channel = slack.conversations_create(name="onboarding-acme")["channel"]
    slack.conversations_invite(channel=channel["id"], users=people[0]["id"])
    slack.conversations_setTopic(channel=channel["id"], topic="Acme")
    slack.bookmarks_add(channel_id=channel["id"], title="P", type="link", link="https://x.io")
    slack.chat_postMessage(channel=channel["id"], text="hello")
    [state] = sandbox.slack.snapshot()["channels"]
    assert state["members"][1:] == [people[0]["id"]]
    assert (state["topic"], state["messages"]) == ("Acme", ["hello"])
    assert state["bookmarks"] == [{"title": "P", "link": "https://x.io"}]


# ----- rate limits ---------------------------------------------------------------------------
def test_tier_2_method_over_its_limit_gets_429_with_retry_after():
    with Sandbox(rate_scale=0.1) as box:  # tier 2: 2 calls a minute
        client = WebClient(token="xoxb-sandbox", base_url=box.url("slack"))
        client.conversations_list()
        client.conversations_list()
        with pytest.raises(SlackApiError) as info:
            client.conversations_list()
        response = info.value.response
        assert (response.status_code, response["error"]) == (429, "ratelimited")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert client.conversations_create(name="other-method-other-window")["ok"]


def test_messages_are_limited_per_channel():
    with Sandbox(rate_scale=0.5) as box:  # a burst of 1.5 then one every 2 s
        client = WebClient(token="xoxb-sandbox", base_url=box.url("slack"))
        busy = client.conversations_create(name="busy")["channel"]["id"]
        calm = client.conversations_create(name="calm")["channel"]["id"]
        client.chat_postMessage(channel=busy, text="1")
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel=busy, text="2")
        assert info.value.response.status_code == 429
        assert client.chat_postMessage(channel=calm, text="1")["ok"]


def test_sdk_retry_handler_waits_out_an_injected_rate_limit(sandbox, slack):
    sandbox.slack.faults.add("rate_limit", calls=1, retry_after=0)
    slack.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    assert slack.auth_test()["ok"]
    assert [c.status for c in sandbox.slack.calls()] == [429, 200]


# ----- contract with the OpenAPI spec ----------------------------------------------------------
@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def problems(spec: dict[str, Any], schema: dict[str, Any], value: Any, at: str = "") -> list[str]:
    """Required keys missing and ids off-pattern, per the spec's (loose) JSON schema."""
    schema = resolve(spec, schema)
    if isinstance(schema.get("items"), list):  # Slack's spec lists alternatives this way
        found = [problems(spec, alt, value, at) for alt in schema["items"]]
        return [] if [] in found else min(found, key=len)
    if isinstance(value, dict) and "properties" in schema:
        found = [f"{at}.{key} missing" for key in schema.get("required", []) if key not in value]
        for key, sub in schema["properties"].items():
            if key in value:
                found += problems(spec, sub, value[key], f"{at}.{key}")
        return found
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [p for item in value for p in problems(spec, schema["items"], item, f"{at}[]")]
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{at}={value!r} does not match {schema['pattern']}"]
    return []


def exercise_every_method(client: WebClient, sandbox: Sandbox) -> dict[str, Any]:
    """One successful call of each emulated method, as the app would make it."""
    person = sandbox.slack.seed_user("ana@acme.example", "Ana Lopez")
    created = client.conversations_create(name="onboarding-acme", is_private=False)
    channel = created["channel"]["id"]
    return {
        "auth.test": client.auth_test(),
        "conversations.create": created,
        "users.lookupByEmail": client.users_lookupByEmail(email="ana@acme.example"),
        "users.info": client.users_info(user=person["id"]),
        "conversations.invite": client.conversations_invite(channel=channel, users=[person["id"]]),
        "conversations.list": client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=200
        ),
        "conversations.info": client.conversations_info(channel=channel, include_num_members=True),
        "conversations.setTopic": client.conversations_setTopic(channel=channel, topic="Acme"),
        "conversations.setPurpose": client.conversations_setPurpose(
            channel=channel, purpose="HubSpot deal 42"
        ),
        "chat.postMessage": client.chat_postMessage(
            channel=channel, text="Hi", blocks=[{"type": "divider"}], unfurl_links=False
        ),
        "bookmarks.add": client.bookmarks_add(
            channel_id=channel, title="Plan", type="link", link="https://notion.so/p", emoji=":a:"
        ),
        "conversations.open": client.conversations_open(users=person["id"], return_im=True),
        "conversations.archive": client.conversations_archive(channel=channel),
    }


def test_every_answer_has_the_keys_the_spec_requires_and_every_sent_argument_is_declared(
    sandbox, slack, spec
):
    answers = exercise_every_method(slack, sandbox)
    for method, answer in answers.items():
        if method == "bookmarks.add":
            example = json.loads((FIXTURES / "bookmarks_add.json").read_text())
            assert set(answer["bookmark"]) == set(example["bookmark"])
            continue
        schema = next(iter(spec["paths"][f"/{method}"].values()))["responses"]["200"]["schema"]
        assert problems(spec, schema, answer.data) == [], method
    for call in sandbox.slack.calls():
        method = call.path.rsplit("/", 1)[-1]
        sent = set(call.body or {}) | set(call.query)
        if method == "bookmarks.add":
            declared = BOOKMARKS_ADD_ARGS
        else:
            operation = next(iter(spec["paths"][f"/{method}"].values()))
            declared = {p["name"] for p in operation.get("parameters", [])}
        assert sent <= declared, (method, sent - declared)
