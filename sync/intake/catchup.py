"""Catch-up: start the onboardings whose won-deal webhook never came, by asking HubSpot.

HubSpot stops retrying a webhook after about a day, and a broken subscription sends nothing:
a search for deals that entered a start stage closes that gap. Each deal found is queued as
the same kickoff job a webhook queues (one per deal id), so nothing is onboarded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.hubspot import Record, date_entered_property
from sync.jobs.payloads import KickoffJob
from sync.services import Services
from sync.store.cursors import read_cursor, save_cursor

log = logging.getLogger(__name__)

CURSOR = "catchup"
LAST_MODIFIED = "hs_lastmodifieddate"
CLOSE_DATE = "closedate"
CLOSED_SLACK = timedelta(days=1)  # a close date is a date: a win late yesterday counts


@dataclass(frozen=True)
class PageDone:
    """One page of search results applied: for progress lines."""

    pipeline: str
    stage: str
    deals: int
    queued: int


@dataclass
class CatchUpResult:
    """What one run saw: deals in the window, kickoffs it queued, deals already known."""

    since: datetime
    until: datetime
    found: int = 0
    queued: list[str] = field(default_factory=list)

    @property
    def known(self) -> int:
        return self.found - len(self.queued)

    def summary(self) -> str:
        return (
            f"{self.found} deals entered a start stage between {self.since.isoformat()} and "
            f"{self.until.isoformat()}: {len(self.queued)} newly queued, {self.known} already known"
        )


def catch_up(
    services: Services,
    since: datetime,
    until: datetime | None = None,
    on_page: Callable[[PageDone], None] | None = None,
) -> CatchUpResult:
    """Queue a kickoff for each deal that entered a start stage in [since, until) and has none.

    A deal counts only while it is still in that stage of that pipeline: one won and then
    lost again before we looked is left alone, as the cancel trigger would have ended it.
    """
    until = until or services.now()
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("catch-up needs timezone-aware times")
    result = CatchUpResult(since, until)
    seen: set[str] = set()
    clocks = stage_clocks(services)
    for trigger in services.mappings.triggers.start:
        for stage in trigger.stages:
            clock = clocks[stage]
            pages = services.hubspot.deals_entered_stage(
                trigger.pipeline, stage, since, until, properties=[CLOSE_DATE], clock=clock,
                extra_filters=_closed_lately(since) if clock == LAST_MODIFIED else (),
            )  # fmt: skip
            for records in pages:
                fresh = [r for r in records if r.id not in seen]
                seen.update(r.id for r in fresh)
                queued = _queue(services, stage, clock, fresh)
                result.found += len(fresh)
                result.queued += queued
                if on_page is not None:
                    on_page(PageDone(trigger.pipeline, stage, len(fresh), len(queued)))
    log.log(logging.INFO if result.queued else logging.DEBUG, "catch-up: %s", result.summary())
    return result


def catch_up_tick(services: Services) -> CatchUpResult:
    """The periodic run: from the last run's end, less the overlap, to now; then the cursor.

    The first run looks back the overlap only. The cursor moves only once every deal of the
    window is queued, so a run that fails is repeated whole by the next one.
    """
    now = services.now()
    overlap = timedelta(minutes=services.settings.catchup_overlap_minutes)
    last = read_cursor(services.store, CURSOR)
    start = min(datetime.fromisoformat(last), now) if last else now
    result = catch_up(services, start - overlap, now)
    save_cursor(services.store, CURSOR, now.isoformat())
    return result


def stage_clocks(services: Services) -> dict[str, str]:
    """Per start stage, the deal property that says when a deal entered it: its date-entered
    property where the account has one (Professional and Enterprise), else the last change
    (Free and Starter have no stage calculated properties: the search would find nothing).
    One read of the account's deal properties."""
    known = services.hubspot.property_names("deals")
    stages = (stage for trigger in services.mappings.triggers.start for stage in trigger.stages)
    return {
        stage: entered if (entered := date_entered_property(stage)) in known else LAST_MODIFIED
        for stage in stages
    }


def _closed_lately(since: datetime) -> list[dict[str, str]]:
    """Without a stage-entry date, a deal edited in the window may have been won years ago:
    only deals closed lately count (HubSpot sets the close date when a deal is won)."""
    start = int((since - CLOSED_SLACK).timestamp() * 1000)
    return [{"propertyName": CLOSE_DATE, "operator": "GTE", "value": str(start)}]


def _queue(services: Services, stage: str, clock: str, records: list[Record]) -> list[str]:
    """Enqueue one kickoff per deal (a no-op for known deals); returns the deal ids queued."""
    queued: list[str] = []
    with services.store.session() as session:
        for record in records:
            if services.queue.enqueue(session, _kickoff(services, stage, clock, record)):
                queued.append(record.id)
    return queued


def _kickoff(services: Services, stage: str, clock: str, record: Record) -> KickoffJob:
    """The kickoff a won-deal webhook would queue; the won time is the stage entry, or without
    one the close date (HubSpot sets it when a deal is won), else the last modification."""
    won = record.properties.get(clock) if clock != LAST_MODIFIED else None
    won = won or record.properties.get(CLOSE_DATE) or record.properties.get(LAST_MODIFIED)
    return KickoffJob(
        deal_id=record.id,
        stage=stage,
        occurred_at_ms=_epoch_ms(won),
        portal_id=services.settings.hubspot_portal_id,
        source="catch-up",
    )


def _epoch_ms(value: str | None) -> int | None:
    """A HubSpot datetime value (ISO 8601, or epoch milliseconds) as epoch milliseconds."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)
