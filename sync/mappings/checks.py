"""The checks a file's schema cannot make alone: unique keys, milestones, names across files."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sync.mappings.base import EMAIL_PATTERN
from sync.mappings.fields import FieldMappings
from sync.mappings.messages import (
    DEFAULT_LOCALE,
    REMINDER_KEYS,
    REMINDER_MESSAGES,
    REQUIRED_MESSAGES,
    Messages,
)
from sync.mappings.playbooks import MILESTONE_FLAGS, Playbook
from sync.mappings.references import (
    TASK_KEYS,
    Known,
    check_fact_templates,
    check_field,
    check_templates,
)
from sync.mappings.reminders import ReminderRules
from sync.mappings.roles import Roles
from sync.mappings.segments import Segments
from sync.mappings.signals import SIGNAL_KEYS, SignalRules
from sync.mappings.source import KeyPath, Source
from sync.mappings.triggers import Triggers


def _check_unique(source: Source, prefix: KeyPath, items: list[Any], attr: str) -> Iterator[str]:
    """Each item's attr appears once in the list at prefix; repeats name the line of the first."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            first = source.line((*prefix, seen[value]))
            yield source.problem((*prefix, i, attr), f"{value!r} repeats line {first}")
        seen.setdefault(value, i)


def check_triggers(source: Source, triggers: Triggers) -> Iterator[str]:
    """A stage cannot both start and cancel an onboarding; stages are not churn rules."""
    for i, trigger in enumerate(triggers.cancel):
        for j, stage in enumerate(trigger.stages):
            if triggers.starts(trigger.pipeline, stage):
                yield source.problem(("cancel", i, "stages", j), f"{stage!r} is also a start stage")
    for i, rule in enumerate(triggers.churn):
        if rule.object == "deal" and rule.property == "dealstage":
            yield source.problem(("churn", i, "property"), "deal stages belong under cancel:")


def check_segments(source: Source, segments: Segments, known: Known) -> Iterator[str]:
    """Unique keys, a final catch-all, known playbooks, and rule fields that are read."""
    rules = segments.segments
    yield from _check_unique(source, ("segments",), rules, "key")
    for i, segment in enumerate(rules):
        if not segment.when and i < len(rules) - 1:
            yield source.problem(("segments", i, "when"), "this catch-all hides the segments below")
        if segment.playbook not in known.playbooks:
            names = ", ".join(sorted(known.playbooks))
            problem = f"no playbook {segment.playbook!r} (have {names})"
            yield source.problem(("segments", i, "playbook"), problem)
        for j, condition in enumerate(segment.when):
            path = ("segments", i, "when", j, "field")
            yield from check_field(source, path, condition.field, known)
    if rules[-1].when:
        problem = "the last segment must be a catch-all (empty when) so every deal gets a playbook"
        yield source.problem(("segments", len(rules) - 1, "when"), problem)


def check_roles(source: Source, roles: Roles, known: Known) -> Iterator[str]:
    """Roles read owners only from properties that fields.yaml reads."""
    for key, role in roles.roles.items():
        if role.from_ is not None:
            yield from check_field(source, ("roles", key, "from"), role.from_, known)


def check_playbook(source: Source, playbook: Playbook, stem: str, known: Known) -> Iterator[str]:
    """Keys unique, owners and phases defined, one task per milestone flag, templates fillable."""
    if playbook.key != stem:
        yield source.problem(("key",), f"{playbook.key!r} must match the file name {stem!r}")
    yield from _check_unique(source, ("phases",), playbook.phases, "key")
    yield from _check_unique(source, ("tasks",), playbook.tasks, "key")
    phases = {phase.key for phase in playbook.phases}
    for i, task in enumerate(playbook.tasks):
        if known.roles is not None and task.owner not in known.roles:
            problem = (
                f"no role {task.owner!r} in roles.yaml (have {', '.join(sorted(known.roles))})"
            )
            yield source.problem(("tasks", i, "owner"), problem)
        if task.phase not in phases:
            problem = f"no phase {task.phase!r} (have {', '.join(sorted(phases))})"
            yield source.problem(("tasks", i, "phase"), problem)
    yield from _check_milestones(source, playbook)
    texts = [(("tasks", i, "title"), t.title) for i, t in enumerate(playbook.tasks)]
    texts += [(("tasks", i, "description"), t.description) for i, t in enumerate(playbook.tasks)]
    yield from check_templates(source, texts, known)


