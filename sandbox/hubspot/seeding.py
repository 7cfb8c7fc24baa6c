"""Seeding commands for companies, contacts and deals, stored as given without validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core import command
from sandbox.hubspot.account import SINGULAR
from sandbox.hubspot.records import Record
from sandbox.hubspot.values import as_text


class RecordSeeding:
    """Puts records in place for tests and scenarios, as if people had entered them."""

    def _seed(self, object_type: str, properties: dict[str, Any], id: Any) -> Record:
        with self.lock:
            if id is not None and str(id) in self._records[object_type]:
                raise ValueError(f"{SINGULAR[object_type]} {id} already exists")
            values = {k: as_text(v) for k, v in properties.items()}
            return self._store(object_type, values, None if id is None else str(id))

    @command
    def seed_company(self, properties: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        """A company, stored as given (seeding skips validation)."""
        return self._full_json(self._seed("companies", properties, id))

    @command
    def seed_contact(self, properties: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        """A contact, stored as given (seeding skips validation)."""
        return self._full_json(self._seed("contacts", properties, id))

    @command
    def seed_deal(
        self,
        properties: dict[str, Any],
        id: str | None = None,
        company_ids: Iterable[str] = (),
        contact_ids: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A deal associated both ways with companies (first = primary) and contacts."""
        with self.lock:
            links = [("companies", str(i)) for i in company_ids]
            links += [("contacts", str(i)) for i in contact_ids]
            for to_type, to_id in links:
                if self._find(to_type, to_id) is None:
                    raise LookupError(f"no {SINGULAR[to_type]} {to_id} to associate")
            record = self._seed("deals", properties, id)
            for to_type, to_id in links:
                self._link("deals", record.id, to_type, to_id)
            return self._full_json(record)
