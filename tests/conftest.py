"""Shared fixtures: the sandbox in a thread, and the app on a throw-away database against it."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_installed_app
from sandbox import Sandbox
from sandbox.hubspot.webhooks import HubSpotWebhookSender
from sandbox.scenarios import WEBHOOK_SECRET, app_settings, seed_team
from sync.store.db import Store

# Emulated limits and the app's own limiter are both scaled up by this factor in kickoff tests,
# so the ratio between them (what the tests check) stays the vendors' while runs stay short.
FAST = 20.0


@pytest.fixture(scope="module")
def shared_sandbox():
    """One sandbox server per test module: stopping a server costs a poll interval."""
    with Sandbox() as box:
        yield box


@pytest.fixture
def sandbox(shared_sandbox):
    """All four emulators on a local port, emptied for each test."""
    shared_sandbox.reset()
    return shared_sandbox


@dataclass
class World:
    """A sandbox with the vendor's team seeded, and an app pointed at it."""

    box: Sandbox
    app: Any
    team: dict[str, str]
    sender: HubSpotWebhookSender
    app_config: dict[str, Any]

    @property
    def services(self) -> Any:
        return self.app.extensions["services"]

    @property
    def worker(self) -> Any:
        return self.app.extensions["worker"]

    def deliver(self, events: list[dict], *, attempt: int | None = None, client: Any = None):
        """POST a signed batch to the app, as HubSpot does; returns the test client's response."""
        if attempt is not None:
            events = [{**e, "attemptNumber": attempt} for e in events]
        body = json.dumps(events).encode()
        headers = self.sender.sign(
            "POST", "http://localhost/webhooks/hubspot", body, int(time.time() * 1000)
        )
        return (client or self.app.test_client()).post(
            "/webhooks/hubspot", data=body, headers=headers
        )

    def won(self, deal_id: str, **fields: Any) -> dict:
        """HubSpot's event for a deal moved to Closed Won (the emulated deal moves too, so the
        kickoff, which checks the stage in HubSpot, finds it won)."""
        if self.box.hubspot.record("deals", deal_id) is not None:
            self.box.hubspot.update_as_user("deals", deal_id, {"dealstage": "closedwon"})
        return self.sender.event(
            "deal.propertyChange",
            deal_id,
            property_name="dealstage",
            property_value="closedwon",
            **fields,
        )


def make_world(box: Sandbox, tmp_path, **overrides: Any) -> World:
    team = seed_team(box)
    # Deletions end at once: a test delivers a merge's events together, as HubSpot batches them.
    config = {
        "database_url": f"sqlite:///{tmp_path / 'app.db'}",
        "merge_grace_seconds": 0,
        **overrides,
    }
    app = create_installed_app({**app_settings(box), **config}, team["notion_parent"])
    sender = HubSpotWebhookSender("http://localhost/webhooks/hubspot", WEBHOOK_SECRET)
    return World(box, app, team, sender, {**app_settings(box), **config})


@pytest.fixture
def world(tmp_path) -> World:
    with Sandbox(rate_scale=FAST) as box:
        yield make_world(box, tmp_path, rate_scale=FAST)


def retries_waited(box: Sandbox, statuses: set[int], seconds: float) -> int:
    """Assert from each emulator's call log that every answer of these statuses, each sent with
    a Retry-After of ``seconds``, was retried no sooner; returns how many there were."""
    answered = 0
    for name, emulator in box.emulators.items():
        calls = emulator.calls()
        for n, call in enumerate(calls):
            if call.status not in statuses:
                continue
            answered += 1
            same = (c for c in calls[n + 1 :] if (c.method, c.path) == (call.method, call.path))
            retry = next(same, None)
            if retry is not None:
                waited = retry.at - call.at
                assert waited >= seconds * 0.95, (name, call.method, call.path, call.status, waited)
    return answered


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """A migrated, empty store on each backend: SQLite, and PostgreSQL when CI provides one."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        store.upgrade()
        yield store
        store.dispose()
        return
    admin_url = os.environ["TEST_POSTGRES_URL"]
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    store = Store(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    store.upgrade()
    yield store
    store.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()
