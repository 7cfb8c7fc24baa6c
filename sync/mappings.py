"""The admin-edited mapping files: schema models, one loader, and errors that say file:line:key.

Admins edit YAML by hand, so every problem is reported with the file, the line, the key path and
what is wrong, and all problems are collected in one MappingError instead of stopping at the first.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sync.onboarding.calendar import DueOffset
from sync.onboarding.templates import placeholders, render

Op = Literal["gt", "gte", "lt", "lte", "eq", "ne", "in", "exists", "contains"]
Flag = Literal[
    "setup_form", "kickoff", "first_value", "go_live", "check_in", "customer_facing", "handoff"
]
NotionType = Literal["title", "rich_text", "select", "number", "url", "email", "date", "checkbox"]

OBJECTS = ("deal", "company", "contact")
FIELD_PATTERN = r"^(deal|company|contact)\.\w+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
NUMERIC_OPS = frozenset({"gt", "gte", "lt", "lte"})
# Playbook flags the engine relies on (milestones, TTFV, time to onboard): exactly one task each.
MILESTONE_FLAGS = ("setup_form", "kickoff", "first_value", "go_live")
REQUIRED_MESSAGES = (
    "csm_summary",
    "channel_welcome",
    "milestone_setup_form",
    "milestone_first_value",
    "milestone_go_live",
    "milestone_completed",
)
DEFAULT_LOCALE = "en"
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
HUBSPOT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PATTERN_WORDS = {
    FIELD_PATTERN: "use deal.<property>, company.<property> or contact.<property>",
    EMAIL_PATTERN: "not an email address",
    HUBSPOT_NAME_PATTERN: "a HubSpot property name is lowercase letters, digits and _",
}

Records = Mapping[str, Mapping[str, str | None]]
M = TypeVar("M", bound=BaseModel)


class MappingError(Exception):
    """The mapping files are unusable; `.errors` lists every problem as `file:line: key: what`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{count} in the mapping files:\n" + "\n".join(errors))


class Strict(BaseModel):
    """Base for every file's models: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# triggers.yaml


class Trigger(Strict):
    """Stages of one pipeline that start (or cancel) an onboarding."""

    pipeline: str = Field(min_length=1)
    stages: list[str] = Field(min_length=1)


class ChurnRule(Strict):
    """A deal or company property value that says the customer has left."""

    object: Literal["deal", "company"]
    property: str = Field(pattern=HUBSPOT_NAME_PATTERN)
    values: list[str] = Field(min_length=1)


class Triggers(Strict):
    """Which deal stage changes start an onboarding, which cancel one, and what is a churn."""

    start: list[Trigger] = Field(min_length=1)
    cancel: list[Trigger] = []
    churn: list[ChurnRule] = []
    early_churn_days: int = Field(default=90, ge=1)

    def starts(self, pipeline: str, stage: str) -> bool:
        """True when a deal entering this stage must start its onboarding."""
        return _listed(self.start, pipeline, stage)

    def cancels(self, pipeline: str, stage: str) -> bool:
        """True when a deal entering this stage must cancel its onboarding."""
        return _listed(self.cancel, pipeline, stage)

    def churns(self, object: str, property: str, value: str | None) -> bool:
        """True when this property value (compared exactly, as HubSpot sends it) is a churn."""
        return any(
            r.object == object and r.property == property and value in r.values for r in self.churn
        )


def _listed(triggers: list[Trigger], pipeline: str, stage: str) -> bool:
    """Whether any trigger names this pipeline and stage."""
    return any(t.pipeline == pipeline and stage in t.stages for t in triggers)


# segments.yaml


class Condition(Strict):
    """One test on a HubSpot property; HubSpot sends strings, so numbers are compared as numbers."""

    field: str = Field(pattern=FIELD_PATTERN)
    op: Op
    value: Any = Field(default=None, validate_default=True)

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        problem = _value_problem(op, value) if op else None
        if problem:
            raise ValueError(problem)
        return value

    def matches(self, records: Records) -> bool:
        """Whether the deal's records pass this test; a missing value only ever passes `exists`."""
        obj, prop = self.field.split(".", 1)
        raw = (records.get(obj) or {}).get(prop)
        present = raw is not None and raw != ""
        if self.op == "exists":
            return present == (self.value is not False)
        if not present:
            return False
        return _compare(self.op, str(raw), self.value)


