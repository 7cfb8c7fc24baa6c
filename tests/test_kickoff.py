"""A won deal becomes a running onboarding in all four services, exactly once."""

from sqlalchemy import select

from sandbox.scenarios import AE_EMAIL, CSM_EMAIL, SEGMENT_ID, seed_customer
from sync.jobs.worker import run_until_idle
from sync.store.models import Onboarding
from tests.conftest import retries_waited


def kickoff_done(world, deal_id):
    job = world.services.queue.get("kickoff", deal_id)
    return job is not None and job.status in ("done", "failed")


def test_won_deal_fans_out_to_every_service(world):
    customer = seed_customer(world.box, world.team, employees=150)
    answer = world.deliver([world.won(customer.deal_id)])
    assert answer.status_code == 200
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    box = world.box
    projects = [p for p in box.notion.pages() if "Deal ID" in p["properties"]]
    assert len([p for p in projects if p["properties"].get("Segment")]) == 1
    tasks = [p for p in box.notion.pages() if "Task ID" in p["properties"]]
    playbook = world.services.mappings.playbook("enterprise")
    assert len(tasks) == len(playbook.tasks)

    channel = box.slack.channel_by_name("onboarding-acme-robotics")
    assert channel is not None
    members = box.slack.members(channel["id"])
    for email in (CSM_EMAIL, AE_EMAIL):
        assert box.slack.user_by_email(email)["id"] in members
    assert len(box.slack.messages(channel["id"])) == 1

    assert box.customerio.segment_members(SEGMENT_ID) == [customer.contact_id]
    assert len(box.customerio.events(name="onboarding_started")) == 1

    deal = box.hubspot.record("deals", customer.deal_id)
    assert deal["properties"]["onboarding_segment"] == "enterprise"
    assert deal["properties"]["onboarding_status"] == "on_track"
    assert deal["properties"]["onboarding_channel_url"].endswith(channel["id"])
    company = box.hubspot.record("companies", customer.company_id)
    assert company["properties"]["onboarding_project_url"].startswith("https://")


def counts(box, deal_id):
    """What exists in the sandbox for one onboarding: the numbers that must never exceed one."""
    pages = box.notion.pages()
    project_pages = [
        p for p in pages if _text(p, "Deal ID") == deal_id and "Task ID" not in p["properties"]
    ]
    task_pages = [p for p in pages if _text(p, "Task ID").startswith(f"{deal_id}:")]
    channels = [c for c in box.slack.channels() if c["name"].startswith("onboarding-")]
    messages = [m for c in channels for m in box.slack.messages(c["id"])]
    return {
        "projects": len(project_pages),
        "tasks": len(task_pages),
        "distinct_tasks": len({_text(p, "Task ID") for p in task_pages}),
        "channels": len(channels),
        "messages": len(messages),
        "segment_adds": box.customerio.segment_adds(SEGMENT_ID),
        "segment_members": len(box.customerio.segment_members(SEGMENT_ID)),
        "started_events": len(box.customerio.events(name="onboarding_started")),
    }


def _text(page, name):
    prop = page["properties"].get(name) or {}
    return "".join(part.get("plain_text", "") for part in prop.get("rich_text", []))


def test_batch_delivered_three_times_and_a_second_won_event_start_one_onboarding(world):
    customer = seed_customer(world.box, world.team)
    batch = [world.won(customer.deal_id), world.sender.event("deal.creation", "999")]
    for attempt in range(3):
        assert world.deliver(batch, attempt=attempt).status_code == 200
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    world.deliver([world.won(customer.deal_id)])  # won again later (moved out and back)
    run_until_idle(world.worker, lambda: world.worker.tick() == 0)

    tasks = len(world.services.mappings.playbook("enterprise").tasks)
    assert counts(world.box, customer.deal_id) == {
        "projects": 1,
        "tasks": tasks,
        "distinct_tasks": tasks,
        "channels": 1,
        "messages": 1,
        "segment_adds": 1,
        "segment_members": 1,
        "started_events": 1,
    }


