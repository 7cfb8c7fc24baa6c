"""The names of the ledger's steps: one place, so every reader asks for the same step.

A repair re-creates a thing as a new generation of its step (``notion.project#2``); the
current one is the newest done generation (``Ledger.current_ids``).
"""

from __future__ import annotations

from collections.abc import Callable

NOTION_PROJECT = "notion.project"
NOTION_RELINK = "notion.relink"  # a repair points the task pages at the new project
NOTION_CHANNEL_LINK = "notion.channel_link"  # ... and the project at the new channel
SLACK_CHANNEL = "slack.channel"
SLACK_INVITE = "slack.invite"
SLACK_SUMMARY = "slack.summary"
CUSTOMERIO_SEGMENT = "customerio.segment"


def generation(name: str, number: int = 1) -> str:
    """A step's name in a repair generation: the first keeps the plain name."""
    return name if number == 1 else f"{name}#{number}"


def _keyed(prefix: str) -> Callable[[str], str]:
    """Steps done once per something (a task, a contact, a set of values): ``prefix:key``."""
    return lambda key: f"{prefix}:{key}"[:200]  # the ledger's name column


notion_task = _keyed("notion.task")  # per planned task
customerio_identify = _keyed("customerio.identify")  # per contact
customerio_event = _keyed("customerio.event")  # per contact: onboarding_started
hubspot_properties = _keyed("hubspot.properties")  # the kickoff's fields, per digest of values
hubspot_links = _keyed("hubspot.links")  # a repair's new links, per digest of values
hubspot_status = _keyed("hubspot.status")  # an ended status, written once
bounce = _keyed("signals.bounce")  # per bounced email event


def check_in(week: int) -> str:
    """The signal pass's weekly check-in task (its Slack note is ``check_in(week) + ".slack"``)."""
    return f"signals.check_in:w{week}"


def milestone_customerio(milestone: str, contact_id: str) -> str:
    return f"milestone.{milestone}.customerio:{contact_id}"


def milestone_slack(milestone: str) -> str:
    return f"milestone.{milestone}.slack"