def _value_problem(op: str, value: Any) -> str | None:
    """Why a rule's value cannot work with its op, or None when it can."""
    if op == "exists":
        return None if value is None or isinstance(value, bool) else "exists takes true or false"
    if op in NUMERIC_OPS:
        return None if _is_number(value) else f"{op} needs a number, got {value!r}"
    if op == "in":
        ok = isinstance(value, list) and value and all(_is_scalar(v) for v in value)
        return None if ok else "in needs a non-empty list of values"
    if op == "contains":
        return None if isinstance(value, str) and value else "contains needs a text value"
    return None if _is_scalar(value) else f"{op} needs a single value"


def _is_number(value: Any) -> bool:
    """A YAML number (booleans are ints in Python but mean true/false here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    """A value a HubSpot string can be compared with."""
    return isinstance(value, str | int | float | bool)


def _compare(op: str, raw: str, expected: Any) -> bool:
    """Apply op to a present HubSpot string; text compares ignore case (admins type labels)."""
    if op == "in":
        return any(_equals(raw, item) for item in expected)
    if op == "contains":
        return expected.casefold() in raw.casefold()
    if op in ("eq", "ne"):
        equal = _equals(raw, expected)
        # A numeric ne on a non-numeric value is still "no match" (see _equals' None).
        return bool(equal) if op == "eq" else equal is False
    number = _number(raw)
    if number is None:
        return False
    return {
        "gt": number > expected,
        "gte": number >= expected,
        "lt": number < expected,
        "lte": number <= expected,
    }[op]


def _equals(raw: str, expected: Any) -> bool | None:
    """Equality the way an admin means it; None when a number is expected and raw is not one."""
    if _is_number(expected):
        number = _number(raw)
        return None if number is None else number == expected
    text = str(expected).lower() if isinstance(expected, bool) else str(expected)
    return raw.strip().casefold() == text.casefold()


def _number(raw: str) -> float | None:
    """HubSpot's string as a number (`"1,200"` too), or None when it is not one."""
    try:
        return float(raw.replace(",", "").strip())
    except ValueError:
        return None


class Segment(Strict):
    """A customer segment: the first one whose conditions all pass picks the playbook."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    playbook: str = Field(min_length=1)
    when: list[Condition] = []

    def matches(self, records: Records) -> bool:
        """All conditions pass (an empty list is the catch-all)."""
        return all(condition.matches(records) for condition in self.when)


class Segments(Strict):
    """segments.yaml: the ordered segment rules."""

    segments: list[Segment] = Field(min_length=1)


# roles.yaml


class Role(Strict):
    """Who owns a task: a HubSpot owner read from a record, a fixed address, or the customer."""

    label: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from", pattern=FIELD_PATTERN)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    customer: bool = False
    fallback_email: str | None = Field(default=None, pattern=EMAIL_PATTERN)

    @model_validator(mode="after")
    def _one_source(self) -> Role:
        sources = [self.from_ is not None, self.email is not None, self.customer]
        if sum(sources) != 1:
            raise ValueError("give exactly one of from, email or customer: true")
        if self.fallback_email and self.email:
            raise ValueError("fallback_email is for roles read with from, not fixed addresses")
        return self

    def owner_id(self, records: Records) -> str | None:
        """The HubSpot owner id this role reads from the deal's records, if it reads one."""
        if self.from_ is None:
            return None
        obj, prop = self.from_.split(".", 1)
        return (records.get(obj) or {}).get(prop) or None


