"""Reading the whole account at once, for tests and the sandbox's state page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.hubspot.account import OBJECT_TYPE_IDS, canonical_type
from sandbox.hubspot.records import Record


def record_summary(record: Record, keys: Iterable[str]) -> dict[str, Any]:
    """A record's id, chosen properties, archived flag and associations, for the state page."""
    return {
        "id": record.id,
        **{k: record.properties.get(k) for k in keys},
        "archived": record.archived_at is not None,
        **{t: ids for t, ids in record.links.items() if ids},
    }


class StateView:
    """Accessors that bypass the API: every record, one record, and the state page's snapshot."""

    def records(self, object_type: str, archived: bool = False) -> list[dict[str, Any]]:
        """Every record of a type with all its properties and associations."""
        object_type = canonical_type(object_type)
        with self.lock:
            return [
                self._full_json(r)
                for r in self._records[object_type].values()
                if (r.archived_at is not None) == archived
            ]

    def record(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """One record (archived ones too) with all its properties, or None."""
        with self.lock:
            found = self._records[canonical_type(object_type)].get(str(object_id))
            return None if found is None else self._full_json(found)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            records = {t: list(self._records[t].values()) for t in OBJECT_TYPE_IDS}
            custom = {  # properties an app created: their values are what it wrote
                t: [n for n, d in props.items() if not d["hubspotDefined"]]
                for t, props in self._properties.items()
            }
            return {
                "deals": [record_summary(r, ("dealname", "dealstage", "pipeline", "amount",
                                             "hubspot_owner_id", *custom.get("deals", ())))
                          for r in records["deals"]],
                "companies": [record_summary(r, ("name", "domain", *custom.get("companies", ())))
                              for r in records["companies"]],
                "contacts": [record_summary(r, ("email", "firstname", "lastname"))
                             for r in records["contacts"]],
                "tasks": [record_summary(r, ("hs_task_subject", "hs_task_status", "hs_timestamp"))
                          for r in records["tasks"]],
                "owners": [{k: o[k] for k in ("id", "email", "firstName", "lastName")}
                           for o in self._owners.values()],
                "custom_properties": custom,
                "pipelines": {p["id"]: [s["id"] for s in p["stages"]]
                              for p in self._pipelines.values()},
                "webhooks": {
                    "target_url": self._sender.target_url,
                    "subscriptions": self._subscriptions,
                    "deliveries": [
                        {"at": d["at"], "attempt": d["attempt"], "status": d["status"],
                         "events": [e["subscriptionType"] for e in d["events"]]}
                        for d in self._sender.deliveries
                    ],
                },
            }  # fmt: skip
