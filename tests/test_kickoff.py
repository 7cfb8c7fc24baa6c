"""A won deal becomes a running onboarding in all four services, exactly once."""

from sandbox.scenarios import AE_EMAIL, CSM_EMAIL, SEGMENT_ID, seed_customer
from sync.worker import run_until_idle


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
        from sync.models import Onboarding

        onboarding = session.query(Onboarding).filter_by(deal_id=customer.deal_id).one()
        due = {t.key: t.due_date for t in onboarding.tasks}
    assert onboarding.segment == "smb"
    playbook = world.services.mappings.playbook("smb")
    three_days = [t.key for t in playbook.tasks if t.due_in.business_days == 3]
    assert three_days and all(due[k].isoformat() == "2026-12-02" for k in three_days)  # Wednesday
