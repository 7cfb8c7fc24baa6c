"""The sandbox: the four emulators and the state page behind one local port.

Each emulator is mounted under its own prefix (``/hubspot``, ``/notion``, ``/slack``,
``/customerio``), so the official SDKs reach it by base URL. ``Sandbox.start()`` serves it
from a thread (tests); ``python -m sandbox`` serves it as a process (the demo).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.core import Clock, Emulator
from sandbox.customerio import CustomerIOEmulator
from sandbox.hubspot import HubSpotEmulator
from sandbox.notion import NotionEmulator
from sandbox.page import state_page
from sandbox.slack import SlackEmulator


class _QuietHandler(WSGIRequestHandler):
    """Keeps test output readable: the call log, not stderr, records requests."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class Sandbox:
    """All four emulators sharing one clock, servable from a thread or a process."""

    def __init__(self, rate_scale: float = 1.0, seed: int = 0, start: datetime | None = None):
        self.clock = Clock(start)
        options: dict[str, Any] = {"clock": self.clock, "rate_scale": rate_scale, "seed": seed}
        self.hubspot = HubSpotEmulator(**options)
        self.notion = NotionEmulator(**options)
        self.slack = SlackEmulator(**options)
        self.customerio = CustomerIOEmulator(**options)
        self.emulators: dict[str, Emulator] = {
            e.name: e for e in (self.hubspot, self.notion, self.slack, self.customerio)
        }
        self.wsgi = DispatcherMiddleware(
            state_page(self), {f"/{name}": emu for name, emu in self.emulators.items()}
        )
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def url(self, service: str) -> str:
        """Base URL of one emulator, in the form its SDK expects."""
        root = f"{self.base_url}/{service}"
        return {
            "notion": root,  # notion-client appends /v1/
            "slack": f"{root}/api/",
            "customerio": f"{root}/api/v1",
        }.get(service, root)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Sandbox:
        self._server = make_server(
            host, port, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget every record, call, fault, observer and rate window; unmove the clock."""
        self.clock.reset()
        for emulator in self.emulators.values():
            emulator.reset()

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
