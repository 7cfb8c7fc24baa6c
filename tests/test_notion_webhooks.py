"""Notion's integration webhooks as a fast path to the progress poll, and the full re-scan."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from sandbox.scenarios import seed_customer
from sync.intake.routing import route_inbox
from sync.jobs.worker import run_until_idle
from sync.onboarding import notion_schema as schema
from sync.store.models import InboxEvent, Onboarding
from tests.conftest import make_world
from tests.test_kickoff import kickoff_done

FIXTURES = Path(__file__).parent / "fixtures" / "notion"
TOKEN = "secret_verification_token_for_tests"


@pytest.fixture
def hooked(sandbox, tmp_path):
    return make_world(sandbox, tmp_path, notion_webhook_token=TOKEN)


def signed(body: bytes, token: str = TOKEN) -> dict[str, str]:
    digest = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()  # from the reference
    return {"X-Notion-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def rows(world):
    with world.services.store.session() as session:
        return [(r.source, r.kind, r.status) for r in session.query(InboxEvent).order_by("id")]


def test_the_verification_handshake_is_kept_and_its_token_shown_to_the_admin(sandbox, tmp_path):
    hooked = make_world(sandbox, tmp_path)  # the handshake comes before the token is configured
    body = (FIXTURES / "verification.json").read_bytes()
    answer = hooked.app.test_client().post("/webhooks/notion", data=body)
    assert answer.status_code == 200
    printed = hooked.app.test_cli_runner().invoke(args=["onboarding", "notion-token"])
    assert printed.output.strip() == json.loads(body)["verification_token"]
    assert rows(hooked) == [("notion", "verification", "verification")]


def test_a_signed_event_is_stored_once_and_routed_to_the_poll(hooked):
    body = (FIXTURES / "page_properties_updated.json").read_bytes()
    client = hooked.app.test_client()
    first = client.post("/webhooks/notion", data=body, headers=signed(body))
    again = client.post("/webhooks/notion", data=body, headers=signed(body))
    assert first.get_json() == {"new": 1, "duplicates": 0, "malformed": 0}
    assert again.get_json() == {"new": 0, "duplicates": 1, "malformed": 0}
    route_inbox(hooked.services)
    assert rows(hooked) == [("notion", "page.properties_updated", "processed")]


def test_a_bad_notion_signature_is_refused_and_nothing_stored(hooked):
    body = (FIXTURES / "page_properties_updated.json").read_bytes()
    answer = hooked.app.test_client().post(
        "/webhooks/notion", data=body, headers=signed(body, token="someone-else")
    )
    assert answer.status_code == 401 and rows(hooked) == []


def test_rescan_reads_every_page_and_repairs_a_mirror_that_missed_an_edit(world):
    customer = seed_customer(world.box, world.team, employees=10)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    with world.services.store.session() as session:
        task = session.query(Onboarding).filter_by(deal_id=customer.deal_id).one().tasks[0]
    # An edit the incremental poll will never see: its cursor is already past it.
    world.box.notion.edit_page_as_user(
        task.notion_page_id, {schema.STATUS: {"status": {"name": "Done"}}}
    )
    from sync.progress.poll import CURSOR
    from sync.store.cursors import save_cursor

    save_cursor(world.services.store, CURSOR, "2999-01-01T00:00:00.000Z")
    result = world.app.test_cli_runner().invoke(args=["onboarding", "rescan"])
    assert result.exit_code == 0, result.output
    assert "1 tasks changed" in result.output
    deal = world.box.hubspot.record("deals", customer.deal_id)["properties"]
    assert deal["onboarding_progress"] != "0"
