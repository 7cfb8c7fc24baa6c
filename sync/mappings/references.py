"""What the mapping files may refer to, and why a field or template placeholder cannot be filled."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sync.mappings.base import OBJECTS
from sync.mappings.source import KeyPath, Source
from sync.onboarding.templates import placeholders

# What the engine puts in a template's context besides the HubSpot records (and their `id`).
ONBOARDING_KEYS = frozenset(
    {
        "segment",
        "segment_label",
        "playbook",
        "plan",
        "project_url",
        "channel_id",
        "channel_name",
        "channel_url",
        "deal_url",
        "kickoff_date",
        "portal_url",
        "locale",
        "won_at",
        "started_at",
        "days_since_won",
    }
)
ROLE_KEYS = frozenset({"name", "email", "label"})
TASK_KEYS = frozenset(
    {"key", "title", "phase", "phase_label", "owner", "owner_email", "due_date", "required"}
)


@dataclass
class Known:
    """Names the files define, from raw data so a file with a schema error still counts."""

    read: dict[str, list[str]] | None  # None: fields.yaml unreadable, so skip the check
    roles: set[str] | None
    playbooks: set[str]


def known_names(sources: Mapping[str, Source | None], playbook_stems: Iterable[str]) -> Known:
    """What segments, roles and templates may refer to; playbook keys must equal file names."""
    read = _raw(sources.get("fields.yaml"), "read")
    roles = _raw(sources.get("roles.yaml"), "roles")
    return Known(
        read={obj: list(read.get(obj) or []) for obj in OBJECTS}
        if isinstance(read, dict)
        else None,
        roles=set(roles) if isinstance(roles, dict) else None,
        playbooks=set(playbook_stems),
    )


def _raw(source: Source | None, key: str) -> Any:
    """A top-level value of a parsed file, before validation, or None."""
    return source.data.get(key) if source and isinstance(source.data, dict) else None


def _template_problems(
    template: str, known: Known, extra_roots: Mapping[str, frozenset[str]] = {}
) -> Iterator[str]:
    """Why a template's placeholders cannot be filled, one sentence each."""
    for name in placeholders(template):
        root, *rest = name.split(".")
        if root in OBJECTS:
            yield from _record_problem(name, root, rest, known)
        elif root == "roles":
            yield from _role_problem(name, rest, known)
        else:
            roots = {"onboarding": ONBOARDING_KEYS, **extra_roots}
            yield from _fact_problem(name, roots, also=(*OBJECTS, "roles"))


def _fact_problem(
    name: str, roots: Mapping[str, frozenset[str]], also: tuple[str, ...] = ()
) -> Iterator[str]:
    """A placeholder the engine fills from its own facts is `root.key`, a known root and key."""
    root, *rest = name.split(".")
    if root not in roots:
        yield f"{{{name}}}: unknown placeholder root {root!r} (use {', '.join([*also, *roots])})"
    elif len(rest) != 1 or rest[0] not in roots[root]:
        yield f"{{{name}}}: use {root}.<{'|'.join(sorted(roots[root]))}>"


def _record_problem(name: str, root: str, rest: list[str], known: Known) -> Iterator[str]:
    """A HubSpot record placeholder must name one property that fields.yaml reads."""
    if len(rest) != 1:
        yield f"{{{name}}}: use {root}.<hubspot property>"
    elif known.read is not None and rest[0] != "id" and rest[0] not in known.read[root]:
        yield f"{{{name}}}: {rest[0]!r} is not in fields.yaml read.{root}"


def _role_problem(name: str, rest: list[str], known: Known) -> Iterator[str]:
    """A role placeholder is roles.<role>.<name|email|label> for a defined role."""
    if len(rest) != 2 or rest[1] not in ROLE_KEYS:
        yield f"{{{name}}}: use roles.<role>.<{'|'.join(sorted(ROLE_KEYS))}>"
    elif known.roles is not None and rest[0] not in known.roles:
        yield f"{{{name}}}: no role {rest[0]!r} in roles.yaml"


def check_field(source: Source, path: KeyPath, dotted: str, known: Known) -> Iterator[str]:
    """A rule's `object.property` must be one that fields.yaml reads."""
    root, *rest = dotted.split(".")
    for problem in _record_problem(dotted, root, rest, known):
        yield source.problem(path, problem)


def check_templates(
    source: Source,
    templates: Iterable[tuple[KeyPath, str]],
    known: Known,
    extra_roots: Mapping[str, frozenset[str]] = {},
) -> Iterator[str]:
    """Placeholder problems of each (path, template), located in source."""
    for path, template in templates:
        for problem in _template_problems(template, known, extra_roots):
            yield source.problem(path, problem)


def check_fact_templates(
    source: Source, templates: Iterable[tuple[KeyPath, str]], roots: Mapping[str, frozenset[str]]
) -> Iterator[str]:
    """Placeholder problems of texts filled from `roots` alone, without a deal's records, roles
    or onboarding (a reminder digest spans customers), located in source."""
    for path, template in templates:
        for name in placeholders(template):
            for problem in _fact_problem(name, roots):
                yield source.problem(path, problem)