def test_small_company_gets_the_smb_playbook_with_business_day_due_dates(world):
    customer = seed_customer(world.box, world.team, name="Tiny Shop", employees=10)
    friday_noon = 1795780800000  # 2026-11-27 (a Friday) 12:00 UTC
    world.deliver([world.won(customer.deal_id, occurred_at=friday_noon)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    with world.services.store.session() as session:
        from sync.store.models import Onboarding

        onboarding = session.query(Onboarding).filter_by(deal_id=customer.deal_id).one()
        due = {t.key: t.due_date for t in onboarding.tasks}
    assert onboarding.segment == "smb"
    playbook = world.services.mappings.playbook("smb")
    three_days = [t.key for t in playbook.tasks if t.due_in.business_days == 3]
    assert three_days and all(due[k].isoformat() == "2026-12-02" for k in three_days)  # Wednesday


def test_kickoffs_complete_through_429s_and_503s_honoring_retry_after(world):
    customers = [
        seed_customer(world.box, world.team, name=f"Client {n}", employees=10) for n in range(2)
    ]
    for emulator in world.box.emulators.values():
        emulator.faults.add("rate_limit", share=0.33, retry_after=1)
        emulator.faults.add("error", share=0.1, status=503)
    world.deliver([world.won(c.deal_id) for c in customers])
    world.worker.threads = 1  # one call at a time, so each retry follows its own 429 in the log
    run_until_idle(
        world.worker, lambda: all(kickoff_done(world, c.deal_id) for c in customers), timeout=120
    )

    for customer in customers:
        assert world.services.queue.get("kickoff", customer.deal_id).status == "done"
    assert counts(world.box, customers[0].deal_id)["projects"] == 1
    assert counts(world.box, customers[1].deal_id)["projects"] == 1
    assert len(world.box.customerio.events(name="onboarding_started")) == 2
    assert retries_waited(world.box, {429}, seconds=1) >= 5


def test_kickoffs_wait_out_every_503s_retry_after_and_notions_529(world):
    """RFC 9110 gives Retry-After on a 503 the meaning it has on a 429; Notion answers 529
    service_overload with one too. No retry may come sooner, at any of the four vendors."""
    customers = [
        seed_customer(world.box, world.team, name=f"Client {n}", employees=10) for n in range(2)
    ]
    for emulator in world.box.emulators.values():
        emulator.faults.add("error", status=503, share=0.3, calls=4, retry_after=1)
    world.box.notion.faults.add("error", status=529, share=0.3, calls=3, retry_after=1)
    world.deliver([world.won(c.deal_id) for c in customers])
    world.worker.threads = 1  # one call at a time, so each retry follows its own 503 in the log
    run_until_idle(
        world.worker, lambda: all(kickoff_done(world, c.deal_id) for c in customers), timeout=120
    )

    for customer in customers:
        assert world.services.queue.get("kickoff", customer.deal_id).status == "done"
    assert len(world.box.customerio.events(name="onboarding_started")) == 2
    for emulator in world.box.emulators.values():
        assert [c for c in emulator.calls() if c.status == 503], emulator.name
    assert world.box.notion.calls(status=529)
    assert retries_waited(world.box, {503, 529}, seconds=1) >= 5  # one per vendor, and a 529


def test_permanent_failure_in_one_service_leaves_the_rest_done_and_retry_completes_it(tmp_path):
    from sandbox import Sandbox
    from tests.conftest import FAST, make_world

    with Sandbox(rate_scale=FAST) as box:
        box.slack.add_token("xoxb-limited", ["chat:write", "users:read", "users:read.email"])
        world = make_world(box, tmp_path, rate_scale=FAST, slack_bot_token="xoxb-limited")
        customer = seed_customer(box, world.team)
        world.deliver([world.won(customer.deal_id)])
        run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

        runner = world.app.test_cli_runner()
        status = runner.invoke(args=["onboarding", "status", customer.deal_id])
        assert status.exit_code == 1
        assert "missing_scope: add the channels:manage scope" in status.output
        assert "✔ notion.project" in status.output and "✘ slack.channel" in status.output
        assert box.slack.channels() == []
        assert len(box.customerio.events(name="onboarding_started")) == 1
        deal = box.hubspot.record("deals", customer.deal_id)
        assert deal["properties"]["onboarding_project_url"]

        box.slack.add_token(
            "xoxb-limited",
            ["channels:manage", "channels:read", "chat:write", "users:read", "users:read.email"],
        )
        assert runner.invoke(args=["onboarding", "retry", customer.deal_id]).exit_code == 0
        run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
        status = runner.invoke(args=["onboarding", "status", customer.deal_id])
        assert status.exit_code == 0, status.output
        assert counts(box, customer.deal_id)["channels"] == 1
        assert counts(box, customer.deal_id)["projects"] == 1
        assert len(box.customerio.events(name="onboarding_started")) == 1
        deal = box.hubspot.record("deals", customer.deal_id)
        assert deal["properties"]["onboarding_channel_url"]


def test_a_won_event_for_a_deal_not_won_in_hubspot_starts_nothing(world):
    """A forged or stale closedwon: the kickoff asks HubSpot for the deal's stage first."""
    customer = seed_customer(world.box, world.team)  # in contractsent
    event = world.sender.event(
        "deal.propertyChange", customer.deal_id, property_name="dealstage",
        property_value="closedwon",
    )  # fmt: skip
    assert world.deliver([event]).status_code == 200
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    assert world.services.queue.get("kickoff", customer.deal_id).status == "done"
    made = counts(world.box, customer.deal_id)
    assert made["projects"] == made["tasks"] == made["channels"] == made["segment_adds"] == 0
    with world.services.store.session() as session:
        assert session.scalar(select(Onboarding)) is None


def test_a_company_name_cannot_ping_the_channel_or_plant_a_link_in_the_summary(world):
    name = "Acme <!channel> <@U1> <https://evil.example|Open the plan> & Co"
    customer = seed_customer(world.box, world.team, name=name)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    [channel] = [c for c in world.box.slack.channels() if c["name"].startswith("onboarding-")]
    [summary] = [m["text"] for m in world.box.slack.messages(channel["id"]) if "Acme" in m["text"]]
    assert "<!channel>" not in summary and "<@U1>" not in summary
    assert "<https://evil.example" not in summary
    assert (
        "Acme &lt;!channel&gt; &lt;@U1&gt; &lt;https://evil.example|Open the plan&gt; &amp; Co"
        in summary
    )
    assert "|open the plan>" in summary  # the template's own link stays a link


def test_the_summary_links_the_notion_plan_and_the_deal_even_when_notion_is_slowest(world):
    world.box.notion.faults.add("slow", delay=0.3)  # every Notion call: Slack finishes first
    customer = seed_customer(world.box, world.team)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))

    [channel] = [c for c in world.box.slack.channels() if c["name"].startswith("onboarding-")]
    [summary] = [
        m["text"] for m in world.box.slack.messages(channel["id"]) if "Notion" in m["text"]
    ]
    project = next(p for p in world.box.notion.pages() if _text(p, "Deal ID") == customer.deal_id)
    assert f"<{project['url']}|open the plan>" in summary
    assert f"/record/0-3/{customer.deal_id}|open the deal>" in summary


def test_the_channel_links_the_hubspot_deal(world):
    customer = seed_customer(world.box, world.team)
    world.deliver([world.won(customer.deal_id)])
    run_until_idle(world.worker, lambda: kickoff_done(world, customer.deal_id))
    [channel] = [c for c in world.box.slack.channels() if c["name"].startswith("onboarding-")]
    assert channel["purpose"]["value"].endswith(f"/record/0-3/{customer.deal_id}")