def _check_milestones(source: Source, playbook: Playbook) -> Iterator[str]:
    """Exactly one task per milestone flag, since milestones and KPIs hang on them."""
    for flag in MILESTONE_FLAGS:
        carriers = [i for i, task in enumerate(playbook.tasks) if flag in task.flags]
        if not carriers:
            yield source.problem(("tasks",), f"no task has the {flag} flag; exactly one must")
        for i in carriers[1:]:
            first = source.line(("tasks", carriers[0]))
            problem = f"a second {flag} task (first at line {first}); exactly one allowed"
            yield source.problem(("tasks", i, "flags"), problem)


def check_fields(source: Source, fields: FieldMappings, known: Known) -> Iterator[str]:
    """Every template fillable, Customer.io identify carries email, Notion names unique."""
    if "email" not in fields.customerio.identify:
        problem = "must include email (Customer.io needs it)"
        yield source.problem(("customerio", "identify"), problem)
    for kind in ("project", "task"):
        props = getattr(fields.notion, kind)
        yield from _check_unique(source, ("notion", kind), props, "property")
        extra = {"task": TASK_KEYS} if kind == "task" else {}
        values = [(("notion", kind, i, "value"), p.value) for i, p in enumerate(props)]
        yield from check_templates(source, values, known, extra)
    texts = [
        (("customerio", group, key), value)
        for group in ("identify", "onboarding_started")
        for key, value in getattr(fields.customerio, group).items()
    ]
    texts += [
        (("slack", "channel_name"), fields.slack.channel_name),
        (("portal_url",), fields.portal_url),
    ]
    yield from check_templates(source, texts, known)


def check_signals(source: Source, rules: SignalRules, known: Known) -> Iterator[str]:
    """Signal templates fill from the records, roles, onboarding and the signal's own facts."""
    texts = [
        (("low_activity", "task_title"), rules.low_activity.task_title),
        (("low_activity", "notify"), rules.low_activity.notify),
        (("bounce", "notify"), rules.bounce.notify),
    ]
    yield from check_templates(source, texts, known, {"signal": SIGNAL_KEYS})


def check_reminders(
    source: Source, rules: ReminderRules, playbooks: Mapping[str, Playbook | None]
) -> Iterator[str]:
    """People are email addresses; overrides name playbooks and tasks that exist."""
    for email in rules.people:
        if not re.match(EMAIL_PATTERN, email):
            yield source.problem(("people", email), f"{email!r}: not an email address")
    for key, override in rules.escalation.playbooks.items():
        path = ("escalation", "playbooks", key)
        if key not in playbooks:
            yield source.problem(path, f"no playbook {key!r} (have {', '.join(sorted(playbooks))})")
            continue
        tasks = {task.key for task in playbooks[key].tasks} if playbooks[key] else set()
        for task in override.tasks:
            if playbooks[key] and task not in tasks:
                problem = f"no task {task!r} in playbook {key!r}"
                yield source.problem((*path, "tasks", task), problem)


def check_messages(source: Source, messages: Messages, known: Known) -> Iterator[str]:
    """Every message the engine sends exists in English; locales are two-letter codes;
    reminder texts use only the reminder's own placeholders, since no deal's records fill them."""
    for name in REQUIRED_MESSAGES:
        if name not in messages.messages:
            yield source.problem(("messages",), f"message {name!r} is missing")
    for name, texts in messages.messages.items():
        if DEFAULT_LOCALE not in texts:
            problem = f"needs an {DEFAULT_LOCALE} text (the fallback for other languages)"
            yield source.problem(("messages", name), problem)
        for locale, text in texts.items():
            path = ("messages", name, locale)
            if len(locale) != 2 or not locale.isalpha() or not locale.islower():
                yield source.problem(path, f"locale {locale!r} should be a code like en, ro, ru")
            if name in REMINDER_MESSAGES:
                reminder = {"reminder": REMINDER_KEYS}
                yield from check_fact_templates(source, [(path, text)], reminder)
            else:
                yield from check_templates(source, [(path, text)], known)
