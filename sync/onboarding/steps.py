"""The names of the ledger's steps: one place, so every reader asks for the same step.

A repair re-creates a thing as a new generation of its step (``notion.project#2``); the
current one is the newest done generation (``Ledger.current_ids``).
"""

from __future__ import annotations

NOTION_PROJECT = "notion.project"
NOTION_RELINK = "notion.relink"
NOTION_CHANNEL_LINK = "notion.channel_link"
SLACK_CHANNEL = "slack.channel"
SLACK_INVITE = "slack.invite"
SLACK_SUMMARY = "slack.summary"
CUSTOMERIO_SEGMENT = "customerio.segment"


def generation(name: str, number: int = 1) -> str:
    """A step's name in a repair generation: the first keeps the plain name."""
    return name if number == 1 else f"{name}#{number}"


def notion_task(task_key: str) -> str:
    return f"notion.task:{task_key}"


def customerio_identify(contact_id: str) -> str:
    return f"customerio.identify:{contact_id}"


def customerio_event(contact_id: str) -> str:
    return f"customerio.event:{contact_id}"


def hubspot_properties(digest: str) -> str:
    """The kickoff's write of the onboarding fields, keyed by their values."""
    return f"hubspot.properties:{digest}"


def hubspot_links(digest: str) -> str:
    """A repair's write of new project and channel links, keyed by their values."""
    return f"hubspot.links:{digest}"


def hubspot_status(status: str) -> str:
    """The ended (cancelled, churned) status written once."""
    return f"hubspot.status:{status}"


def milestone_customerio(milestone: str, contact_id: str) -> str:
    return f"milestone.{milestone}.customerio:{contact_id}"


def milestone_slack(milestone: str) -> str:
    return f"milestone.{milestone}.slack"


def check_in(week: int) -> str:
    """The signal pass's weekly check-in task (its Slack note is ``check_in(week) + ".slack"``)."""
    return f"signals.check_in:w{week}"


def bounce(key: str) -> str:
    return f"signals.bounce:{key}"[:200]
