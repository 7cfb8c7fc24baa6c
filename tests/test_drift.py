"""A trashed project or an archived channel is reported, and repaired once."""

from sandbox.scenarios import AE_EMAIL, CSM_EMAIL
from sync.progress.drift import check_drift, drift_tick
from tests.test_endings import onboarding, started
from tests.test_kickoff import _text


def projects(box, deal_id, trashed=False):
    return [
        p
        for p in box.notion.pages(include_trashed=trashed)
        if _text(p, "Deal ID") == deal_id and "Task ID" not in p["properties"]
    ]


def break_things(world, customer):
    """A person trashes the project page and archives the channel."""
    project = projects(world.box, customer.deal_id)[0]
    channel = world.box.slack.channel_by_name("onboarding-acme-robotics")
    world.box.notion.trash_page_as_user(project["id"])
    world.box.slack.archive_channel_as_user(channel["id"])
    return project, channel


def repair(world, deal_id):
    return world.app.test_cli_runner().invoke(args=["onboarding", "repair", deal_id])


def test_a_trashed_project_and_an_archived_channel_are_reported(world, caplog):
    customer = started(world)
    assert check_drift(world.services) == []
    project, channel = break_things(world, customer)

    findings = check_drift(world.services)
    assert {(f.kind, f.external_id, f.problem) for f in findings} == {
        ("project", project["id"], "in the trash"),
        ("channel", channel["id"], "archived or deleted"),
    }
    drift = onboarding(world, customer.deal_id).drift
    assert drift["project"]["id"] == project["id"] and drift["channel"]["id"] == channel["id"]
    assert f"flask onboarding repair {customer.deal_id}" in caplog.text


def test_repair_recreates_what_is_gone_once_and_relinks_the_tasks(world):
    customer = started(world)
    old_project, old_channel = break_things(world, customer)

    first = repair(world, customer.deal_id)
    assert first.exit_code == 0, first.output
    assert "Notion project re-created" in first.output
    assert "Slack channel re-created: #onboarding-acme-robotics-2" in first.output
    second = repair(world, customer.deal_id)
    assert second.exit_code == 0 and "nothing to repair" in second.output

    box = world.box
    [project] = projects(box, customer.deal_id)
    assert project["id"] != old_project["id"]
    assert len(projects(box, customer.deal_id, trashed=True)) == 2  # the old one stays trashed
    tasks = [p for p in box.notion.pages() if _text(p, "Task ID").startswith(customer.deal_id)]
    assert {r["id"] for t in tasks for r in t["properties"]["Project"]["relation"]} == {
        project["id"]
    }
    channel = box.slack.channel_by_name("onboarding-acme-robotics-2")
    assert [c["name"] for c in box.slack.channels()].count("onboarding-acme-robotics-2") == 1
    members = box.slack.members(channel["id"])
    assert all(box.slack.user_by_email(e)["id"] in members for e in (CSM_EMAIL, AE_EMAIL))
    assert len(box.slack.messages(channel["id"])) == 1
    assert project["properties"]["Slack channel"]["url"].endswith(channel["id"])
    deal = box.hubspot.record("deals", customer.deal_id)["properties"]
    assert deal["onboarding_project_url"] == project["url"]
    assert deal["onboarding_channel_url"].endswith(channel["id"])
    assert onboarding(world, customer.deal_id).drift is None
    assert check_drift(world.services) == []


def test_the_periodic_check_goes_round_the_active_onboardings_in_batches(world, monkeypatch):
    import sync.progress.drift

    monkeypatch.setattr(sync.progress.drift, "BATCH", 1)
    first = started(world)
    second = started(world, name="Beta Labs")
    world.box.notion.trash_page_as_user(projects(world.box, second.deal_id)[0]["id"])

    assert drift_tick(world.services) == []  # the first onboarding's turn
    assert [f.deal_id for f in drift_tick(world.services)] == [second.deal_id]
    world.box.notion.trash_page_as_user(projects(world.box, first.deal_id)[0]["id"])
    assert [f.deal_id for f in drift_tick(world.services)] == [first.deal_id]  # round again


def test_repair_of_an_unknown_deal_exits_2(world):
    assert repair(world, "404404").exit_code == 2
