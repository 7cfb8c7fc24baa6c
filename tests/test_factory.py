from app import create_app


def test_health_answers_ok(tmp_path):
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
