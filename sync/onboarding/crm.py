"""The onboarding fields on HubSpot deals and companies: one writer for kickoff, progress, endings.

Logical field names (status, progress, next_task ...) map to the property names of fields.yaml.
Records go out in batch updates, and each onboarding remembers what it last wrote, so the
progress loop can send only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.services import Services
from sync.store.models import Onboarding


@dataclass(frozen=True)
class FieldWrite:
    """Values for one onboarding's deal (unless ``deal_id`` is None) and company."""

    onboarding_id: int
    deal_id: str | None
    company_id: str | None
    values: dict[str, str]


def write_many(services: Services, writes: list[FieldWrite]) -> int:
    """Write these values in batches (100 records a call); returns the HubSpot calls made."""
    if not writes:
        return 0
    fields = services.mappings.fields.hubspot
    deals = {w.deal_id: _named(fields.deal, w.values) for w in writes if w.deal_id}
    companies = {w.company_id: _named(fields.company, w.values) for w in writes if w.company_id}
    calls = services.hubspot.update_properties("deals", deals) if deals else 0
    calls += services.hubspot.update_properties("companies", companies) if companies else 0
    with services.store.session() as session:
        for write in writes:
            onboarding = session.get(Onboarding, write.onboarding_id)
            assert onboarding is not None
            onboarding.written = {**onboarding.written, **write.values}
    return calls


def write_fields(
    services: Services, onboarding: Onboarding, values: dict[str, str], deal: bool = True
) -> None:
    """Write one onboarding's fields (``deal=False``: its deal is gone, the company only)."""
    deal_id = onboarding.deal_id if deal else None
    write_many(services, [FieldWrite(onboarding.id, deal_id, onboarding.company_id, values)])


def _named(properties: Any, values: dict[str, str]) -> dict[str, str]:
    return {getattr(properties, field): value for field, value in values.items()}
