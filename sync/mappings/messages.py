"""messages.yaml: the texts the engine sends, per message name and language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.mappings.base import Strict
from sync.onboarding.templates import render, render_for_slack

DEFAULT_LOCALE = "en"
# The reminder digest's texts (sync/reminders/digest.py): about tasks across customers, so they
# are filled from the reminder's own facts, `{reminder.<key>}`, not from one deal's records.
REMINDER_MESSAGES = (
    "reminder_digest",
    "reminder_section_escalation",
    "reminder_section_overdue",
    "reminder_section_due",
    "reminder_section_before",
    "reminder_more",
    "reminder_task",
    "reminder_late_one",
    "reminder_late",
    "reminder_owner",
    "reminder_deal",
    "reminder_channel",
)
REMINDER_KEYS = frozenset(
    {"date", "more", "title", "company", "due_date", "days_late", "owner", "deal_url", "line"}
)
REQUIRED_MESSAGES = (
    "csm_summary",
    "channel_welcome",
    "milestone_setup_form",
    "milestone_first_value",
    "milestone_go_live",
    "milestone_completed",
    *REMINDER_MESSAGES,
)


class Messages(Strict):
    """messages.yaml: message name to locale to template."""

    messages: dict[str, dict[str, str]]

    def render(self, name: str, locale: str | None, context: Mapping[str, Any]) -> str:
        """The message in the customer's language (`ro-RO` means `ro`), else in English."""
        return render(self._text(name, locale), context)

    def render_for_slack(self, name: str, locale: str | None, context: Mapping[str, Any]) -> str:
        """The same, as Slack mrkdwn: every value from outside escaped."""
        return render_for_slack(self._text(name, locale), context)

    def _text(self, name: str, locale: str | None) -> str:
        texts = self.messages[name]
        language = (locale or "").replace("_", "-").split("-")[0].lower()
        return texts.get(language) or texts[DEFAULT_LOCALE]
