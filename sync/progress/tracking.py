"""The progress loop's tick: poll Notion, then recompute and write back what the poll touched.

Once per local day every tracked onboarding is recomputed too, because overdue counts and
statuses change with the date even when nobody edits a task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync.progress.poll import Applied, poll_tasks
from sync.progress.writeback import Refreshed, refresh
from sync.services import Services
from sync.store.cursors import read_cursor, save_cursor

DAY_CURSOR = "progress_day"


@dataclass
class Tick:
    applied: Applied
    refreshed: Refreshed


def progress_tick(
    services: Services, full: bool = False, on_batch: Callable[[int], None] | None = None
) -> Tick:
    """One round of the loop; ``full`` re-reads every task page (recovery)."""
    applied = poll_tasks(services, full=full, on_batch=on_batch)
    today = services.now().astimezone(services.settings.tz).date().isoformat()
    if full or read_cursor(services.store, DAY_CURSOR) != today:
        refreshed = refresh(services)
        save_cursor(services.store, DAY_CURSOR, today)
    else:
        refreshed = refresh(services, applied.onboardings)
    return Tick(applied, refreshed)