class Roles(Strict):
    """roles.yaml: role key to how its person is found."""

    roles: dict[str, Role] = Field(min_length=1)


# playbooks/*.yaml


class Phase(Strict):
    """A stage of the plan, used to group tasks in Notion and on reports."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)


class Task(Strict):
    """One step of the plan, with an owner role, a phase and a due offset from the win."""

    key: str = Field(min_length=1)
    title: str = Field(min_length=1)
    owner: str
    phase: str
    due_in: DueOffset
    required: bool = True
    flags: list[Flag] = []
    description: str = ""


class Playbook(Strict):
    """A segment's onboarding plan: phases and their tasks."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)

    def task_with_flag(self, flag: Flag) -> Task | None:
        """The task carrying a milestone flag (the loader ensures at most one for milestones)."""
        return next((task for task in self.tasks if flag in task.flags), None)

    def phase_label(self, key: str) -> str:
        """A phase's label, for task properties and messages."""
        return next(phase.label for phase in self.phases if phase.key == key)


# fields.yaml


class ReadFields(Strict):
    """HubSpot properties the engine fetches per object; templates and rules may use only these."""

    deal: list[str] = []
    company: list[str] = []
    contact: list[str] = []


class NotionProperty(Strict):
    """An extra Notion property filled from a template."""

    property: str = Field(min_length=1)
    type: NotionType
    value: str


class NotionFields(Strict):
    """Extra properties for the Notion project page and each task page."""

    project: list[NotionProperty] = []
    task: list[NotionProperty] = []


class CustomerIOFields(Strict):
    """Customer.io attributes on identify and the data of the onboarding_started event."""

    identify: dict[str, str]
    onboarding_started: dict[str, str] = {}


def _hubspot_name(field_name: str) -> Any:
    """A HubSpot property name defaulting to `onboarding_<field>`."""
    return Field(default=f"onboarding_{field_name}", pattern=HUBSPOT_NAME_PATTERN)


class HubSpotProperties(Strict):
    """Logical onboarding field to the HubSpot property that holds it."""

    status: str = _hubspot_name("status")
    segment: str = _hubspot_name("segment")
    progress: str = _hubspot_name("progress")
    next_task: str = _hubspot_name("next_task")
    next_task_due: str = _hubspot_name("next_task_due")
    overdue_count: str = _hubspot_name("overdue_count")
    project_url: str = _hubspot_name("project_url")
    channel_url: str = _hubspot_name("channel_url")
    started_at: str = _hubspot_name("started_at")
    health_score: str = _hubspot_name("health_score")


class HubSpotFields(Strict):
    """Where onboarding status is written back on the deal and the company."""

    deal: HubSpotProperties = HubSpotProperties()
    company: HubSpotProperties = HubSpotProperties()


class SlackFields(Strict):
    """Slack naming."""

    channel_name: str = "onboarding-{company.name}"


class FieldMappings(Strict):
    """fields.yaml: what to read from HubSpot and what to write to each service."""

    read: ReadFields
    notion: NotionFields = NotionFields()
    customerio: CustomerIOFields
    hubspot: HubSpotFields = HubSpotFields()
    slack: SlackFields = SlackFields()
    portal_url: str = "https://example.com/setup?company={company.id}"


# messages.yaml


class Messages(Strict):
    """messages.yaml: message name to locale to template."""

    messages: dict[str, dict[str, str]]

    def render(self, name: str, locale: str | None, context: Mapping[str, Any]) -> str:
        """The message in the customer's language (`ro-RO` means `ro`), else in English."""
        texts = self.messages[name]
        language = (locale or "").replace("_", "-").split("-")[0].lower()
        return render(texts.get(language) or texts[DEFAULT_LOCALE], context)


# signals.yaml

SIGNAL_KEYS = frozenset({"logins", "threshold", "days", "email", "reason"})


