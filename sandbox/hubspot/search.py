"""The CRM search endpoint: filter groups and operators, free-text query, sorts and paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.hubspot.account import canonical_type
from sandbox.hubspot.api import ApiError, api_handler, json_body
from sandbox.hubspot.records import DATE_ENTERED_PREFIXES, Record
from sandbox.hubspot.values import as_text, epoch_ms, parse_moment

MAX_SEARCH_PAGE = 200
MAX_SEARCH_RESULTS = 10_000
MAX_FILTER_GROUPS = 5


class SearchEndpoint:
    """POST ``/crm/v3/objects/<type>/search``, comparing values by their property's type."""

    @api_handler
    def search(self, request: Request, object_type: str) -> Response:
        object_type = canonical_type(object_type)
        body = json_body(request)
        limit = int(body.get("limit") or 10)
        offset = int(body.get("after") or 0)
        if not 0 < limit <= MAX_SEARCH_PAGE:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be 1..{MAX_SEARCH_PAGE}")
        if offset >= MAX_SEARCH_RESULTS:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Search can page through at most {MAX_SEARCH_RESULTS} results; narrow the "
                "filters instead.",
            )
        groups = body.get("filterGroups") or []
        if len(groups) > MAX_FILTER_GROUPS:
            raise ApiError(
                400, "VALIDATION_ERROR", f"At most {MAX_FILTER_GROUPS} filterGroups are allowed"
            )
        query = str(body.get("query") or "").lower()
        with self.lock:
            found = [
                r
                for r in self._records[object_type].values()
                if r.archived_at is None
                and (not groups or any(self._group_matches(r, g) for g in groups))
                and (not query or any(query in v.lower() for v in r.properties.values()))
            ]
            found = self._sorted(object_type, found, body.get("sorts") or [])
            page = found[offset : min(offset + limit, MAX_SEARCH_RESULTS)]
            answer: dict[str, Any] = {
                "total": len(found),
                "results": [self._record_json(r, body.get("properties")) for r in page],
            }
        # Like HubSpot, a next page is offered while results remain, even past the 10,000 cap
        # where asking for it fails with 400.
        if offset + limit < len(found):
            answer["paging"] = {"next": {"after": str(offset + limit)}}
        return self.json(answer)

    def _sort_key(self, object_type: str, name: str, value: str | None) -> Any:
        """A comparable form: numbers as floats, dates as epoch ms, text case-folded."""
        if value is None or value == "":
            return None
        kind = self._properties[object_type].get(name, {}).get("type", "string")
        if name.startswith(DATE_ENTERED_PREFIXES):
            kind = "datetime"
        if kind == "number":
            try:
                return float(value)
            except ValueError:
                return None
        if kind in ("date", "datetime"):
            moment = parse_moment(value)
            return None if moment is None else epoch_ms(moment)
        return value.lower()

    def _group_matches(self, record: Record, group: dict[str, Any]) -> bool:
        return all(self._filter_matches(record, f) for f in group.get("filters") or [])

    def _filter_matches(self, record: Record, spec: dict[str, Any]) -> bool:
        name = spec.get("propertyName", "")
        operator = spec.get("operator", "EQ")
        mine = self._sort_key(record.type, name, record.properties.get(name))
        if operator == "HAS_PROPERTY":
            return mine is not None
        if operator == "NOT_HAS_PROPERTY":
            return mine is None

        def key(raw: Any) -> Any:
            return self._sort_key(record.type, name, as_text(raw))

        if operator in ("IN", "NOT_IN"):
            inside = mine in {key(v) for v in spec.get("values") or []}
            return inside if operator == "IN" else not inside
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(spec.get("value", "")).lower().strip("*")
            has = mine is not None and token in str(mine)
            return has if operator == "CONTAINS_TOKEN" else not has
        if operator == "NEQ":
            return mine != key(spec.get("value"))
        if mine is None:
            return False
        value = key(spec.get("value"))
        comparisons: dict[str, Callable[[], bool]] = {
            "EQ": lambda: mine == value,
            "GT": lambda: value is not None and mine > value,
            "GTE": lambda: value is not None and mine >= value,
            "LT": lambda: value is not None and mine < value,
            "LTE": lambda: value is not None and mine <= value,
            "BETWEEN": lambda: (
                value is not None
                and key(spec.get("highValue")) is not None
                and value <= mine <= key(spec.get("highValue"))
            ),
        }
        if operator not in comparisons:
            raise ApiError(400, "VALIDATION_ERROR", f"Unknown filter operator {operator}")
        try:
            return comparisons[operator]()
        except TypeError:  # a number compared with text: no match, as HubSpot finds none
            return False

    def _sorted(self, object_type: str, records: list[Record], sorts: list[Any]) -> list[Record]:
        """Sort by the request's sorts, objects or "-name" strings; by id when none given."""
        ordered = sorted(records, key=lambda r: int(r.id) if r.id.isdigit() else 0)
        for spec in reversed(sorts):
            if isinstance(spec, str):
                name, descending = spec.lstrip("-"), spec.startswith("-")
            else:
                name = spec.get("propertyName", "")
                descending = spec.get("direction", "ASCENDING") == "DESCENDING"

            def key(r: Record, name: str = name, down: bool = descending) -> tuple[bool, Any]:
                value = self._sort_key(object_type, name, r.properties.get(name))
                return (value is None) != down, value if value is not None else 0

            ordered.sort(key=key, reverse=descending)
        return ordered
