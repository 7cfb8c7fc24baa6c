"""The sandbox's state page: what a newcomer looks at after the demo.

Each emulator's ``snapshot()`` is drawn as tables (lists of records become rows, nested
records nest), followed by the calls it answered. ``/state.json`` gives the same as JSON.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from sandbox.server import Sandbox

TITLES = {
    "hubspot": "HubSpot CRM",
    "notion": "Notion",
    "slack": "Slack",
    "customerio": "Customer.io",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
nav a{margin-right:1em} h2{border-bottom:2px solid #ddd;padding-top:.5em}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.empty{color:#999} .muted{color:#777;font-size:13px}
"""


def render(value: Any) -> str:
    """HTML for any JSON-like value: tables for records, lists joined, links for URLs."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(k for row in value for k in row))
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{render(row.get(c))}</td>" for c in columns) + "</tr>"
            for row in value
        )
        return f"<table><tr>{head}</tr>{rows}</table>"
    if isinstance(value, dict):
        if not value:
            return ""
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{render(v)}</td></tr>" for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        return ", ".join(render(v) for v in value)
    if value is None:
        return ""
    text = str(value)
    if text.startswith(("http://", "https://")):
        return f'<a href="{html.escape(text)}">{html.escape(text)}</a>'
    return html.escape(text).replace("\n", "<br>")


_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d+(?=/|$)")


def _shape(path: str) -> str:
    """A call's path with record ids folded, so calls group by kind."""
    return _IDS.sub("{id}", path)


def _section(name: str, snapshot: dict[str, Any], calls: Counter[str]) -> str:
    parts = [f'<section id="{name}"><h2>{html.escape(TITLES.get(name, name))}</h2>']
    for key, value in snapshot.items():
        body = render(value) or '<p class="muted">none</p>'
        parts.append(f"<h3>{html.escape(key.replace('_', ' '))}</h3>{body}")
    rows = [{"call": call, "count": count} for call, count in sorted(calls.items())]
    parts.append(f"<h3>calls answered ({sum(calls.values())})</h3>{render(rows)}</section>")
    return "".join(parts)


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
            counts = Counter(f"{c.method} {_shape(c.path)} → {c.status}" for c in emu.calls())
            sections.append(_section(name, states[name], counts))
        nav = "".join(f'<a href="#{n}">{TITLES.get(n, n)}</a>' for n in sandbox.emulators)
        refresh = request.args.get("refresh", "5")
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{html.escape(refresh)}'>"
            f"<title>Onboarding Autopilot sandbox</title><style>{STYLE}</style></head><body>"
            "<h1>Onboarding Autopilot sandbox</h1>"
            "<p class='muted'>Local emulators of HubSpot, Notion, Slack and Customer.io: what "
            f"each holds and every call it answered. Refreshes every {html.escape(refresh)} s; "
            "<a href='/state.json'>as JSON</a>.</p>"
            f"<nav>{nav}</nav>" + "".join(sections) + "</body></html>"
        )
        return Response(page, mimetype="text/html")(environ, start_response)

    return app
