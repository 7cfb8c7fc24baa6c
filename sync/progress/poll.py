"""The incremental Notion poll: task pages edited since the cursor, applied to the local mirror.

Notion rounds ``last_edited_time`` down to the minute, so a cursor past the newest time seen
would skip a later edit in that same minute. The cursor is therefore the newest *minute* seen,
read again with ``on_or_after`` at the next poll; pages read twice are de-duplicated by
comparing what the mirror holds (an unchanged page changes nothing).

Pages come oldest edit first, and the cursor moves after each batch is applied (as Singer taps
save their state after each page; a full re-scan too), so a poll that fails midway leaves behind
only pages edited in the cursor's minute or later: the next poll reads those plus that minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import select

from connectors.notion import plain_value
from sync.onboarding import notion_schema as schema
from sync.onboarding.steps import NOTION_PROJECT
from sync.services import Services
from sync.store.cursors import read_cursor, save_cursor
from sync.store.ledger import generations_of
from sync.store.models import LedgerStep, OnboardingTask

CURSOR = "notion_tasks"
BATCH = 100
EDITED_ASCENDING = [{"timestamp": "last_edited_time", "direction": "ascending"}]


@dataclass
class Applied:
    """What one poll saw and changed."""

    pages: int = 0
    tasks_changed: int = 0
    onboardings: frozenset[int] = frozenset()


def poll_tasks(
    services: Services, full: bool = False, on_batch: Callable[[int], None] | None = None
) -> Applied:
    """Apply task pages edited since the cursor (every page when ``full``) to the mirror."""
    settings = services.settings
    if not (settings.notion_tasks_database_id or settings.notion_tasks_data_source_id):
        return Applied()
    _, data_source = services.notion_sources
    cursor = None if full else read_cursor(services.store, CURSOR)
    edited = (
        {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": cursor}}
        if cursor
        else None
    )
    pages = services.notion.query(data_source, edited, EDITED_ASCENDING, in_trash=True)
    applied, touched = Applied(), set()
    for batch in _prefetched(_batches(pages, BATCH)):
        changed, onboardings = apply_pages(services, batch)
        applied.pages += len(batch)
        applied.tasks_changed += changed
        touched |= onboardings
        newest = max(page["last_edited_time"] for page in batch)
        if newest != cursor:
            save_cursor(services.store, CURSOR, newest)
            cursor = newest
        if on_batch is not None:
            on_batch(len(batch))
    applied.onboardings = frozenset(touched)
    return applied


def apply_pages(services: Services, pages: list[dict[str, Any]]) -> tuple[int, set[int]]:
    """Mirror these task pages; returns how many tasks changed and whose onboardings."""
    ids = [page["id"] for page in pages]
    with services.store.session() as session:
        known = {
            task.notion_page_id: task
            for task in session.scalars(
                select(OnboardingTask).where(OnboardingTask.notion_page_id.in_(ids))
            )
        }
        projects = _onboardings_by_project(session, pages, known)
        changed, touched = 0, set()
        for page in pages:
            task = known.get(page["id"])
            if task is None:
                task = _added_in_notion(session, page, projects)
                if task is None:
                    continue  # not a task of ours (no project we made)
            if _mirror(task, page, services.settings.tz):
                changed += 1
                touched.add(task.onboarding_id)
    return changed, touched


def _mirror(task: OnboardingTask, page: dict[str, Any], tz: Any) -> bool:
    """Copy the page's state into the task; True when anything changed."""
    props = page.get("properties", {})
    status = plain_value(props.get(schema.STATUS)) or task.status
    due = plain_value(props.get(schema.DUE))
    state = {
        "title": plain_value(props.get(schema.TITLE)) or task.title,
        "status": status,
        "due_date": date.fromisoformat(due[:10]) if due else task.due_date,
        "owner_email": plain_value(props.get(schema.OWNER)) or task.owner_email,
        "archived": bool(page.get("in_trash") or page.get("archived")),
    }
    edited = datetime.fromisoformat(page["last_edited_time"].replace("Z", "+00:00"))
    if status == schema.TASK_STATUSES[-1]:
        state["done_on"] = task.done_on or edited.astimezone(tz).date()
    else:
        state["done_on"] = None
    changed = {k: v for k, v in state.items() if getattr(task, k) != v}
    for key, value in changed.items():
        setattr(task, key, value)
    task.notion_edited_at = edited
    return bool(changed)


def _onboardings_by_project(
    session: Any, pages: list[dict[str, Any]], known: dict[str, OnboardingTask]
) -> dict[str, int]:
    """Project page id -> onboarding id, for pages we did not create (a CSM added them)."""
    related = {
        project
        for page in pages
        if page["id"] not in known
        for project in plain_value(page.get("properties", {}).get(schema.PROJECT)) or []
    }
    if not related:
        return {}
    rows = session.execute(
        select(LedgerStep.external_id, LedgerStep.onboarding_id).where(
            generations_of(NOTION_PROJECT), LedgerStep.external_id.in_(related)
        )
    )
    return {external_id: onboarding_id for external_id, onboarding_id in rows}


def _added_in_notion(
    session: Any, page: dict[str, Any], projects: dict[str, int]
) -> OnboardingTask | None:
    """A task a CSM added to one of our projects: it counts from now on."""
    props = page.get("properties", {})
    if plain_value(props.get(schema.TASK_ID)):
        return None  # made by a kickoff that has not recorded it yet: the kickoff will link it
    linked = [projects[p] for p in plain_value(props.get(schema.PROJECT)) or [] if p in projects]
    if not linked:
        return None
    due = plain_value(props.get(schema.DUE))
    created = datetime.fromisoformat(page["created_time"].replace("Z", "+00:00"))
    task = OnboardingTask(
        onboarding_id=linked[0],
        key=f"notion:{page['id']}",
        position=10_000,
        title=plain_value(props.get(schema.TITLE)) or "Untitled task",
        phase=plain_value(props.get("Phase")) or "",
        owner_role="csm",
        due_date=date.fromisoformat(due[:10]) if due else created.date(),
        required=True,
        flags=[],
        notion_page_id=page["id"],
        added_in_notion=True,
        status="",
    )
    session.add(task)
    return task


def _prefetched(batches: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Fetch the next batch from Notion while the caller applies this one (a re-scan is
    bound by Notion's rate, so the mirror work should hide in its waits)."""
    with ThreadPoolExecutor(1, thread_name_prefix="notion-prefetch") as pool:
        ahead = pool.submit(next, batches, None)
        while (batch := ahead.result()) is not None:
            ahead = pool.submit(next, batches, None)
            yield batch


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