class ActivityProperty(Strict):
    """A HubSpot number property holding the customer's logins of the last week."""

    object: Literal["deal", "company"] = "company"
    property: str = Field(pattern=HUBSPOT_NAME_PATTERN)


class LowActivity(Strict):
    """Fewer than `below` events of `kinds` in `days` days: a check-in task and a Slack note."""

    kinds: list[Literal["login", "usage"]] = Field(default=["login"], min_length=1)
    below: int = Field(default=5, ge=1)
    days: int = Field(default=7, ge=1)
    after_days: int = Field(default=7, ge=0)
    task_title: str = "Check in with {company.name}: {signal.logins} logins in {signal.days} days"
    task_due_in_business_days: int = Field(default=2, ge=0)
    notify: str = (
        "Quiet customer: {company.name} logged in {signal.logins} times in the last"
        " {signal.days} days (fewer than {signal.threshold}). A check-in task is in Notion:"
        " {onboarding.project_url}"
    )


class QuietEmail(Strict):
    """No email opened for `days` days plus an overdue customer-facing task: at risk."""

    days: int = Field(default=7, ge=1)
    opened: list[str] = Field(default=["opened", "clicked"], min_length=1)


class Bounces(Strict):
    """A bounced email: the CSM hears it once per bounce and switches channel."""

    metrics: list[str] = Field(default=["bounced"], min_length=1)
    notify: str = (
        "An email to {signal.email} at {company.name} bounced ({signal.reason})."
        " Switch channel: call them or reach another contact."
    )


class HealthPoints(Strict):
    """The health score: start, minus points per signal, clamped to 0-100 (README)."""

    start: int = Field(default=100, ge=0, le=100)
    low_activity: int = Field(default=25, ge=0)
    no_opens: int = Field(default=15, ge=0)
    bounce: int = Field(default=10, ge=0)
    bounce_days: int = Field(default=30, ge=1)
    overdue_task: int = Field(default=5, ge=0)
    overdue_max: int = Field(default=25, ge=0)
    missed_meeting: int = Field(default=10, ge=0)
    at_risk: int = Field(default=20, ge=0)


class SignalRules(Strict):
    """signals.yaml: how quiet-customer signals become tasks, notes, at-risk and a score."""

    activity_property: ActivityProperty | None = None
    low_activity: LowActivity = LowActivity()
    quiet_email: QuietEmail = QuietEmail()
    bounce: Bounces = Bounces()
    health: HealthPoints = HealthPoints()


# reminders.yaml

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone_name(value: str | None) -> str | None:
    """An IANA time zone name, refused loudly when Python does not know it."""
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            problem = f"unknown timezone {value!r} (an IANA name, e.g. Europe/Bucharest)"
            raise ValueError(problem) from None
    return value


def _clock(value: str) -> str:
    """A local time of day written HH:MM."""
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (use HH:MM, e.g. 09:00)") from None
    return value


class Person(Strict):
    """Someone who owns tasks or hears escalations: where they live and who manages them."""

    timezone: str | None = None
    manager: str | None = Field(default=None, pattern=EMAIL_PATTERN)

    _zone = field_validator("timezone")(_zone_name)


class EscalationLevel(Strict):
    """Who hears of a task overdue by `after` business days; `manager` is the owner's."""

    after: int = Field(ge=1)
    to: str = "manager"
    notify_channel: bool = False

    @field_validator("to")
    @classmethod
    def _manager_or_email(cls, value: str) -> str:
        if value != "manager" and not re.match(EMAIL_PATTERN, value):
            raise ValueError(f"{value!r}: use manager or an email address")
        return value


class PlaybookEscalation(Strict):
    """A playbook's own first escalation day, and single tasks' (business days overdue)."""

    escalate_after: int | None = Field(default=None, ge=1)
    tasks: dict[str, Annotated[int, Field(ge=1)]] = {}


