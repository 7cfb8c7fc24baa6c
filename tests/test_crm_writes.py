"""The one HubSpot writer records only what HubSpot confirmed: a 207's refused records are sent
again, its records gone for good (OBJECT_NOT_FOUND) are noted and never sent again."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from connectors.errors import Transient
from connectors.hubspot_batch import BatchWrite
from settings import Settings
from sync.jobs.queue import JobQueue
from sync.mappings import load_mappings
from sync.onboarding.crm import GONE, FieldWrite, write_fields, write_many
from sync.services import Services
from sync.store.models import Onboarding

VALUES = {"status": "on_track", "progress": "40"}


class MultiStatusHubSpot:
    """Answers batch updates as HubSpot's 207 does: some ids refused, some not found."""

    def __init__(self, refused: set[str] = frozenset(), gone: set[str] = frozenset()) -> None:
        self.refused, self.gone = set(refused), set(gone)
        self.sent: list[tuple[str, set[str]]] = []

    def update_properties(self, object_type: str, updates: dict[str, dict]) -> BatchWrite:
        self.sent.append((object_type, set(updates)))
        ids = set(updates)
        answer = SimpleNamespace(
            results=[SimpleNamespace(id=i) for i in sorted(ids - self.refused - self.gone)],
            errors=[
                SimpleNamespace(category=category, message="refused", context={"ids": sorted(bad)})
                for category, bad in (
                    ("OBJECT_NOT_FOUND", ids & self.gone),
                    ("INTERNAL_ERROR", ids & self.refused),
                )
                if bad
            ],
        )
        outcome = BatchWrite()
        outcome.add(updates, answer)
        return outcome


@pytest.fixture
def services(store):
    settings = Settings()
    return Services(settings, store, load_mappings(settings.mappings_dir), JobQueue(store))


def onboardings(services, count):
    """``count`` onboardings with deals d0, d1 ... and companies c0, c1 ..., nothing written."""
    with services.store.session() as session:
        rows = [
            Onboarding(deal_id=f"d{n}", company_id=f"c{n}", won_at=datetime.now(UTC), written={})
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def written(services, onboarding_id):
    with services.store.session() as session:
        return dict(session.get(Onboarding, onboarding_id).written)


def writes(ids):
    return [FieldWrite(i, f"d{n}", f"c{n}", VALUES) for n, i in enumerate(ids)]


def test_a_record_hubspot_refused_stays_unwritten_and_goes_out_again(services):
    ids = onboardings(services, 2)
    hubspot = services._made["hubspot"] = MultiStatusHubSpot(refused={"c1"})
    assert write_many(services, writes(ids)) == 2
    assert written(services, ids[0]) == VALUES
    assert written(services, ids[1]) == {}  # its deal was written, its company was not

    hubspot.refused.clear()
    write_many(services, writes(ids)[1:])
    assert hubspot.sent[-2:] == [("deals", {"d1"}), ("companies", {"c1"})]
    assert written(services, ids[1]) == VALUES


def test_write_fields_raises_transient_until_hubspot_confirms(services):
    (onboarding_id,) = onboardings(services, 1)
    services._made["hubspot"] = MultiStatusHubSpot(refused={"d0"})
    with services.store.session() as session:
        onboarding = session.get(Onboarding, onboarding_id)
        session.expunge(onboarding)
    with pytest.raises(Transient):
        write_fields(services, onboarding, VALUES)
    assert written(services, onboarding_id) == {}


def test_a_deleted_or_merged_record_is_noted_and_never_sent_again(services, caplog):
    ids = onboardings(services, 2)
    hubspot = services._made["hubspot"] = MultiStatusHubSpot(gone={"d0"})
    write_many(services, writes(ids))
    assert written(services, ids[0]) == {**VALUES, GONE: ["deals/d0"]}
    assert "HubSpot no longer has deals/d0" in caplog.text

    write_many(services, [FieldWrite(ids[0], "d0", "c0", {"progress": "60"})])
    assert hubspot.sent[-1] == ("companies", {"c0"})  # the deal is not asked for again
    assert written(services, ids[0])["progress"] == "60"
