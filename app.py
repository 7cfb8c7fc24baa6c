"""Onboarding Autopilot: the Flask app factory, its routes and its CLI."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from settings import Settings
from sync.install import install
from sync.jobs.backlog import backlog
from sync.jobs.queue import JobQueue
from sync.jobs.worker import Worker
from sync.mappings import load_mappings
from sync.services import Services
from sync.store.db import Store

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """Build the app; ``config`` overrides settings read from the environment (tests use it).

    A broken mapping file stops start-up here with a MappingError naming file, line and key.
    """
    settings = config if isinstance(config, Settings) else Settings(**(config or {}))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("apscheduler", "httpx"):  # a line per tick or per request hides what matters
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mappings = load_mappings(settings.mappings_dir)
    store = Store(settings.database_url)
    store.upgrade()
    queue = JobQueue(store, lease=timedelta(seconds=settings.job_lease_seconds))
    services = Services(settings=settings, store=store, mappings=mappings, queue=queue)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes  # larger: 413, left unread
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    app.extensions.update(settings=settings, store=store, services=services)
    app.extensions["worker"] = Worker(services)

    from web.api import bp as api
    from web.readiness import edge_warnings
    from web.refusals import answer_refusals_as_json
    from web.webhooks import bp as webhooks

    app.register_blueprint(webhooks)
    app.register_blueprint(api)
    answer_refusals_as_json(app)
    for warning in edge_warnings(settings):
        log.warning(warning)

    @app.get("/health")
    def health() -> Any:
        """200 while work flows; 503 with what is stuck (a load balancer or monitor asks)."""
        limit = timedelta(seconds=settings.health_max_wait_seconds)
        problems = backlog(store, services.now()).problems(limit)
        if problems:
            return jsonify(status="stuck", problems=problems), 503
        return jsonify(status="ok")

    from cli import register

    register(app)
    return app


def create_installed_app(config: dict[str, Any], notion_parent_page_id: str) -> Flask:
    """The app after `flask setup` (the demo and tests use it): HubSpot properties and Notion
    databases made first, so their ids are in the settings from the start; settings never
    change while the app runs."""
    installer = create_app(config)
    ids = install(installer.extensions["services"], notion_parent_page_id)
    installer.extensions["store"].dispose()
    return create_app({**config, **ids})


def start_worker(app: Flask) -> Worker:
    """Run the in-process worker (``flask serve`` and the demo call this; tests tick by hand)."""
    worker: Worker = app.extensions["worker"]
    worker.start()
    return worker


if __name__ == "__main__":
    from web.server import Server

    Server(create_app(), "127.0.0.1", 5000).run()  # as `flask --app app serve` does
