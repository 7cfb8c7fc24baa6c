"""The onboarding fields on HubSpot deals and companies: one writer for kickoff, progress, endings.

Logical field names (status, progress, next_task ...) map to the property names of fields.yaml.
Records go out in batch updates, and each onboarding remembers what HubSpot confirmed it
wrote, so the progress loop sends only what changed and retries what did not go through.
A record HubSpot no longer has (deleted or merged) is noted on the onboarding and left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from connectors.errors import Transient
from connectors.hubspot_batch import BatchWrite
from sync.services import Services
from sync.store.models import Onboarding

# In Onboarding.written, beside the field values: the records HubSpot said it no longer has,
# as "deals/<id>" or "companies/<id>", never written again.
GONE = "gone_from_hubspot"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldWrite:
    """Values for one onboarding's deal (unless ``deal_id`` is None) and company."""

    onboarding_id: int
    deal_id: str | None
    company_id: str | None
    values: dict[str, str]

    def records(self) -> list[tuple[str, str]]:
        """(object type, id) of the records these values go to."""
        pairs = (("deals", self.deal_id), ("companies", self.company_id))
        return [(object_type, record_id) for object_type, record_id in pairs if record_id]


@dataclass(frozen=True)
class Sent:
    """The HubSpot calls a write made and the writes HubSpot did not confirm in full."""

    calls: int
    unconfirmed: list[FieldWrite]


def write_many(services: Services, writes: list[FieldWrite]) -> int:
    """Write these values in batches (100 records a call); returns the HubSpot calls made.

    Values HubSpot did not confirm stay unwritten on the onboarding: the next write-back sends
    them again.
    """
    return _send(services, writes).calls


def write_fields(
    services: Services, onboarding: Onboarding, values: dict[str, str], deal: bool = True
) -> None:
    """Write one onboarding's fields (``deal=False``: its deal is gone, the company only);
    raises Transient when HubSpot did not confirm them, so the step calling it is retried."""
    deal_id = onboarding.deal_id if deal else None
    write = FieldWrite(onboarding.id, deal_id, onboarding.company_id, values)
    if _send(services, [write]).unconfirmed:
        raise Transient("hubspot", f"onboarding {onboarding.id}: fields not confirmed written")


def _send(services: Services, writes: list[FieldWrite]) -> Sent:
    """Send the writes (skipping records known gone) and record on each onboarding what
    HubSpot confirmed; a write with a record neither written nor gone is left unconfirmed."""
    if not writes:
        return Sent(0, [])
    gone = _known_gone(services, writes)
    plans = [
        (write, [r for r in write.records() if _key(*r) not in gone.get(write.onboarding_id, ())])
        for write in writes
    ]
    fields = services.mappings.fields.hubspot
    outcomes: dict[str, BatchWrite] = {}
    for object_type, names in (("deals", fields.deal), ("companies", fields.company)):
        updates = {
            record_id: _named(names, write.values)
            for write, records in plans
            for kind, record_id in records
            if kind == object_type
        }
        if updates:
            outcomes[object_type] = services.hubspot.update_properties(object_type, updates)
    confirmed, unconfirmed = [], []
    for write, records in plans:
        if all(outcomes[kind].settled(record_id) for kind, record_id in records):
            confirmed.append(write)
        else:
            unconfirmed.append(write)
            _log_failures(write, records, outcomes)
    _record(services, confirmed, outcomes)
    return Sent(sum(outcome.calls for outcome in outcomes.values()), unconfirmed)


def _key(object_type: str, record_id: str) -> str:
    return f"{object_type}/{record_id}"


def _known_gone(services: Services, writes: list[FieldWrite]) -> dict[int, set[str]]:
    """The records each onboarding already found gone from HubSpot."""
    ids = {write.onboarding_id for write in writes}
    with services.store.session() as session:
        rows = session.execute(
            select(Onboarding.id, Onboarding.written).where(Onboarding.id.in_(ids))
        )
        return {row_id: set((written or {}).get(GONE, [])) for row_id, written in rows}


def _record(services: Services, writes: list[FieldWrite], outcomes: dict[str, BatchWrite]) -> None:
    """Remember the confirmed values, and the records found gone (told once, in the log)."""
    with services.store.session() as session:
        for write in writes:
            onboarding = session.get(Onboarding, write.onboarding_id)
            assert onboarding is not None
            written = {**onboarding.written, **write.values}
            found_gone = [
                _key(kind, record_id)
                for kind, record_id in write.records()
                if kind in outcomes and record_id in outcomes[kind].missing
            ]
            for record in found_gone:
                log.warning(
                    "onboarding %s: HubSpot no longer has %s (deleted or merged); "
                    "its onboarding fields are not written there any more",
                    write.onboarding_id,
                    record,
                )
            if found_gone:
                written[GONE] = sorted({*written.get(GONE, []), *found_gone})
            onboarding.written = written


def _log_failures(
    write: FieldWrite, pending: list[tuple[str, str]], outcomes: dict[str, BatchWrite]
) -> None:
    for kind, record_id in pending:
        reason = outcomes[kind].failed.get(record_id)
        if reason:
            log.info(
                "onboarding %s: HubSpot did not write %s/%s (%s); sent again next time",
                write.onboarding_id,
                kind,
                record_id,
                reason,
            )


def _named(properties: Any, values: dict[str, str]) -> dict[str, str]:
    return {getattr(properties, field): value for field, value in values.items()}
