"""The sandbox's state page: what a newcomer looks at after the demo."""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from sandbox.server import Sandbox


def _section(name: str, snapshot: dict[str, Any], calls: Counter[str]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{n}</td></tr>" for k, n in sorted(calls.items())
    )
    body = html.escape(json.dumps(snapshot, indent=2, default=str))
    return (
        f'<section id="{name}"><h2>{html.escape(name)}</h2>'
        f"<details open><summary>State</summary><pre>{body}</pre></details>"
        f"<details><summary>Calls ({sum(calls.values())})</summary>"
        f"<table><tr><th>call</th><th>count</th></tr>{rows}</table></details></section>"
    )


def state_page(sandbox: Sandbox):
    """A WSGI app rendering every emulator's state, or JSON at ``/state.json``."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        states = {name: emu.snapshot() for name, emu in sandbox.emulators.items()}
        if request.path == "/state.json":
            response = Response(json.dumps(states, default=str), mimetype="application/json")
            return response(environ, start_response)
        sections = []
        for name, emu in sandbox.emulators.items():
            counts = Counter(f"{c.method} {c.endpoint} → {c.status}" for c in emu.calls())
            sections.append(_section(name, states[name], counts))
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Sandbox</title>"
            "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;"
            "max-height:30em;overflow:auto}td,th{padding:2px 8px;text-align:left}</style>"
            "</head><body><h1>Onboarding Autopilot sandbox</h1>"
            "<p>Local emulators of HubSpot, Notion, Slack and Customer.io.</p>"
            + "".join(sections)
            + "</body></html>"
        )
        return Response(page, mimetype="text/html")(environ, start_response)

    return app
