"""The words of reminders, from messages.yaml: each person's digest and a channel's escalation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sync.mappings.messages import DEFAULT_LOCALE
from sync.onboarding.templates import slack_escape
from sync.onboarding.templating import hubspot_deal_url
from sync.reminders.rules import Line
from sync.services import Services

# The digest's sections, most urgent first; each is headed by its reminder_section_* message.
SECTIONS = ("escalation", "overdue", "due", "before")
MAX_LINES = 40  # a digest lists the most urgent lines and counts the rest (Slack caps a message)


def digest_text(services: Services, lines: Sequence[Line], today: date) -> str:
    """The digest: a heading per kind of line, most urgent first, the overflow counted."""
    ranked = sorted(lines, key=lambda x: (SECTIONS.index(x.section), x.task.due, x.task.company))
    parts = [_say(services, "reminder_digest", date=f"{today:%a %d %b %Y}")]
    section = None
    for line in ranked[:MAX_LINES]:
        if line.section != section:
            section = line.section
            parts.append(f"*{_say(services, f'reminder_section_{section}')}*")
        parts.append(f"• {_describe(services, line)}")
    if len(ranked) > MAX_LINES:
        parts.append(_say(services, "reminder_more", more=len(ranked) - MAX_LINES))
    return "\n".join(parts)


def channel_text(services: Services, line: Line) -> str:
    """The channel's note on an escalated task."""
    return _say(services, "reminder_channel", line=_describe(services, line))


def _describe(services: Services, line: Line) -> str:
    """One task on one line: its title linked to Notion, the customer, the due date, how late,
    whose it is (for whoever it is escalated to), the deal."""
    task = line.task
    title = slack_escape(task.title)
    if task.notion_page_id:
        title = f"<{notion_url(task.notion_page_id)}|{title}>"
    company, due_date = slack_escape(task.company), f"{task.due:%a %d %b}"
    parts = [_say(services, "reminder_task", title=title, company=company, due_date=due_date)]
    if line.late:
        late = "reminder_late_one" if line.late == 1 else "reminder_late"
        parts.append(_say(services, late, days_late=line.late))
    if line.section in ("escalation", "channel"):
        parts.append(_say(services, "reminder_owner", owner=task.owner))
    deal = hubspot_deal_url(services, task.deal_id, task.portal_id)
    parts.append(_say(services, "reminder_deal", deal_url=deal))
    return " · ".join(parts)


def _say(services: Services, name: str, **reminder: Any) -> str:
    """A reminder message in English: staff read them, and one digest spans customers of every
    language. Its placeholders are `{reminder.<name>}`, filled from these facts alone."""
    return services.mappings.messages.render(name, DEFAULT_LOCALE, {"reminder": reminder})


def notion_url(page_id: str) -> str:
    """The page's Notion web address."""
    return f"https://www.notion.so/{page_id.replace('-', '')}"
