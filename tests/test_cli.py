"""The operator's commands: start-up refusal on broken mappings, setup, doctor, the demo."""

import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import create_app
from cli import CommandFailed, printable
from sync.mappings import MappingError
from sync.store.models import Onboarding
from tests.conftest import make_world, retries_waited

ROOT = Path(__file__).resolve().parent.parent


def broken_mappings(tmp_path):
    target = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", target)
    segments = target / "segments.yaml"
    text = segments.read_text()
    assert "op: gt, value: 100" in text
    segments.write_text(text.replace("op: gt, value: 100", "op: greater, value: 100"))
    lines = text.splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "op: gt, value: 100" in text)
    return target, line


def test_broken_mapping_file_stops_start_up_naming_file_line_and_key(tmp_path):
    mappings, line = broken_mappings(tmp_path)
    with pytest.raises(MappingError) as caught:
        create_app({"mappings_dir": mappings, "database_url": f"sqlite:///{tmp_path}/db"})
    assert f"segments.yaml:{line}: segments[0].when[0].op: 'greater'" in str(caught.value)


def test_cli_refuses_to_start_on_a_broken_mapping(tmp_path):
    mappings, line = broken_mappings(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "onboarding", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "MAPPINGS_DIR": str(mappings),
            "DATABASE_URL": f"sqlite:///{tmp_path}/db",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode != 0
    assert f"segments.yaml:{line}" in result.stderr and "'greater' is not one of" in result.stderr


def test_setup_creates_properties_once_and_prints_the_notion_ids(sandbox, tmp_path):
    world = make_world(sandbox, tmp_path)
    parent = sandbox.notion.seed_parent_page(title="CS")["id"]
    settings = world.services.settings
    settings.notion_projects_database_id = settings.notion_tasks_database_id = None
    settings.notion_parent_page_id = parent
    runner = world.app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "NOTION_PROJECTS_DATABASE_ID=" in first.output
    assert "deals: onboarding_status exists" in first.output  # make_world installed it already
    second = runner.invoke(args=["setup"])
    assert "created" not in second.output.replace("Notion databases created", "")


def test_setup_waits_out_the_retry_after_of_every_503(sandbox, tmp_path):
    """`flask setup` goes through the connectors' one call path, Retry-After included."""
    world = make_world(sandbox, tmp_path)
    parent = sandbox.notion.seed_parent_page(title="CS")["id"]
    settings = world.services.settings
    settings.notion_projects_database_id = settings.notion_tasks_database_id = None
    settings.notion_parent_page_id = parent
    for emulator in (sandbox.hubspot, sandbox.notion):  # the first two calls of each fail
        emulator.faults.add("error", status=503, calls=2, retry_after=1)
    result = world.app.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "NOTION_PROJECTS_DATABASE_ID=" in result.output
    assert retries_waited(sandbox, {503}, seconds=1) == 4


def test_doctor_passes_on_a_good_install_and_names_what_to_fix(sandbox, tmp_path):
    world = make_world(sandbox, tmp_path)
    runner = world.app.test_cli_runner()
    good = runner.invoke(args=["doctor"])
    assert good.exit_code == 0, good.output
    assert good.output.count("✔") == 8  # the catch-up line included

    sandbox.hubspot.add_token("pat-narrow", ["crm.objects.deals.read"])
    settings = world.services.settings
    narrow = create_app(
        {
            **world.app_config,
            "hubspot_access_token": "pat-narrow",
            "customerio_segment_id": None,
            "notion_projects_database_id": settings.notion_projects_database_id,
            "notion_tasks_database_id": settings.notion_tasks_database_id,
        }
    )
    bad = narrow.test_cli_runner().invoke(args=["doctor"])
    assert bad.exit_code == 1
    assert "lacks scopes crm.objects.companies.read" in bad.output
    assert "CUSTOMERIO_SEGMENT_ID is not set" in bad.output
    assert "pat-narrow" not in bad.output  # secrets never reach the output


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_wins_a_deal_and_shows_every_service(tmp_path):
    from demo import run_demo

    lines = []
    done = run_demo(
        free_port(), free_port(), tmp_path / "demo.db", keep_running=False, say=lines.append
    )
    text = "\n".join(lines)
    assert done, text
    assert "✔ slack.summary" in text and "✔ customerio.event" in text
    assert "Slack: #onboarding-acme-robotics with 3 members" in text


def test_doctor_reads_a_blank_webhook_secret_as_unset_and_warns_of_the_open_edge(sandbox, tmp_path):
    world = make_world(sandbox, tmp_path, hubspot_client_secret="")
    result = world.app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1
    assert "✘ HubSpot webhook secret: HUBSPOT_CLIENT_SECRET is not set" in result.output
    assert "! PUBLIC_BASE_URL is not set: " in result.output
    assert "! NOTION_WEBHOOK_TOKEN is not set: " in result.output


@pytest.mark.parametrize(
    ("vendor_text", "shown"),
    [
        ("\x1b]0;owned\x07Acme", "Acme"),  # retitles the terminal window
        ("\x1b]8;;https://evil.example\x1b\\Acme\x1b]8;;\x1b\\", "Acme"),  # a hidden link
        ("Acme\x1b[2J\x1b[1;1H", "Acme"),  # clears the screen, moves the cursor
        ("Ac\x9b31mme\x1bc", "Ac31mme"),  # 8-bit CSI, reset: the controls go, text stays
        ("Acme\rFAKE\x08\x00\x7f", "AcmeFAKE"),
        ("Ștefan & Søn ✔\tline\nnext", "Ștefan & Søn ✔\tline\nnext"),
    ],
)
def test_printable_strips_terminal_controls_and_keeps_text(vendor_text, shown):
    assert printable(vendor_text) == shown
    assert CommandFailed(vendor_text).format_message() == shown


def test_cli_output_of_vendor_data_carries_no_terminal_escapes(sandbox, tmp_path):
    world = make_world(sandbox, tmp_path)
    token = "\x1b]0;owned\x07secret_token\x1b[2J"
    handshake = {"verification_token": token}
    assert world.app.test_client().post("/webhooks/notion", json=handshake).status_code == 200
    with world.services.store.session() as session:
        session.add(
            Onboarding(
                deal_id="901", company_name="\x1b[31mAcme\x1b[0m\r", status="active",
                won_at=datetime.now(UTC),
            )
        )  # fmt: skip
    runner = world.app.test_cli_runner()
    printed = runner.invoke(args=["onboarding", "notion-token"]).output
    listed = runner.invoke(args=["onboarding", "list"]).output
    assert printed == "secret_token\n"
    assert "Acme" in listed and "\x1b" not in listed and "\r" not in listed
