"""Kickoff time against its bound: the bottleneck service's calls divided by its rate limit.

Notion (3 requests/s) is the bound: a kickoff makes one Notion call per page. The sandbox and
the app's limiter are both scaled by --scale so a 100-deal burst takes a minute, not ten; the
ratio to the bound is what counts. 429s are injected on every service (with Retry-After where
the vendor sends one) unless --no-faults:

    .venv/bin/python -m bench.kickoff [--deals 100] [--scale 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from app import create_installed_app, start_worker
from sandbox import Sandbox
from sandbox.hubspot.webhooks import HubSpotWebhookSender
from sandbox.scenarios import WEBHOOK_SECRET, app_settings, seed_customer, seed_team

NOTION_RATE = 3.0
RETRY_AFTER = 1


def measure(deals: int, scale: float, faults: bool, folder: Path, concurrency: int) -> dict:
    with Sandbox(rate_scale=scale) as box:
        team = seed_team(box)
        config = {
            **app_settings(box),
            "database_url": f"sqlite:///{folder / f'k{deals}.db'}",
            "rate_scale": scale,
            "worker_interval_seconds": 0.2,
            "max_concurrent_jobs": concurrency,
        }
        app = create_installed_app(config, team["notion_parent"])
        services = app.extensions["services"]
        customers = [
            seed_customer(
                box, team, name=f"Customer {n}", employees=(150, 50, 10)[n % 3], stage="closedwon"
            )
            for n in range(deals)
        ]
        if faults:
            for emulator in (box.hubspot, box.slack, box.customerio):
                emulator.faults.add("rate_limit", share=0.1, retry_after=RETRY_AFTER)
            box.notion.faults.add("rate_limit", calls=max(deals // 20, 1), retry_after=RETRY_AFTER)
        notion_before = len(box.notion.calls())
        worker = start_worker(app)
        sender = HubSpotWebhookSender("", WEBHOOK_SECRET)
        client = app.test_client()
        start = time.perf_counter()
        for offset in range(0, deals, 100):  # one HubSpot delivery carries up to 100 events
            events = [
                sender.event("deal.propertyChange", c.deal_id, property_name="dealstage",
                             property_value="closedwon")
                for c in customers[offset : offset + 100]
            ]  # fmt: skip
            body = json.dumps(events).encode()
            headers = sender.sign("POST", "http://localhost/webhooks/hubspot", body,
                                  int(time.time() * 1000))  # fmt: skip
            assert client.post("/webhooks/hubspot", data=body, headers=headers).status_code == 200
        while True:
            jobs = [services.queue.get("kickoff", c.deal_id) for c in customers]
            if all(j is not None and j.status in ("done", "failed") for j in jobs):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        worker.stop()
        notion_calls = len(box.notion.calls()) - notion_before
        injected = sum(1 for e in box.emulators.values() for c in e.calls() if c.fault)
        pages = [p for p in box.notion.pages() if "Task ID" not in p["properties"]]
        pages = [p for p in pages if "Deal ID" in p["properties"]]
        notion_429s = sum(1 for c in box.notion.calls() if c.status == 429)
        # The vendor's Retry-After waits (1 s each, unscaled) are part of the bound: no client
        # may call Notion during them.
        bound = notion_calls / (NOTION_RATE * scale) + notion_429s * RETRY_AFTER
        return {
            "deals": deals,
            "scale": scale,
            "concurrent_jobs": concurrency,
            "seconds": round(elapsed, 2),
            "notion_calls": notion_calls,
            "bound_seconds": round(bound, 2),
            "ratio_to_bound": round(elapsed / bound, 3),
            "failed": sum(1 for j in jobs if j.status != "done"),
            "duplicate_project_pages": len(pages) - len({_deal(p) for p in pages}),
            "injected_429s": injected,
            "notion_429s": notion_429s,
        }


def _deal(page: dict) -> str:
    return "".join(t["plain_text"] for t in page["properties"]["Deal ID"]["rich_text"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deals", type=int, default=100)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--jobs", type=int, default=32, help="MAX_CONCURRENT_JOBS for the burst")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = ((1, 1.0, False, 1), (args.deals, args.scale, not args.no_faults, args.jobs))
        for deals, scale, faults, jobs in runs:
            print(json.dumps(measure(deals, scale, faults, Path(folder), jobs)), flush=True)


if __name__ == "__main__":
    main()
