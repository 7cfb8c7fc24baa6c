"""The machinery every emulator shares: faults on and off, limits, the clock, the control API."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.routing import Rule

from sandbox.core import Clock, Emulator, SlidingWindowLimit, TokenBucketLimit
from sandbox.server import Sandbox


class EchoEmulator(Emulator):
    name = "echo"

    def __init__(self, **kwargs):
        self.limiter = SlidingWindowLimit(limit=3, window=60)
        super().__init__(**kwargs)

    def routes(self):
        return [Rule("/echo", endpoint="echo")]

    def echo(self, request):
        return self.json({"ok": True})

    def limit_for(self, request, endpoint):
        return self.limiter, "all"


def call(emulator, path="/echo"):
    from werkzeug.test import Client

    return Client(emulator).get(path)


def test_injected_errors_switch_off_after_their_call_count():
    emu = EchoEmulator()
    emu.faults.add("error", status=503, calls=2)
    statuses = [call(emu).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_an_injected_error_can_let_some_calls_through_first():
    emu = EchoEmulator()
    emu.faults.add("error", status=503, after=2, calls=1)
    statuses = [call(emu).status_code for _ in range(4)]
    assert statuses == [200, 200, 503, 200]


def test_an_injected_error_says_retry_after_only_when_asked_in_each_vendors_body():
    with Sandbox() as box:
        for emulator in box.emulators.values():
            emulator.faults.add("error", status=503, calls=1, retry_after=2)
            emulator.faults.add("error", status=503, calls=1)
        answers = {
            "hubspot": lambda: requests.get(
                f"{box.url('hubspot')}/crm/v3/owners/", headers=HUBSPOT
            ),
            "notion": lambda: requests.get(f"{box.url('notion')}/v1/users/me", headers=NOTION),
            "slack": lambda: requests.post(f"{box.url('slack')}auth.test", headers=SLACK),
            "customerio": lambda: requests.get(
                f"{box.url('customerio')}/accounts/region", auth=CUSTOMERIO
            ),
        }
        for name, ask in answers.items():
            told, untold = ask(), ask()
            assert (told.status_code, told.headers.get("Retry-After")) == (503, "2"), name
            assert untold.status_code == 503 and "Retry-After" not in untold.headers, name
            assert told.json() == {**told.json(), **VENDOR_BODIES[name]}, name


HUBSPOT = {"Authorization": "Bearer pat-sandbox"}
NOTION = {"Authorization": "Bearer secret_sandbox", "Notion-Version": "2025-09-03"}
SLACK = {"Authorization": "Bearer xoxb-sandbox"}
CUSTOMERIO = ("sandbox-site", "sandbox-key")
VENDOR_BODIES = {  # the keys each vendor's error body has, with an injected 503's values
    "hubspot": {"status": "error", "category": "INTERNAL_ERROR"},
    "notion": {"object": "error", "status": 503, "code": "service_unavailable"},
    "slack": {"ok": False, "error": "internal_error"},
    "customerio": {"meta": {"error": "injected server error"}},
}


def test_injected_rate_limit_hits_about_the_share_asked_for():
    emu = EchoEmulator()
    emu.limiter = SlidingWindowLimit(limit=10_000, window=60)
    emu.faults.add("rate_limit", share=1 / 3)
    statuses = [call(emu).status_code for _ in range(300)]
    assert 70 <= statuses.count(429) <= 130
    emu.faults.clear()
    assert call(emu).status_code == 200


def test_fault_for_some_seconds_expires(monkeypatch):
    emu = EchoEmulator()
    fault = emu.faults.add("error", seconds=30)
    assert call(emu).status_code == 503
    fault.started -= 31
    assert call(emu).status_code == 200


def test_sliding_window_refuses_the_call_over_the_limit_and_says_how_long_to_wait():
    limit = SlidingWindowLimit(limit=2, window=10)
    assert limit.take("k", now=0.0) == 0
    assert limit.take("k", now=1.0) == 0
    assert limit.take("k", now=2.0) == pytest.approx(8.0)
    assert limit.take("k", now=10.5) == 0


def test_token_bucket_allows_a_burst_then_the_average_rate():
    bucket = TokenBucketLimit(rate=3, burst=3)
    assert [bucket.take("k", now=0.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take("k", now=0.0) == pytest.approx(1 / 3)
    assert bucket.take("k", now=0.34) == 0


def test_calls_are_recorded_with_status_and_unknown_routes_get_404():
    emu = EchoEmulator()
    call(emu)
    call(emu, "/nope")
    assert [(c.path, c.status) for c in emu.calls()] == [("/echo", 200), ("/nope", 404)]


def test_clock_can_be_frozen_and_moved_without_sleeping():
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock = Clock(start)
    clock.advance(timedelta(days=3))
    assert clock.now() == start + timedelta(days=3)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))


def test_faults_are_controlled_over_http_per_service():
    with Sandbox() as box:
        answer = requests.post(
            f"{box.base_url}/slack/_sandbox/fault", json={"kind": "error", "calls": 1}
        )
        assert answer.json()["ok"] is True
        assert len(box.slack.faults.active()) == 1
        assert len(box.notion.faults.active()) == 0
        bad = requests.post(f"{box.base_url}/slack/_sandbox/fault", json={"kind": "meteor"})
        assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]
        requests.post(f"{box.base_url}/slack/_sandbox/clear_faults")
        assert box.slack.faults.active() == []


def test_state_page_lists_every_service():
    with Sandbox() as box:
        page = requests.get(box.base_url + "/").text
        for name in ("hubspot", "notion", "slack", "customerio"):
            assert f'id="{name}"' in page
