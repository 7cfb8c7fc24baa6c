"""`flask serve`: the app on waitress, with the worker and its clock beside it in this process.

Waitress reads each request whole, asynchronously, before a thread runs the app: a slow or
stalled client holds no app thread, and one silent for CLIENT_TIMEOUT_SECONDS is cut off. It
refuses a Content-Length over MAX_REQUEST_BYTES (413) before reading the body. It is one
process, so the worker and its periodic passes start exactly once; a pre-forking server would
start them once per process.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from app import start_worker

log = logging.getLogger(__name__)

STOP_CHECK_SECONDS = 1.0  # how soon run() notices close()


class Server:
    """The app served on ``host:port`` by ``threads`` request threads, and its one worker."""

    def __init__(self, app: Flask, host: str, port: int, threads: int = 8) -> None:
        settings = app.extensions["settings"]
        self.app = app
        self._stopping = False
        self._sockets: dict[int, Any] = {}  # waitress's socket map: ours, so run() can loop it
        self._waitress = create_server(
            app,
            map=self._sockets,
            host=host,
            port=port,
            threads=threads,
            channel_timeout=settings.client_timeout_seconds,
            cleanup_interval=settings.client_timeout_seconds,  # how often the idle are sought
            max_request_body_size=settings.max_request_bytes + 1,  # waitress refuses ">="
            clear_untrusted_proxy_headers=False,  # X-Forwarded-*: TRUSTED_PROXIES decides
            ident="onboarding-autopilot",
        )

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (port 0 asks the system for a free one)."""
        return str(self._waitress.effective_host), int(self._waitress.effective_port)

    def run(self) -> None:
        """Serve until close() or Ctrl-C; then stop the worker, letting running jobs finish."""
        worker = start_worker(self.app)
        log.info("serving on http://%s:%d; the worker runs in this process", *self.address)
        try:
            while not self._stopping:
                wasyncore.loop(STOP_CHECK_SECONDS, use_poll=True, map=self._sockets, count=1)
        except KeyboardInterrupt:
            pass  # Ctrl-C stops as close() does
        finally:
            self._waitress.task_dispatcher.shutdown()  # requests in progress end first
            wasyncore.close_all(self._sockets)  # in this thread, where the loop ran
            worker.stop()

    def close(self) -> None:
        """Stop serving; safe from any thread and from a signal handler (it only sets a flag:
        closing sockets here could race the loop's select)."""
        self._stopping = True