class Escalation(Strict):
    """Levels in order; an override moves the first level and the rest keep their distance."""

    levels: list[EscalationLevel] = [EscalationLevel(after=2, notify_channel=True)]
    playbooks: dict[str, PlaybookEscalation] = {}

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[EscalationLevel]) -> list[EscalationLevel]:
        if any(b.after <= a.after for a, b in itertools.pairwise(levels)):
            raise ValueError("each level's after must be larger than the previous level's")
        return levels

    def thresholds(self, playbook: str | None, task: str) -> list[int]:
        """Business days overdue at which each level fires for this task."""
        if not self.levels:
            return []
        own = self.playbooks.get(playbook or "") or PlaybookEscalation()
        first = own.tasks.get(task) or own.escalate_after or self.levels[0].after
        shift = first - self.levels[0].after
        return [level.after + shift for level in self.levels]


class ReminderRules(Strict):
    """reminders.yaml: when owners hear of their tasks, and who hears when they are late."""

    send_at: str = "09:00"
    quiet_from: str = "18:00"
    working_days: list[Weekday] = Field(default=list(WEEKDAYS[:5]), min_length=1)
    default_timezone: str | None = None  # None: the TIMEZONE setting
    overdue: Literal["daily", "once"] = "daily"
    people: dict[str, Person] = {}
    escalation: Escalation = Escalation()

    _clocks = field_validator("send_at", "quiet_from")(_clock)
    _zone = field_validator("default_timezone")(_zone_name)

    @model_validator(mode="after")
    def _day_has_hours(self) -> ReminderRules:
        if time.fromisoformat(self.quiet_from) <= time.fromisoformat(self.send_at):
            raise ValueError("quiet_from must be later than send_at")
        return self

    def person(self, email: str) -> Person:
        """The person's settings (keys compare without case); defaults for someone unlisted."""
        return self._by_email.get(email.lower()) or Person()

    @cached_property
    def _by_email(self) -> dict[str, Person]:
        return {email.lower(): person for email, person in self.people.items()}


# The loaded result


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
        return next(segment for segment in self.segments if segment.matches(records))

    def playbook(self, key: str) -> Playbook:
        """A playbook by key (segments only name playbooks that exist)."""
        return self.playbooks[key]


# Reading YAML with line numbers

Path_ = tuple[str | int, ...]


