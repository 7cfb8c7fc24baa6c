import logging
from datetime import timedelta

from sqlalchemy import update

from app import create_app
from sync.intake.routing import route_inbox
from sync.jobs.payloads import KickoffJob
from sync.store.models import InboxEvent, Job, utcnow


def test_health_answers_ok(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_says_what_is_stuck_when_events_or_jobs_wait_too_long(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    services = app.extensions["services"]
    long_ago = utcnow() - timedelta(minutes=20)
    with services.store.session() as session:
        session.add(InboxEvent(source="hubspot", dedupe_key="k", payload="{}", status="pending",
                               received_at=long_ago))  # fmt: skip
        services.queue.enqueue(session, KickoffJob("42"))
        session.flush()
        session.execute(update(Job).values(run_after=long_ago))
    answer = app.test_client().get("/health")
    assert answer.status_code == 503
    assert answer.get_json()["status"] == "stuck"
    assert [p.split(" has waited")[0] for p in answer.get_json()["problems"]] == [
        "the oldest webhook event",
        "the oldest due job",
    ]
    route_inbox(services)
    while (job := services.queue.claim("test")) is not None:
        services.queue.complete(job)
    assert app.test_client().get("/health").status_code == 200


def test_start_up_warns_of_each_missing_setting_by_name(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="app")
    create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "hubspot_client_secret": "   ",
            "activity_api_key": "set",
        }
    )
    warned = [record.getMessage() for record in caplog.records if record.name == "app"]
    for name in ("HUBSPOT_CLIENT_SECRET", "NOTION_WEBHOOK_TOKEN", "PUBLIC_BASE_URL"):
        assert any(line.startswith(f"{name} is not set: ") for line in warned), name
    assert not any("ACTIVITY_API_KEY" in line for line in warned)
