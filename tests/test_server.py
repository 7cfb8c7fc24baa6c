"""`flask serve` on waitress: one worker beside the server, and the limits a client meets."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import make_world
from web.server import Server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world(shared_sandbox, tmp_path_factory):
    return make_world(shared_sandbox, tmp_path_factory.mktemp("served"), client_timeout_seconds=1)


def schedulers() -> int:
    """APScheduler threads alive in this process: one per running worker."""
    return sum(1 for thread in threading.enumerate() if thread.name == "APScheduler")


@contextmanager
def serving(world):
    """The world's app served on a free port in a thread, as `flask serve` serves it."""
    server = Server(world.app, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(15)
        assert not thread.is_alive(), "the server did not stop"


def request(server, method, path, body=b"", headers=None):
    connection = http.client.HTTPConnection(*server.address, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_one_worker_runs_beside_the_server_and_stops_with_it(world):
    before = schedulers()
    with serving(world) as server:
        assert request(server, "GET", "/health") == (200, b'{"status":"ok"}\n')
        assert schedulers() == before + 1
    assert schedulers() == before


def test_a_signed_delivery_through_the_server_is_stored(world):
    with serving(world) as server:
        host, port = server.address
        url = f"http://{host}:{port}/webhooks/hubspot"
        body = json.dumps([world.sender.event("deal.creation", "301")]).encode()
        headers = world.sender.sign("POST", url, body, int(time.time() * 1000))
        status, answer = request(server, "POST", "/webhooks/hubspot", body, headers)
    assert (status, json.loads(answer)) == (200, {"new": 1, "duplicates": 0, "malformed": 0})


def test_a_100_mb_content_length_is_refused_before_the_body_is_sent(world):
    with serving(world) as server, socket.create_connection(server.address, timeout=5) as client:
        client.sendall(
            b"POST /webhooks/hubspot HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b"[" * 100
        )
        assert client.recv(100).startswith(b"HTTP/1.1 413 ")


def test_a_stalled_client_is_cut_off_after_the_client_timeout(world):
    with serving(world) as server, socket.create_connection(server.address, timeout=10) as client:
        client.sendall(
            b"POST /webhooks/hubspot HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n["
        )
        started = time.monotonic()
        assert client.recv(100) == b""  # closed, with nothing sent back
        assert time.monotonic() - started < 5  # CLIENT_TIMEOUT_SECONDS=1, checked each second


def test_behind_a_trusted_proxy_its_forwarded_url_is_what_was_signed(sandbox, tmp_path):
    world = make_world(sandbox, tmp_path, trusted_proxies=1)
    url = "https://onboarding.example.com/webhooks/hubspot"
    body = json.dumps([world.sender.event("deal.creation", "302")]).encode()
    headers = {
        **world.sender.sign("POST", url, body, int(time.time() * 1000)),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "onboarding.example.com",
        "X-Forwarded-For": "203.0.113.9",
    }
    with serving(world) as server:
        assert request(server, "POST", "/webhooks/hubspot", body, headers)[0] == 200


def test_flask_serve_stops_cleanly_on_sigterm(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        os.kill(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert output.count(f"serving on http://127.0.0.1:{port}") == 1
