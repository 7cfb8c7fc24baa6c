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
