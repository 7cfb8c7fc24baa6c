import logging

from app import create_app


def test_health_answers_ok(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


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
