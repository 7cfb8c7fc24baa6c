"""The `flask` commands: serve, db upgrade, onboarding status/retry/list, setup, doctor, demo.

Exit codes are for scripts: 0 done, 1 failed (a person must act), 2 unknown deal,
3 still in progress.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from sync.models import Job, LedgerStep, Onboarding

EXIT_DONE, EXIT_FAILED, EXIT_UNKNOWN, EXIT_IN_PROGRESS = 0, 1, 2, 3


def _services() -> Any:
    return current_app.extensions["services"]


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the app and run its worker in this process."""
    from werkzeug.serving import run_simple

    from app import start_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = start_worker(app)
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        worker.stop()


db_group = AppGroup("db", help="Database schema.")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (also done at every start)."""
    _services().store.upgrade()
    click.echo("database is at the newest migration")


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
        click.echo(f"deal {deal_id}: no onboarding and no kickoff queued", err=True)
        sys.exit(EXIT_UNKNOWN)
    if onboarding is not None:
        click.echo(
            f"deal {deal_id}: {onboarding.company_name or '?'} · segment {onboarding.segment} · "
            f"playbook {onboarding.playbook} · status {onboarding.status}"
        )
    if job is not None:
        line = f"kickoff job: {job.status} (attempts {job.attempts})"
        click.echo(line + (f" · last error: {job.last_error}" if job.last_error else ""))
    for step in steps:
        click.echo(_step_line(step))
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
        click.echo(f"deal {deal_id}: no kickoff to retry (unknown, or running now)", err=True)
        sys.exit(EXIT_UNKNOWN)
    click.echo(f"deal {deal_id}: kickoff queued again; the worker picks it up within seconds")


@onboarding_group.command("list")
def list_command() -> None:
    """Every onboarding with its status."""
    with _services().store.session() as session:
        rows = session.scalars(select(Onboarding).order_by(Onboarding.id)).all()
    for row in rows:
        click.echo(f"{row.deal_id:<16} {row.status:<10} {row.segment or '':<12} {row.company_name}")
    if not rows:
        click.echo("no onboardings yet")


def register(app: Flask) -> None:
    for command in (serve_command, db_group, onboarding_group):
        app.cli.add_command(command)
