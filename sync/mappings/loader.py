"""Reads every mapping file, checks them together, and hands the engine one `Mappings`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sync.kickoff import segmenting
from sync.mappings import checks
from sync.mappings.base import MappingError, Model, Records
from sync.mappings.explain import validate
from sync.mappings.fields import FieldMappings
from sync.mappings.messages import Messages
from sync.mappings.playbooks import Playbook
from sync.mappings.references import known_names
from sync.mappings.reminders import ReminderRules
from sync.mappings.roles import Role, Roles
from sync.mappings.segments import Segment, Segments
from sync.mappings.signals import SignalRules
from sync.mappings.source import Source, parse
from sync.mappings.triggers import Triggers


@dataclass(frozen=True)
class Mappings:
    """Everything the engine needs from the mapping files, validated together."""

    triggers: Triggers
    segments: list[Segment]
    roles: dict[str, Role]
    playbooks: dict[str, Playbook]
    fields: FieldMappings
    messages: Messages
    fingerprint: str
    signals: SignalRules = field(default_factory=SignalRules)
    reminders: ReminderRules = field(default_factory=ReminderRules)

    def segment_for(self, records: Records) -> Segment:
        """The first segment whose rules pass; the last is a catch-all, so there always is one."""
        return segmenting.segment_for(self.segments, records)

    def playbook(self, key: str) -> Playbook:
        """A playbook by key (segments only name playbooks that exist)."""
        return self.playbooks[key]


def load_mappings(directory: Path) -> Mappings:
    """Read and validate every mapping file; raise MappingError listing all problems found."""
    directory = Path(directory)
    errors: list[str] = []
    sources: dict[str, Source | None] = {}

    def load(relative: str, model: type[Model]) -> Model | None:
        source = parse(directory / relative, f"{directory.name}/{relative}", errors)
        sources[relative] = source
        return validate(source, model, errors) if source else None

    triggers = load("triggers.yaml", Triggers)
    segments = load("segments.yaml", Segments)
    roles = load("roles.yaml", Roles)
    fields = load("fields.yaml", FieldMappings)
    messages = load("messages.yaml", Messages)
    # Optional: without the file the shipped defaults apply.
    has_signals = (directory / "signals.yaml").is_file()
    signals = load("signals.yaml", SignalRules) if has_signals else SignalRules()
    has_reminders = (directory / "reminders.yaml").is_file()
    reminders = load("reminders.yaml", ReminderRules) if has_reminders else ReminderRules()
    files = sorted((directory / "playbooks").glob("*.yaml"))
    if not files:
        errors.append(f"{directory.name}/playbooks/:1: (file): no playbook files")
    playbooks = {f.stem: load(f"playbooks/{f.name}", Playbook) for f in files}

    known = known_names(sources, playbooks)
    if triggers:
        errors += checks.check_triggers(sources["triggers.yaml"], triggers)
    if segments:
        errors += checks.check_segments(sources["segments.yaml"], segments, known)
    if roles:
        errors += checks.check_roles(sources["roles.yaml"], roles, known)
    if fields:
        errors += checks.check_fields(sources["fields.yaml"], fields, known)
    if messages:
        errors += checks.check_messages(sources["messages.yaml"], messages, known)
    if signals and has_signals:
        errors += checks.check_signals(sources["signals.yaml"], signals, known)
    if reminders and has_reminders:
        errors += checks.check_reminders(sources["reminders.yaml"], reminders, playbooks)
    for stem, playbook in playbooks.items():
        if playbook:
            source = sources[f"playbooks/{stem}.yaml"]
            errors += checks.check_playbook(source, playbook, stem, known)
    if errors:
        raise MappingError(errors)
    return Mappings(
        triggers=triggers,
        segments=segments.segments,
        roles=roles.roles,
        playbooks={p.key: p for p in playbooks.values()},
        fields=fields,
        messages=messages,
        fingerprint=fingerprint(directory),
        signals=signals,
        reminders=reminders,
    )


def fingerprint(directory: Path) -> str:
    """A short hash of every YAML file's path and bytes, stored with each onboarding."""
    digest = hashlib.sha256()
    for file in sorted(directory.rglob("*.yaml")):
        digest.update(file.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
