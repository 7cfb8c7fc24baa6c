"""Webhook acknowledgement: latency (p50, p99) and events per second on the embedded default.

The app runs as a real process (`flask serve`, SQLite, worker on) and this process sends
signed deliveries over 1 connection, then over 10 (HubSpot keeps at most 10 in flight):

    .venv/bin/python -m bench.webhook_ack [--requests 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from sandbox.hubspot.webhooks import HubSpotWebhookSender

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


def start_app(port: int, database: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "HUBSPOT_CLIENT_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("app did not start")


def run(
    batch_size: int, count: int, url: str, sender: HubSpotWebhookSender, concurrency: int = 1
) -> dict:
    """``count`` deliveries of ``batch_size`` events from ``concurrency`` connections."""
    latencies: list[float] = []
    per_client = count // concurrency
    start = time.perf_counter()
    clients = [
        threading.Thread(target=_send, args=(c, per_client, batch_size, url, sender, latencies))
        for c in range(concurrency)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "batch": batch_size,
        "concurrency": concurrency,
        "requests": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "events_per_s": round(batch_size * len(latencies) / wall),
    }


def _send(client, count, batch_size, url, sender, latencies) -> None:  # noqa: ANN001
    session = requests.Session()
    for k in range(count):
        n = client * 1_000_000 + k
        events = [
            sender.event(
                "deal.propertyChange",
                10_000_000 + n * batch_size + i,
                property_name="dealstage",
                property_value="appointmentscheduled",
            )
            for i in range(batch_size)
        ]
        body = json.dumps(events).encode()
        headers = sender.sign("POST", url, body, int(time.time() * 1000))
        start = time.perf_counter()
        answer = session.post(url, data=body, headers=headers, timeout=10)
        latencies.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--port", type=int, default=5091)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process = start_app(args.port, Path(folder) / "bench.db")
        url = f"http://127.0.0.1:{args.port}/webhooks/hubspot"
        sender = HubSpotWebhookSender(url, SECRET)
        try:
            batches = max(args.requests // 5, 20)
            for batch, count, concurrency in (
                (1, args.requests, 1),
                (1, args.requests, 10),  # HubSpot keeps up to 10 requests in flight
                (100, batches, 1),
                (100, batches, 10),
            ):
                print(json.dumps(run(batch, count, url, sender, concurrency)), flush=True)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