@dataclass
class Source:
    """One parsed file: its data and the line of every mapping key and sequence item."""

    name: str
    data: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The line of the deepest part of path that exists in the file (a missing key's parent)."""
        return next(
            self.lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in self.lines
        )

    def where(self, path: Path_) -> str:
        """`file:line: key.path`, the prefix of every problem in this file."""
        return f"{self.name}:{self.line(path)}: {_format_path(path)}"

    def problem(self, path: Path_, message: str) -> str:
        """One error line: where, then what is wrong."""
        return f"{self.where(path)}: {message}"


def _format_path(path: Path_) -> str:
    """`segments[1].when[0].op`, the way an admin reads the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _parse(file: Path, name: str, errors: list[str]) -> Source | None:
    """Parse one YAML file keeping line numbers; syntax problems go to errors with their line."""
    if not file.is_file():
        errors.append(f"{name}:1: (file): the file is missing")
        return None
    text = file.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        errors.append(_syntax_problem(name, exc))
        return None
    source = Source(name, data, {(): 1})
    if node is not None:
        _index(node, (), source, errors)
    return source


def _syntax_problem(name: str, exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's complaint at the line it stopped, plus where the unfinished construct began."""
    mark = exc.problem_mark or exc.context_mark
    problem = f"{name}:{mark.line + 1 if mark else 1}: (syntax): {exc.problem}"
    if exc.context and exc.context_mark and exc.context_mark is not mark:
        problem += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return problem


def _index(node: yaml.Node, path: Path_, source: Source, errors: list[str]) -> None:
    """Record the line of each key and item below node; a repeated key is an error in YAML terms."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            if child in source.lines:
                first = source.lines[child]
                errors.append(source.problem(child, f"duplicate key (first at line {first})"))
            source.lines[child] = key_node.start_mark.line + 1
            _index(value_node, child, source, errors)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            source.lines[(*path, number)] = item.start_mark.line + 1
            _index(item, (*path, number), source, errors)


def _validate(source: Source, model: type[M], errors: list[str]) -> M | None:
    """The file's data as model, or None with every schema problem added to errors."""
    try:
        return model.model_validate(source.data if source.data is not None else {})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = tuple(error["loc"])
            errors.append(source.problem(path, _describe(error, model, path)))
        return None


def _describe(error: Any, model: type[BaseModel], path: Path_) -> str:
    """Pydantic's error in words an admin can act on."""
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        return f"unknown key {path[-1]!r} ({hint})"
    if kind in ("literal_error", "enum"):
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"{given!r} is not one of {expected}"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return f"{given!r}: {PATTERN_WORDS[error['ctx']['pattern']]}"
    return f"{error['msg']} (got {given!r})"


def _allowed_keys(model: type[BaseModel], path: Path_) -> list[str]:
    """The keys the schema accepts at path, for a did-you-mean hint."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if part not in fields:
                return []
            annotation = fields[part].annotation
        else:  # a list item or a dict value
            annotation = get_args(annotation)[-1]
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(arg for arg in get_args(annotation) if arg is not type(None))
    return annotation


# Checks across keys and files


@dataclass
class Known:
    """Names the files define, from raw data so a file with a schema error still counts."""

    read: dict[str, list[str]] | None  # None: fields.yaml unreadable, so skip the check
    roles: set[str] | None
    playbooks: set[str]


def _known(sources: Mapping[str, Source | None], playbook_stems: Iterable[str]) -> Known:
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
        elif root in extra_roots or root == "onboarding":
            allowed = extra_roots.get(root, ONBOARDING_KEYS)
            if len(rest) != 1 or rest[0] not in allowed:
                yield f"{{{name}}}: use {root}.<{'|'.join(sorted(allowed))}>"
        else:
            roots = ", ".join([*OBJECTS, "onboarding", "roles", *extra_roots])
            yield f"{{{name}}}: unknown placeholder root {root!r} (use {roots})"


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


def _check_field(source: Source, path: Path_, dotted: str, known: Known) -> Iterator[str]:
    """A rule's `object.property` must be one that fields.yaml reads."""
    root, *rest = dotted.split(".")
    for problem in _record_problem(dotted, root, rest, known):
        yield source.problem(path, problem)


def _check_templates(
    source: Source,
    templates: Iterable[tuple[Path_, str]],
    known: Known,
    extra_roots: Mapping[str, frozenset[str]] = {},
) -> Iterator[str]:
    """Placeholder problems of each (path, template), located in source."""
    for path, template in templates:
        for problem in _template_problems(template, known, extra_roots):
            yield source.problem(path, problem)


def _check_unique(source: Source, prefix: Path_, items: list[Any], attr: str) -> Iterator[str]:
    """Each item's attr appears once in the list at prefix; repeats name the line of the first."""
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            first = source.line((*prefix, seen[value]))
            yield source.problem((*prefix, i, attr), f"{value!r} repeats line {first}")
        seen.setdefault(value, i)


def _check_triggers(source: Source, triggers: Triggers) -> Iterator[str]:
    """A stage cannot both start and cancel an onboarding; stages are not churn rules."""
    for i, trigger in enumerate(triggers.cancel):
        for j, stage in enumerate(trigger.stages):
            if triggers.starts(trigger.pipeline, stage):
                yield source.problem(("cancel", i, "stages", j), f"{stage!r} is also a start stage")
    for i, rule in enumerate(triggers.churn):
        if rule.object == "deal" and rule.property == "dealstage":
            yield source.problem(("churn", i, "property"), "deal stages belong under cancel:")


def _check_segments(source: Source, segments: Segments, known: Known) -> Iterator[str]:
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
            yield from _check_field(source, path, condition.field, known)
    if rules[-1].when:
        problem = "the last segment must be a catch-all (empty when) so every deal gets a playbook"
        yield source.problem(("segments", len(rules) - 1, "when"), problem)


def _check_roles(source: Source, roles: Roles, known: Known) -> Iterator[str]:
    """Roles read owners only from properties that fields.yaml reads."""
    for key, role in roles.roles.items():
        if role.from_ is not None:
            yield from _check_field(source, ("roles", key, "from"), role.from_, known)


def _check_playbook(source: Source, playbook: Playbook, stem: str, known: Known) -> Iterator[str]:
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
    yield from _check_templates(source, texts, known)


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


def _check_fields(source: Source, fields: FieldMappings, known: Known) -> Iterator[str]:
    """Every template fillable, Customer.io identify carries email, Notion names unique."""
    if "email" not in fields.customerio.identify:
        problem = "must include email (Customer.io needs it)"
        yield source.problem(("customerio", "identify"), problem)
    for kind in ("project", "task"):
        props = getattr(fields.notion, kind)
        yield from _check_unique(source, ("notion", kind), props, "property")
        extra = {"task": TASK_KEYS} if kind == "task" else {}
        values = [(("notion", kind, i, "value"), p.value) for i, p in enumerate(props)]
        yield from _check_templates(source, values, known, extra)
    texts = [
        (("customerio", group, key), value)
        for group in ("identify", "onboarding_started")
        for key, value in getattr(fields.customerio, group).items()
    ]
    texts += [
        (("slack", "channel_name"), fields.slack.channel_name),
        (("portal_url",), fields.portal_url),
    ]
    yield from _check_templates(source, texts, known)


def _check_signals(source: Source, rules: SignalRules, known: Known) -> Iterator[str]:
    """Signal templates fill from the records, roles, onboarding and the signal's own facts."""
    texts = [
        (("low_activity", "task_title"), rules.low_activity.task_title),
        (("low_activity", "notify"), rules.low_activity.notify),
        (("bounce", "notify"), rules.bounce.notify),
    ]
    yield from _check_templates(source, texts, known, {"signal": SIGNAL_KEYS})


def _check_reminders(
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


def _check_messages(source: Source, messages: Messages, known: Known) -> Iterator[str]:
    """Every message the engine sends exists in English; locales are two-letter codes."""
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
            yield from _check_templates(source, [(path, text)], known)


# The entry point


def load_mappings(directory: Path) -> Mappings:
    """Read and validate every mapping file; raise MappingError listing all problems found."""
    directory = Path(directory)
    errors: list[str] = []
    sources: dict[str, Source | None] = {}

    def load(relative: str, model: type[M]) -> M | None:
        source = _parse(directory / relative, f"{directory.name}/{relative}", errors)
        sources[relative] = source
        return _validate(source, model, errors) if source else None

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

    known = _known(sources, playbooks)
    if triggers:
        errors += _check_triggers(sources["triggers.yaml"], triggers)
    if segments:
        errors += _check_segments(sources["segments.yaml"], segments, known)
    if roles:
        errors += _check_roles(sources["roles.yaml"], roles, known)
    if fields:
        errors += _check_fields(sources["fields.yaml"], fields, known)
    if messages:
        errors += _check_messages(sources["messages.yaml"], messages, known)
    if signals and has_signals:
        errors += _check_signals(sources["signals.yaml"], signals, known)
    if reminders and has_reminders:
        errors += _check_reminders(sources["reminders.yaml"], reminders, playbooks)
    for stem, playbook in playbooks.items():
        if playbook:
            errors += _check_playbook(sources[f"playbooks/{stem}.yaml"], playbook, stem, known)
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
