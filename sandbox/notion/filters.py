"""Data source query filters: each checked whole up front, then run as a predicate on pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sandbox.notion.errors import invalid, refused
from sandbox.notion.records import Page, find_property
from sandbox.notion.schema import READ_ONLY
from sandbox.notion.text import bounded_list
from sandbox.notion.values import empty_value, is_empty, plain
from sandbox.notion.wire import minute, normal_id, parse_moment

# "Nesting is supported up to two levels deep" (filter docs): and -> or -> and is the deepest
# legal shape, counting the outer compound as level 0 (UNCONFIRMED reading; deeper gets 400).
MAX_FILTER_NESTING = 2

# How each property type is filtered: the condition keys it accepts and its operator family.
FILTER_KEYS = {"title": {"title", "rich_text"}}
FAMILY = {
    "title": "text",
    "rich_text": "text",
    "url": "text",
    "email": "text",
    "number": "number",
    "checkbox": "checkbox",
    "select": "option",
    "status": "option",
    "multi_select": "options",
    "people": "ids",
    "relation": "ids",
    "date": "date",
    "created_time": "date",
    "last_edited_time": "date",
}
EMPTINESS = {"is_empty": lambda v, _: is_empty(v), "is_not_empty": lambda v, _: not is_empty(v)}


def _compare(value: datetime | None, operand: tuple[datetime, bool]) -> int | None:
    """Sign of value - operand; at day precision when the operand is a date alone."""
    if value is None:
        return None
    moment, date_only = operand
    left, right = (value.date(), moment.date()) if date_only else (value, moment)
    return (left > right) - (left < right)


def _dated(check: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    return lambda v, x: (sign := _compare(v, x)) is not None and check(sign)


def _ordered(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda v, x: v is not None and check(v, x)


# Relative date windows in days (months and years approximated as 30 and 365 days).
RELATIVE = {
    "past_week": -7,
    "past_month": -30,
    "past_year": -365,
    "next_week": 7,
    "next_month": 30,
    "next_year": 365,
}
OPERATORS: dict[str, dict[str, Callable[[Any, Any], bool]]] = {
    "text": {
        "equals": lambda v, x: v == x,
        "does_not_equal": lambda v, x: v != x,
        # Case-insensitive like the Notion UI's text filters (UNCONFIRMED for the API).
        "contains": lambda v, x: x.lower() in v.lower(),
        "does_not_contain": lambda v, x: x.lower() not in v.lower(),
        "starts_with": lambda v, x: v.lower().startswith(x.lower()),
        "ends_with": lambda v, x: v.lower().endswith(x.lower()),
        **EMPTINESS,
    },
    "number": {
        "equals": lambda v, x: v == x,
        "does_not_equal": lambda v, x: v != x,
        "greater_than": _ordered(lambda v, x: v > x),
        "less_than": _ordered(lambda v, x: v < x),
        "greater_than_or_equal_to": _ordered(lambda v, x: v >= x),
        "less_than_or_equal_to": _ordered(lambda v, x: v <= x),
        **EMPTINESS,
    },
    "checkbox": {"equals": lambda v, x: v == x, "does_not_equal": lambda v, x: v != x},
    "option": {"equals": lambda v, x: v == x, "does_not_equal": lambda v, x: v != x, **EMPTINESS},
    "options": {
        "contains": lambda v, x: x in v,
        "does_not_contain": lambda v, x: x not in v,
        **EMPTINESS,
    },
    "ids": {
        "contains": lambda v, x: x in v,
        "does_not_contain": lambda v, x: x not in v,
        **EMPTINESS,
    },
    "date": {
        "equals": _dated(lambda s: s == 0),
        "before": _dated(lambda s: s < 0),
        "after": _dated(lambda s: s > 0),
        "on_or_before": _dated(lambda s: s <= 0),
        "on_or_after": _dated(lambda s: s >= 0),
        **{name: _ordered(lambda v, x: x[0] <= v <= x[1]) for name in RELATIVE},
        **EMPTINESS,
    },
}
OPERAND_TYPES = {
    "text": (str, "string"),
    "number": ((int, float), "number"),
    "checkbox": (bool, "boolean"),
    "option": (str, "string"),
    "options": (str, "string"),
}


def compile_filter(
    properties: dict[str, dict[str, Any]], spec: Any, now: datetime
) -> Callable[[Page], bool]:
    """Check a whole ``body.filter`` up front and return the predicate it describes."""
    return _compile(properties, spec, "body.filter", 0, now)


def _compile(
    properties: dict[str, dict[str, Any]], spec: Any, path: str, depth: int, now: datetime
) -> Callable[[Page], bool]:
    if not isinstance(spec, dict):
        raise refused(f"{path} should be an object", spec)
    for word, combine in (("and", all), ("or", any)):
        if word in spec:
            if depth > MAX_FILTER_NESTING:
                raise refused(f"{path} should nest at most {MAX_FILTER_NESTING} levels deep", spec)
            parts = bounded_list(spec[word], f"{path}.{word}")
            tests = [
                _compile(properties, part, f"{path}.{word}[{i}]", depth + 1, now)
                for i, part in enumerate(parts)
            ]
            return lambda page: combine(test(page) for test in tests)
    if "timestamp" in spec:
        kind = spec["timestamp"]
        if kind not in READ_ONLY:
            raise refused(f"{path}.timestamp should be `created_time` or `last_edited_time`", kind)
        prop = {"id": kind, "name": kind, "type": kind}
        return _condition(prop, spec.get(kind), f"{path}.{kind}", now)
    if "property" not in spec:
        raise refused(f"{path} should be a property, timestamp, `and` or `or` filter", spec)
    prop = find_property(properties, spec["property"])
    if prop is None:
        raise invalid(f"Could not find property with name or id: {spec['property']}")
    kinds = [k for k in spec if k not in ("property", "type")]
    allowed = FILTER_KEYS.get(prop["type"], {prop["type"]})
    if len(kinds) != 1 or kinds[0] not in allowed:
        raise refused(
            f"{path} should have a `{prop['type']}` condition for property {prop['name']}", spec
        )
    return _condition(prop, spec[kinds[0]], f"{path}.{kinds[0]}", now)


def _condition(
    prop: dict[str, Any], condition: Any, path: str, now: datetime
) -> Callable[[Page], bool]:
    family = FAMILY[prop["type"]]
    if not isinstance(condition, dict) or len(condition) != 1:
        raise refused(f"{path} should have exactly one condition")
    ((operator, operand),) = condition.items()
    test = OPERATORS[family].get(operator)
    if test is None:
        expected = ", ".join(OPERATORS[family])
        raise refused(f"{path} should be one of {expected} for a {prop['type']}", operator)
    operand = _operand(family, operator, operand, f"{path}.{operator}", now)
    value_of = filter_value(prop)
    return lambda page: test(value_of(page), operand)


def _operand(family: str, operator: str, operand: Any, path: str, now: datetime) -> Any:
    """The filter's value, checked and converted once (dates parsed, ids normalised)."""
    if operator in EMPTINESS:
        if operand is not True:
            raise refused(f"{path} should be `true`", operand)
        return operand
    if family == "date" and operator in RELATIVE:
        days = RELATIVE[operator]
        return (now + timedelta(days=days), now) if days < 0 else (now, now + timedelta(days=days))
    if family == "date":
        return parse_moment(operand, path)
    if family == "ids":
        return normal_id(operand, f"body failed validation: {path}")
    expected, label = OPERAND_TYPES[family]
    if not isinstance(operand, expected) or (family == "number" and isinstance(operand, bool)):
        raise refused(f"{path} should be a {label}", operand)
    return operand


def filter_value(prop: dict[str, Any]) -> Callable[[Page], Any]:
    """How a filter reads a page's value: plain text, names, ids, or a UTC moment."""
    ptype = prop["type"]
    if ptype == "created_time":  # filters see the rounded times, as Notion exposes them
        return lambda page: minute(page.created)
    if ptype == "last_edited_time":
        return lambda page: minute(page.edited)

    def read(page: Page) -> Any:
        value = plain(ptype, page.values.get(prop["id"], empty_value(ptype)))
        if ptype == "date" and value is not None:
            return parse_moment(value, "date")[0]
        return "" if value is None and FAMILY[ptype] == "text" else value

    return read
