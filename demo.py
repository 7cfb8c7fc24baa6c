"""The newcomer's demo: the sandbox and the app on this machine, one deal won, every effect shown.

Nothing here is special-cased for the demo: the app is the real app on SQLite, its worker is
the real worker, and the webhook is sent by the HubSpot emulator, signed as HubSpot signs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from app import create_installed_app
from sandbox import Sandbox
from sandbox.scenarios import WEBHOOK_SECRET, app_settings, seed_customer, seed_team
from settings import ROOT
from sync.install import load_manifest
from sync.store.models import LedgerStep, Onboarding
from web.server import Server


def run_demo(
    app_port: int = 5000,
    sandbox_port: int = 8900,
    database: Path = ROOT / "instance" / "demo.db",
    keep_running: bool = True,
    say: Callable[[str], None] = print,
) -> bool:
    """Run the whole story; returns True when the kickoff finished in every service."""
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()  # each demo starts from an empty database
    box = Sandbox().start(port=sandbox_port)
    say(f"Sandbox (HubSpot, Notion, Slack, Customer.io emulators): {box.base_url}/")
    team = seed_team(box)
    say("\n1. Installing the app: HubSpot properties and Notion databases (`flask setup`)")
    config = {**app_settings(box), "database_url": f"sqlite:///{database}"}
    app = create_installed_app(config, team["notion_parent"])
    services = app.extensions["services"]
    properties = sum(len(specs) for specs in load_manifest()["properties"].values())
    say(f"   {properties} HubSpot properties (deals and companies) in the 'onboarding' group")
    settings = services.settings
    say(
        f"   Notion databases: projects {settings.notion_projects_database_id}, "
        f"tasks {settings.notion_tasks_database_id}"
    )

    server = Server(app, "127.0.0.1", app_port)  # as `flask serve` runs: waitress and the worker
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    app_url = f"http://127.0.0.1:{app_port}"
    say(f"   App listening on {app_url} (webhook: {app_url}/webhooks/hubspot)")

    customer = seed_customer(box, team)
    box.hubspot.configure_webhooks(f"{app_url}/webhooks/hubspot", WEBHOOK_SECRET)
    say(f"\n2. A sales rep moves the deal '{customer.name} - annual plan' to Closed Won in HubSpot")
    box.hubspot.update_as_user("deals", customer.deal_id, {"dealstage": "closedwon"})

    say("\n3. The app answered the webhook at once; its worker fans the kickoff out:")
    finished = _follow(services, customer.deal_id, say)
    _summary(box, services, customer.deal_id, say)
    say(f"\nSee everything on the sandbox page: {box.base_url}/")
    say(
        f"Ask the app: flask --app app onboarding status {customer.deal_id}  "
        f"(with DATABASE_URL=sqlite:///{database})"
    )
    try:
        while keep_running:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        serving.join(timeout=30)
        box.stop()
    return finished


def _follow(services, deal_id: str, say: Callable[[str], None], timeout: float = 120) -> bool:
    """Print each ledger step as it completes, until the kickoff job settles."""
    shown: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.store.session() as session:
            steps = session.scalars(
                select(LedgerStep)
                .join(Onboarding)
                .where(Onboarding.deal_id == deal_id, LedgerStep.status.in_(("done", "failed")))
                .order_by(LedgerStep.finished_at)
            ).all()
        for step in steps:
            if step.name not in shown:
                shown.add(step.name)
                mark = "✔" if step.status == "done" else "✘"
                say(f"   {mark} {step.name:<38} {step.external_id or step.error or ''}")
        job = services.queue.get("kickoff", deal_id)
        if job is not None and job.status in ("done", "failed"):
            return job.status == "done"
        time.sleep(0.2)
    return False


def _summary(box: Sandbox, services, deal_id: str, say: Callable[[str], None]) -> None:
    with services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
    deal = box.hubspot.record("deals", deal_id)["properties"]
    channel = box.slack.channels()[0] if box.slack.channels() else None
    say("\n4. What happened, service by service:")
    say(f"   Segment: {onboarding.segment} → playbook {onboarding.playbook}")
    tasks = [p for p in box.notion.pages() if "Task ID" in p["properties"]]
    say(f"   Notion: 1 project page and {len(tasks)} task pages")
    if channel:
        say(
            f"   Slack: #{channel['name']} with {len(channel['members'])} members, "
            f"{len(box.slack.messages(channel['id']))} summary message"
        )
    events = box.customerio.events(name="onboarding_started")
    say(
        f"   Customer.io: {len(box.customerio.people())} person identified, added to the "
        f"onboarding segment, {len(events)} onboarding_started event"
    )
    say(
        f"   HubSpot deal: status {deal.get('onboarding_status')}, next task "
        f"'{deal.get('onboarding_next_task')}' due {deal.get('onboarding_next_task_due')}"
    )
