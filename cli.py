"""The `flask` commands: serve, db upgrade, onboarding status/retry/list/catch-up, setup, doctor,
demo.

Exit codes are for scripts: 0 done, 1 failed (a person must act), 2 unknown deal,
3 still in progress.
"""

from __future__ import annotations

import re
import signal
import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from connectors.errors import ConnectorError
from sync.store.models import Job, LedgerStep, Onboarding

EXIT_DONE, EXIT_FAILED, EXIT_UNKNOWN, EXIT_IN_PROGRESS = 0, 1, 2, 3

# Vendor text (names, errors, tokens) must not move the cursor, retitle the terminal or hide a
# line: escape sequences go whole, then every other control character but newline and tab.
_TERMINAL_CONTROLS = re.compile(
    r"\x1b[P\]X^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # strings: OSC (title, link), DCS, APC ...
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erasing
    r"|\x1b[ -/]*[0-~]?"  # any other escape, or ESC alone
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 but tab and newline, DEL, C1
)


def printable(text: str) -> str:
    """``text`` with every terminal escape and control character removed (but \\n and \\t)."""
    return _TERMINAL_CONTROLS.sub("", text)


def say(text: str, err: bool = False) -> None:
    """Print one line; every command's output goes through here, so through printable()."""
    click.echo(printable(text), err=err)


class CommandFailed(click.ClickException):
    """Exit 1 with a message, made printable like every other line (it may quote a vendor)."""

    def format_message(self) -> str:
        return printable(self.message)


def _services() -> Any:
    return current_app.extensions["services"]


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="request threads")
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the app (waitress) and run its worker and periodic passes in this one process."""
    from web.server import Server

    server = Server(current_app._get_current_object(), host, port, threads)  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, lambda *_: server.close())  # a clean stop, as on Ctrl-C
    server.run()


db_group = AppGroup("db", help="Database schema.")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (also done at every start)."""
    _services().store.upgrade()
    say("database is at the newest migration")


onboarding_group = AppGroup("onboarding", help="Inspect and repair onboardings.")


@onboarding_group.command("status")
@click.argument("deal_id")
def status_command(deal_id: str) -> None:
    """Show one deal's onboarding: each step, its id or its failure. Exit code says the state."""
    services = _services()
    with services.store.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "kickoff", Job.key == deal_id))
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
        steps = list(onboarding.steps) if onboarding else []
    if job is None and onboarding is None:
        say(f"deal {deal_id}: no onboarding and no kickoff queued", err=True)
        sys.exit(EXIT_UNKNOWN)
    if onboarding is not None:
        say(
            f"deal {deal_id}: {onboarding.company_name or '?'} · segment {onboarding.segment} · "
            f"playbook {onboarding.playbook} · status {onboarding.status}"
        )
    if job is not None:
        line = f"kickoff job: {job.status} (attempts {job.attempts})"
        say(line + (f" · last error: {job.last_error}" if job.last_error else ""))
    for step in steps:
        say(_step_line(step))
    state = job.status if job is not None else "done"
    if state == "failed" or (onboarding is not None and onboarding.status == "failed"):
        sys.exit(EXIT_FAILED)
    if state != "done":
        sys.exit(EXIT_IN_PROGRESS)
    sys.exit(EXIT_DONE)


def _step_line(step: LedgerStep) -> str:
    mark = {"done": "✔", "failed": "✘", "retrying": "…", "started": "…"}.get(step.status, "?")
    detail = step.external_id if step.status == "done" else step.error or step.status
    return f"  {mark} {step.name:<40} {detail or ''}"


@onboarding_group.command("retry")
@click.argument("deal_id")
def retry_command(deal_id: str) -> None:
    """Run a deal's kickoff again now: done steps are kept, failed ones are tried again."""
    if not _services().queue.requeue("kickoff", deal_id):
        say(f"deal {deal_id}: no kickoff to retry (unknown, or running now)", err=True)
        sys.exit(EXIT_UNKNOWN)
    say(f"deal {deal_id}: kickoff queued again; the worker picks it up within seconds")


@onboarding_group.command("list")
def list_command() -> None:
    """Every onboarding with its status."""
    with _services().store.session() as session:
        rows = session.scalars(select(Onboarding).order_by(Onboarding.id)).all()
    for row in rows:
        say(f"{row.deal_id:<16} {row.status:<10} {row.segment or '':<12} {row.company_name}")
    if not rows:
        say("no onboardings yet")


