"""Data source queries and search: filtered, sorted, and walked a page at a time by cursor."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.notion.errors import invalid, refused
from sandbox.notion.filters import FAMILY, compile_filter, filter_value
from sandbox.notion.records import DataSource, Page, Record, RecordStore, find_property
from sandbox.notion.schema import READ_ONLY
from sandbox.notion.text import bounded_list
from sandbox.notion.values import is_empty
from sandbox.notion.wire import body_page, minute, trash_flag


class Querying(RecordStore):
    """Answers queries and searches; keeps each query's order until anything is written."""

    def _reset_query_cache(self) -> None:
        # Query results in order, kept until anything changes: a cursor walk over 200,000
        # pages would otherwise filter and sort them all again for every page of 100.
        self._ordered: dict[tuple[Any, ...], list[Page]] = {}
        self._ordered_at = 0

    def _query(self, source: DataSource, body: dict[str, Any]) -> tuple[list[Page], str | None]:
        """One page of the data source's pages that pass the filter, in the asked order."""
        spec, now = body.get("filter"), self.now()
        test = compile_filter(source.properties, spec, now) if spec else (lambda p: True)
        # in_trash/archived true adds trashed pages to the live ones (UNCONFIRMED whether
        # Notion then returns only trashed pages); by default trashed pages are left out.
        with_trash = trash_flag(body) is True
        # The minute is part of the key because relative date filters move with it.
        asked = json.dumps([spec, body.get("sorts")], sort_keys=True)
        key = (source.id, asked, with_trash, minute(now))
        if self._ordered_at != self._changes:
            self._ordered, self._ordered_at = {}, self._changes
        ordered = self._ordered.get(key)
        if ordered is None:
            pages = [
                page
                for page in self._pages.values()
                if page.parent.get("data_source_id") == source.id
                and (with_trash or not page.in_trash)
                and test(page)
            ]
            ordered = self._ordered[key] = sorted_pages(source, pages, body.get("sorts"))
        return body_page(body, ordered)

    def _search(self, body: dict[str, Any]) -> tuple[list[Record], str | None]:
        """One page of live pages and data sources whose title has the query in it."""
        kinds = search_kinds(body.get("filter"))
        query = (body.get("query") or "").lower()
        records: list[Record] = []
        if "page" in kinds:
            records += [p for p in self._pages.values() if not p.in_trash]
        if "data_source" in kinds:
            records += [s for s in self._sources.values() if not s.in_trash]
        found = [r for r in records if query in self._title_of(r).lower()]
        sort = body.get("sort") or {}
        found.sort(key=lambda r: r.edited, reverse=sort.get("direction") != "ascending")
        return body_page(body, found)


def search_kinds(spec: Any) -> set[str]:
    if spec is None:
        return {"page", "data_source"}
    value = spec.get("value") if isinstance(spec, dict) else None
    if value not in ("page", "data_source"):
        # "database" was the pre-2025-09-03 value (UNCONFIRMED that it is refused now).
        raise refused('body.filter.value should be `"page"` or `"data_source"`', value)
    return {value}


def sorted_pages(source: DataSource, pages: list[Page], sorts: Any) -> list[Page]:
    """Pages in the asked order, empty values last; without sorts newest first (UNCONFIRMED)."""
    ordered = sorted(pages, key=lambda p: p.seq, reverse=True)
    if sorts is None:
        return ordered
    specs = [
        _sort_key(source, spec, f"body.sorts[{i}]")
        for i, spec in enumerate(bounded_list(sorts, "body.sorts"))
    ]
    for key_of, descending in reversed(specs):
        present = [p for p in ordered if key_of(p) is not None]
        missing = [p for p in ordered if key_of(p) is None]
        ordered = sorted(present, key=key_of, reverse=descending) + missing
    return ordered


def _sort_key(source: DataSource, spec: Any, path: str) -> tuple[Callable[[Page], Any], bool]:
    if not isinstance(spec, dict) or spec.get("direction") not in ("ascending", "descending"):
        raise refused(f"{path}.direction should be `ascending` or `descending`")
    descending = spec["direction"] == "descending"
    kind = spec.get("timestamp")
    if "property" in spec:
        prop = find_property(source.properties, spec["property"])
        if prop is None:
            raise invalid(f"Could not find sort property with name or id: {spec['property']}")
        kind = prop["type"] if prop["type"] in READ_ONLY else None
    if kind == "created_time":  # ordering uses the exact times kept inside
        return (lambda page: page.created), descending
    if kind == "last_edited_time":
        return (lambda page: page.edited), descending
    if "property" not in spec:
        raise refused(f"{path} should have a property or a timestamp")
    return _property_sort_key(prop), descending


def _property_sort_key(prop: dict[str, Any]) -> Callable[[Page], Any]:
    """A comparable key, None when empty; options sort in schema order, text by case."""
    ptype, read = prop["type"], filter_value(prop)
    order = {o["name"]: i for i, o in enumerate(prop.get(ptype, {}).get("options", []))}

    def key(page: Page) -> Any:
        value = read(page)
        if is_empty(value):
            return None
        if FAMILY[ptype] in ("option", "options"):
            names = value if isinstance(value, list) else [value]
            return tuple(order.get(name, len(order)) for name in names)
        if isinstance(value, str):
            return value.lower()
        return tuple(value) if isinstance(value, list) else value

    return key
