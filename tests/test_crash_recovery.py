"""A real app process killed with SIGKILL mid fan-out, then started again, finishes the kickoff
with nothing duplicated: the ledger and the services' own keys carry it across the crash."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.scenarios import seed_customer
from sync.jobs.queue import JobQueue
from sync.store.db import Store
from tests.conftest import FAST, make_world
from tests.test_kickoff import counts

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"app exited at start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.1)
    raise RuntimeError("app did not start")


def app_env(world) -> dict[str, str]:
    """The environment of an app process pointed at this world's sandbox and database."""
    settings = world.services.settings
    return {
        **os.environ,
        **{k.upper(): str(v) for k, v in world.app_config.items()},
        "NOTION_PROJECTS_DATABASE_ID": settings.notion_projects_database_id,
        "NOTION_TASKS_DATABASE_ID": settings.notion_tasks_database_id,
        "JOB_LEASE_SECONDS": "1.5",
        "WORKER_INTERVAL_SECONDS": "0.2",
        "POLL_INTERVAL_SECONDS": "0.3",
    }


def kill_on(
    box: Sandbox, service: str, path_part: str, nth: int, process_ref: list
) -> threading.Event:
    """SIGKILL the app when ``service`` has answered the nth call whose path has ``path_part``."""
    fired = threading.Event()
    seen = []

    def observe(call) -> None:
        if path_part in call.path and call.status < 300 and not fired.is_set():
            seen.append(call)
            if len(seen) == nth:
                fired.set()
                os.kill(process_ref[0].pid, signal.SIGKILL)

    box.emulators[service].observers.append(observe)
    return fired


@pytest.mark.parametrize(
    ("service", "path_part", "nth"),
    [
        ("notion", "/v1/pages", 1),  # the project page exists, the app never heard back
        ("notion", "/v1/pages", 6),  # in the middle of the task pages
        ("slack", "conversations.create", 1),
        ("slack", "chat.postMessage", 1),
        ("customerio", "add_customers", 1),
        ("customerio", "/events", 1),
        ("hubspot", "batch/update", 1),
    ],
)
def test_killed_mid_fan_out_and_restarted_finishes_with_nothing_duplicated(
    tmp_path, service, path_part, nth
):
    with Sandbox(rate_scale=FAST) as box:
        world = make_world(box, tmp_path, rate_scale=FAST)
        settings = world.services.settings
        customer = seed_customer(box, world.team)
        env = app_env(world)
        port = free_port()
        log = tmp_path / "app.log"
        process = [start_app(env, port, log)]
        fired = kill_on(box, service, path_part, nth, process)
        world.sender.target_url = f"http://127.0.0.1:{port}/webhooks/hubspot"
        answer = world.sender.deliver([world.won(customer.deal_id)])
        assert answer.status_code == 200

        assert fired.wait(30), f"never reached the kill point:\n{log.read_text()[-3000:]}"
        process[0].wait(10)
        assert process[0].returncode == -signal.SIGKILL
        queue = JobQueue(Store(settings.database_url))
        assert queue.get("kickoff", customer.deal_id).status != "done"

        process[0] = start_app(env, port, log)
        try:
            deadline = time.monotonic() + 60
            while queue.get("kickoff", customer.deal_id).status != "done":
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            process[0].terminate()
            process[0].wait(10)

        tasks = len(world.services.mappings.playbook("enterprise").tasks)
        assert counts(box, customer.deal_id) == {
            "projects": 1,
            "tasks": tasks,
            "distinct_tasks": tasks,
            "channels": 1,
            "messages": 1,
            "segment_adds": counts(box, customer.deal_id)["segment_adds"],
            "segment_members": 1,
            "started_events": 1,
        }
        channel = box.slack.channels()[0]
        assert len(box.slack.members(channel["id"])) == 3  # the bot, the CSM, the AE
        deal = box.hubspot.record("deals", customer.deal_id)
        assert deal["properties"]["onboarding_channel_url"].endswith(channel["id"])


@pytest.mark.parametrize(("service", "path_part"), [("customerio", "/events"),
                                                   ("slack", "chat.postMessage")])  # fmt: skip
def test_killed_while_announcing_a_milestone_announces_it_once(tmp_path, service, path_part):
    from sync.jobs.worker import run_until_idle
    from sync.onboarding import notion_schema as schema
    from tests.test_kickoff import kickoff_done

    with Sandbox(rate_scale=FAST) as box:
        world = make_world(box, tmp_path, rate_scale=FAST)
        customer = seed_customer(box, world.team, employees=10)
        world.deliver([world.won(customer.deal_id)])
        run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
        with world.services.store.session() as session:
            from sync.store.models import OnboardingTask

            setup = next(
                t for t in session.query(OnboardingTask) if "setup_form" in (t.flags or [])
            )
        port, log = free_port(), tmp_path / "app.log"
        process = [start_app(app_env(world), port, log)]
        fired = kill_on(box, service, path_part, 1, process)
        box.notion.edit_page_as_user(
            setup.notion_page_id, {schema.STATUS: {"status": {"name": "Done"}}}
        )
        assert fired.wait(30), f"never reached the kill point:\n{log.read_text()[-3000:]}"
        process[0].wait(10)

        process[0] = start_app(app_env(world), port, log)
        queue = JobQueue(Store(world.services.settings.database_url))
        try:
            deadline = time.monotonic() + 60
            key = f"{customer.deal_id}:setup_form"
            while (job := queue.get("milestone", key)) is None or job.status != "done":
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            process[0].terminate()
            process[0].wait(10)

        assert len(box.customerio.events(name="setup_form_completed")) == 1
        channel = box.slack.channels()[0]
        notes = [m for m in box.slack.messages(channel["id"]) if "setup form" in m["text"]]
        assert len(notes) == 1