@onboarding_group.command("repair")
@click.argument("deal_id")
def repair_command(deal_id: str) -> None:
    """Re-create a deal's Notion project or Slack channel that someone removed; never duplicates."""
    from sync.progress.drift import repair

    services = _services()
    with services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
    job = services.queue.get("kickoff", deal_id)
    if onboarding is None:
        say(f"deal {deal_id}: no onboarding to repair", err=True)
        sys.exit(EXIT_UNKNOWN)
    if job is not None and job.status in ("queued", "running", "retrying"):
        say(f"deal {deal_id}: the kickoff is still running; repair after it", err=True)
        sys.exit(EXIT_IN_PROGRESS)
    if onboarding.ended_at is not None:
        say(f"deal {deal_id}: the onboarding is {onboarding.status}; nothing to repair")
        return
    try:
        repaired = repair(services, deal_id)
    except ConnectorError as exc:
        say(f"deal {deal_id}: repair stopped: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    for line in repaired or ["nothing to repair: the project and the channel are there"]:
        say(f"deal {deal_id}: {line}")


@onboarding_group.command("catch-up")
@click.option("--since", required=True, help="ISO date or time; without an offset, in TIMEZONE.")
@click.option("--until", default=None, help="ISO date or time (default: now).")
def catch_up_command(since: str, until: str | None) -> None:
    """Start the onboardings whose won-deal webhook never came: deals won since a date."""
    from sync.intake.catchup import PageDone, catch_up

    services = _services()
    start = _moment(since, "--since", services.settings.tz)
    end = _moment(until, "--until", services.settings.tz) if until else None
    if end is not None and end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")

    def progress(page: PageDone) -> None:
        say(f"  {page.pipeline}/{page.stage}: {page.deals} deals, {page.queued} newly queued")

    try:
        result = catch_up(services, start, end, on_page=progress)
    except ConnectorError as exc:
        raise CommandFailed(str(exc)) from exc
    say(result.summary())
    if result.queued:
        say("the running app's worker starts their kickoffs within seconds")


def _moment(value: str, option: str, tz: Any) -> datetime:
    """An ISO date or time from the command line; a bare one is read in the app's timezone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        problem = f"{value!r} is not an ISO date or time"
        raise click.BadParameter(problem, param_hint=option) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@onboarding_group.command("rescan")
def rescan_command() -> None:
    """Re-read every task page from Notion (recovery), then recompute and write back progress."""
    from sqlalchemy import func

    from sync.progress.tracking import progress_tick
    from sync.store.models import OnboardingTask

    services = _services()
    with services.store.session() as session:
        known = session.scalar(
            select(func.count()).where(OnboardingTask.notion_page_id.is_not(None))
        )
    try:
        with click.progressbar(length=known or 1, label="Notion task pages") as bar:
            tick = progress_tick(services, full=True, on_batch=bar.update)
    except ConnectorError as exc:
        raise CommandFailed(str(exc)) from exc
    say(
        f"{tick.applied.pages} pages read, {tick.applied.tasks_changed} tasks changed; "
        f"{tick.refreshed.changed} onboardings written to HubSpot "
        f"({tick.refreshed.hubspot_calls} batch calls)"
    )


@onboarding_group.command("notion-token")
def notion_token_command() -> None:
    """Print the verification token Notion sent when its webhook subscription was created."""
    from sync.intake.inbox import latest_notion_verification

    token = latest_notion_verification(_services().store)
    if token is None:
        say("no verification request from Notion has arrived yet", err=True)
        sys.exit(EXIT_UNKNOWN)
    say(token)


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """Install the app: HubSpot properties, and the Notion databases when none are configured."""
    from sync.install import install_hubspot, install_notion, load_manifest

    services = _services()
    settings = services.settings
    try:
        for line in install_hubspot(services, load_manifest()):
            say(line)
        if settings.notion_projects_database_id and settings.notion_tasks_database_id:
            projects, tasks = services.notion_sources
            say("Notion databases are configured; nothing to create. Their data sources:")
            say(f"  NOTION_PROJECTS_DATA_SOURCE_ID={projects}")
            say(f"  NOTION_TASKS_DATA_SOURCE_ID={tasks}")
        elif settings.notion_parent_page_id:
            created = install_notion(services, settings.notion_parent_page_id)
            say("Notion databases created. Put these in the app's environment:")
            for name, value in created.items():
                say(f"  {name.upper()}={value}")
        else:
            raise CommandFailed(
                "set NOTION_PARENT_PAGE_ID (a page shared with the integration) so the "
                "databases can be created under it"
            )
    except ConnectorError as exc:
        raise CommandFailed(str(exc)) from exc


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check every token, scope and id, and say what to fix; warn of what the web edge refuses."""
    from sync.install import doctor, load_manifest
    from web.readiness import edge_warnings

    services = _services()
    checks = doctor(services, load_manifest())
    for check in checks:
        say(f"{'✔' if check.ok else '✘'} {check.name}: {check.detail}")
    for warning in edge_warnings(services.settings):  # worth knowing, not failures
        say(f"! {warning}")
    if not all(check.ok for check in checks):
        sys.exit(EXIT_FAILED)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int, help="the app's port")
@click.option("--sandbox-port", default=8900, show_default=True, type=int)
@click.option("--exit", "exit_after", is_flag=True, help="stop once the kickoff is shown")
def demo_command(port: int, sandbox_port: int, exit_after: bool) -> None:
    """Start the sandbox and the app, win a deal, and show what happened everywhere."""
    from demo import run_demo

    if not run_demo(port, sandbox_port, keep_running=not exit_after):
        sys.exit(EXIT_FAILED)


def register(app: Flask) -> None:
    for command in (
        serve_command,
        db_group,
        onboarding_group,
        setup_command,
        doctor_command,
        demo_command,
    ):
        app.cli.add_command(command)
