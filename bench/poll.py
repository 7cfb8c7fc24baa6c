"""The progress poll at scale: calls and wall time per poll against the number of changed tasks.

For each fleet size (running onboardings of 20 tasks), after a baseline full pass, it changes
K task pages in Notion and runs one poll, counting the Notion and HubSpot calls the sandbox
answered. Calls must grow with K, not with the fleet. Then a full re-scan is timed against its
bound (pages / 100 per query / Notion's 3 requests/s, at the sandbox's scale):

    .venv/bin/python -m bench.poll [--fleets 1000 10000] [--changes 0 50 5000] [--scale 3]

Memory: `peak_rss_mb` is this whole process (app and the in-memory Notion emulator holding
every page); `poll_peak_mb` is what one poll allocated (tracemalloc), the app's own share.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from app import create_installed_app
from bench.fleet import seed_fleet
from sandbox import Sandbox
from sandbox.scenarios import app_settings, seed_team
from sync.onboarding import notion_schema as schema
from sync.progress.poll import CURSOR
from sync.progress.tracking import progress_tick
from sync.store.cursors import save_cursor

NOTION_RATE = 3.0


def measure(fleet_size: int, changes: list[int], scale: float, folder: Path) -> list[dict]:
    results = []
    with Sandbox(rate_scale=scale) as box:
        team = seed_team(box)
        database = f"sqlite:///{folder / f'p{fleet_size}.db'}"
        config = {**app_settings(box), "database_url": database, "rate_scale": scale}
        app = create_installed_app(config, team["notion_parent"])
        services = app.extensions["services"]
        started = time.perf_counter()
        fleet = seed_fleet(box, services, fleet_size)
        seeded = time.perf_counter() - started
        progress_tick(services, full=True)  # baseline: everything mirrored and written once
        flat = [page for pages in fleet.task_pages for page in pages]
        for count in changes:
            later = box.clock.now() + timedelta(minutes=1)
            save_cursor(services.store, CURSOR, later.strftime("%Y-%m-%dT%H:%M:00.000Z"))
            box.clock.set(later + timedelta(minutes=1))
            status = schema.TASK_STATUSES[-1] if count % 2 == 0 else schema.TASK_STATUSES[1]
            for page in flat[:count]:
                box.notion.edit_page_as_user(page, {schema.STATUS: {"status": {"name": status}}})
            flat = flat[count:]
            notion, hubspot = len(box.notion.calls()), len(box.hubspot.calls())
            tracemalloc.start()
            started = time.perf_counter()
            tick = progress_tick(services)
            wall = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results.append({
                "onboardings": fleet_size,
                "changed_tasks": count,
                "notion_calls": len(box.notion.calls()) - notion,
                "hubspot_calls": len(box.hubspot.calls()) - hubspot,
                "onboardings_written": tick.refreshed.changed,
                "seconds": round(wall, 2),
                "poll_peak_mb": round(peak / 2**20, 1),
            })  # fmt: skip
        notion = len(box.notion.calls())
        started = time.perf_counter()
        tick = progress_tick(services, full=True)
        wall = time.perf_counter() - started
        queries = len(box.notion.calls()) - notion
        bound = queries / (NOTION_RATE * scale)
        results.append({
            "onboardings": fleet_size,
            "full_rescan_pages": tick.applied.pages,
            "notion_queries": queries,
            "seconds": round(wall, 2),
            "bound_seconds": round(bound, 2),
            "ratio_to_bound": round(wall / bound, 3),
            "scale": scale,
            "seed_seconds": round(seeded, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        })  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleets", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--changes", type=int, nargs="+", default=[0, 50, 5000])
    parser.add_argument("--scale", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.fleets:
            for row in measure(size, args.changes, args.scale, Path(folder)):
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
