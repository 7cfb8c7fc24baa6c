"""Onboarding Autopilot: the Flask app factory, its routes and its CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from settings import Settings


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """Build the app; ``config`` overrides settings read from the environment (tests use it)."""
    settings = config if isinstance(config, Settings) else Settings(**(config or {}))
    app = Flask(__name__)
    app.extensions["settings"] = settings

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    return app


if __name__ == "__main__":
    create_app().run()
