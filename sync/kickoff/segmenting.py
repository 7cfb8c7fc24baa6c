"""Picks a deal's segment by testing segments.yaml's conditions against its HubSpot records.

The rules' schema lives in sync.mappings.segments; this module only evaluates them. It imports
nothing from sync.mappings at run time, so the schema can share `is_number` without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.mappings.base import Records
    from sync.mappings.segments import Condition, Segment


def segment_for(segments: Iterable[Segment], records: Records) -> Segment:
    """The first segment whose rules pass; the last is a catch-all, so there always is one."""
    return next(segment for segment in segments if _segment_matches(segment, records))


def is_number(value: Any) -> bool:
    """A YAML number (booleans are ints in Python but mean true/false here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _segment_matches(segment: Segment, records: Records) -> bool:
    """All conditions pass (an empty list is the catch-all)."""
    return all(_condition_matches(condition, records) for condition in segment.when)


def _condition_matches(condition: Condition, records: Records) -> bool:
    """Whether the deal's records pass this test; a missing value only ever passes `exists`."""
    obj, prop = condition.field.split(".", 1)
    raw = (records.get(obj) or {}).get(prop)
    present = raw is not None and raw != ""
    if condition.op == "exists":
        return present == (condition.value is not False)
    if not present:
        return False
    return _compare(condition.op, str(raw), condition.value)


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
    if is_number(expected):
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
