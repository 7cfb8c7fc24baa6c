"""segments.yaml: the ordered segment rules and the checks that each rule's value fits its op."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from sync.kickoff.segmenting import is_number
from sync.mappings.base import FIELD_PATTERN, Strict

Op = Literal["gt", "gte", "lt", "lte", "eq", "ne", "in", "exists", "contains"]
NUMERIC_OPS = frozenset({"gt", "gte", "lt", "lte"})


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


def _value_problem(op: str, value: Any) -> str | None:
    """Why a rule's value cannot work with its op, or None when it can."""
    if op == "exists":
        return None if value is None or isinstance(value, bool) else "exists takes true or false"
    if op in NUMERIC_OPS:
        return None if is_number(value) else f"{op} needs a number, got {value!r}"
    if op == "in":
        ok = isinstance(value, list) and value and all(_is_scalar(v) for v in value)
        return None if ok else "in needs a non-empty list of values"
    if op == "contains":
        return None if isinstance(value, str) and value else "contains needs a text value"
    return None if _is_scalar(value) else f"{op} needs a single value"


def _is_scalar(value: Any) -> bool:
    """A value a HubSpot string can be compared with."""
    return isinstance(value, str | int | float | bool)


class Segment(Strict):
    """A customer segment: the first one whose conditions all pass picks the playbook."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    playbook: str = Field(min_length=1)
    when: list[Condition] = []


class Segments(Strict):
    """segments.yaml: the ordered segment rules."""

    segments: list[Segment] = Field(min_length=1)
