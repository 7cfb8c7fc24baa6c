"""The sandbox page a newcomer opens after the demo, in a real browser (Debian's chromium)."""

from pathlib import Path

import pytest

from sandbox.scenarios import seed_customer
from sync.jobs.worker import run_until_idle
from tests.test_kickoff import kickoff_done

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")


def test_state_page_shows_each_service_after_a_kickoff(world, tmp_path):
    from playwright.sync_api import sync_playwright

    customer = seed_customer(world.box, world.team, name="Acme Robotics")
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        page.goto(world.box.base_url + "/?refresh=600")
        headings = page.locator("h2").all_inner_texts()
        assert headings == ["HubSpot CRM", "Notion", "Slack", "Customer.io"]
        slack = page.locator("#slack")
        assert "onboarding-acme-robotics" in slack.inner_text()
        assert "New onboarding: Acme Robotics" in slack.inner_text()
        assert "Acme Robotics onboarding" in page.locator("#notion").inner_text()
        assert "onboarding_started" in page.locator("#customerio").inner_text()
        page.click("nav >> text=Customer.io")
        assert page.url.endswith("#customerio")
        page.screenshot(path=str(tmp_path / "state.png"), full_page=True)
        browser.close()
    assert (tmp_path / "state.png").stat().st_size > 10_000
