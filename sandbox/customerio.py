"""Emulator of Customer.io's Track API v1: people, events and manual segments.

The customerio SDK always builds https URLs, so tests and the app's sandbox mode override
``cio.base_url`` with ``Sandbox.url("customerio")``. Error bodies use
``{"meta": {"error": "..."}}``: the shape is UNCONFIRMED in the reference, the status codes are.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Emulator, SlidingWindowLimit, command

DEFAULT_SITE_ID = "sandbox-site"
DEFAULT_API_KEY = "sandbox-key"
REQUESTS_PER_SECOND = 100
SEGMENT_IDS_MAX = 1000
ID_TYPES = ("id", "email", "cio_id")
INJECTED = "injected"  # how the base class names the reason of a fault's 429


class CustomerIOEmulator(Emulator):
    """One Customer.io workspace: its people, their events and its manual segments."""

    name = "customerio"

    def reset_state(self) -> None:
        self._credentials = (DEFAULT_SITE_ID, DEFAULT_API_KEY)
        self._limit = SlidingWindowLimit(
            limit=max(1, round(REQUESTS_PER_SECOND * self.rate_scale)), window=1.0
        )
        self._people: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._segments: dict[str, dict[str, Any]] = {}

    def routes(self) -> Iterable[Rule]:
        v1 = "/api/v1"
        return [
            Rule(f"{v1}/customers/<cid>", methods=["PUT"], endpoint="identify"),
            Rule(f"{v1}/customers/<cid>", methods=["DELETE"], endpoint="delete"),
            Rule(f"{v1}/customers/<cid>/events", methods=["POST"], endpoint="track"),
            Rule(f"{v1}/customers/<cid>/suppress", methods=["POST"], endpoint="suppress"),
            Rule(f"{v1}/customers/<cid>/unsuppress", methods=["POST"], endpoint="unsuppress"),
            Rule(f"{v1}/events", methods=["POST"], endpoint="track_anonymous"),
            Rule(f"{v1}/accounts/region", methods=["GET"], endpoint="account_region"),
            Rule(f"{v1}/segments/<sid>/add_customers", methods=["POST"], endpoint="add_customers"),
            Rule(
                f"{v1}/segments/<sid>/remove_customers",
                methods=["POST"],
                endpoint="remove_customers",
            ),
        ]

    # ----- what the base class asks ------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """HTTP Basic with site id and Track API key, as the SDK's session sends it."""
        if self._basic_credentials(request) != self._credentials:
            return self.error(401, "unauthorized", "Unauthorized request")
        return None

    @staticmethod
    def _basic_credentials(request: Request) -> tuple[str, str] | None:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            site_id, _, api_key = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return site_id, api_key

    def error(self, status: int, code: str, message: str) -> Response:
        return self.json({"meta": {"error": message}}, status)

    def rate_limited(self, retry_after: float, reason: str) -> Response:
        # Customer.io documents no Retry-After on 429 (UNCONFIRMED), so the limiter sends none;
        # an injected fault sends one when its retry_after > 0, for clients that honour it.
        headers = {}
        if reason.startswith(INJECTED) and retry_after > 0:
            headers["Retry-After"] = str(math.ceil(retry_after))
        return self.json({"meta": {"error": "rate limit exceeded"}}, 429, headers)

    def limit_for(self, request: Request, endpoint: str) -> tuple[Any, str] | None:
        """Fair use: 100 requests a second per workspace, v1 and v2 alike."""
        return self._limit, self._credentials[0]

    # ----- Track API v1 ------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        """The JSON object body; a ValueError becomes the base class's 400."""
        if not request.get_data(cache=True):
            return {}
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValueError("malformed JSON: the body must be a JSON object")
        return body

    def identify(self, request: Request, cid: str) -> Response:
        attributes = self._body(request)
        only_update = bool(attributes.pop("_update", False))  # UNCONFIRMED: update, never create
        with self.lock:
            person = self._at(cid)
            if person is None and not only_update:
                person = self._create(cid)
            if person is not None:
                person["attributes"].update(attributes)
                if "created_at" in attributes:
                    person["created_at"] = attributes["created_at"]
        return self.json({})

    def delete(self, request: Request, cid: str) -> Response:
        with self.lock:
            person = self._at(cid)
            if person is not None:
                del self._people[person["id"]]
                for segment in self._segments.values():
                    segment["members"] = [m for m in segment["members"] if m != person["id"]]
        return self.json({})

    def track(self, request: Request, cid: str) -> Response:
        body = self._body(request)
        with self.lock:
            # UNCONFIRMED: an event for an unknown id creates the person, as older docs said.
            person = self._at(cid) or self._create(cid)
            self._record_event(body, customer_id=person["id"])
        return self.json({})

    def track_anonymous(self, request: Request) -> Response:
        body = self._body(request)
        with self.lock:
            self._record_event(body, anonymous_id=body.get("anonymous_id"))
        return self.json({})

    def account_region(self, request: Request) -> Response:
        """Which region the credentials belong to (docs' example shape); `flask doctor` uses it."""
        return self.json({"url": "https://track.customer.io", "region": "us", "environment_id": 3})

    def suppress(self, request: Request, cid: str) -> Response:
        return self._set_suppressed(cid, True)

    def unsuppress(self, request: Request, cid: str) -> Response:
        return self._set_suppressed(cid, False)

    def _set_suppressed(self, cid: str, suppressed: bool) -> Response:
        with self.lock:
            person = self._at(cid)
            if person is not None:  # UNCONFIRMED: an unknown id is accepted and ignored
                person["suppressed"] = suppressed
        return self.json({})

    def add_customers(self, request: Request, sid: str) -> Response:
        return self._change_segment(request, sid, add=True)

    def remove_customers(self, request: Request, sid: str) -> Response:
        return self._change_segment(request, sid, add=False)

    def _change_segment(self, request: Request, sid: str, add: bool) -> Response:
        """Both segment calls: validate ids, resolve them by id_type, change the members."""
        id_type = request.args.get("id_type", "id")
        if id_type not in ID_TYPES:
            raise ValueError(f"id_type must be one of {', '.join(ID_TYPES)}")
        ids = self._body(request).get("ids")
        if not isinstance(ids, list) or not ids:
            raise ValueError("ids must be a non-empty list")
        if len(ids) > SEGMENT_IDS_MAX:
            raise ValueError(f"at most {SEGMENT_IDS_MAX} ids per request, got {len(ids)}")
        with self.lock:
            segment = self._segments.get(sid)
            if segment is None:  # UNCONFIRMED status for an unknown segment
                return self.error(404, "not_found", f"segment {sid} not found")
            for value in map(str, ids):
                person = self._find(id_type, value)
                if person is None:
                    # UNCONFIRMED: people not identified yet are ignored (current docs), and we
                    # record them so tests can see what was dropped.
                    segment["ignored"].append(value)
                elif add and person["id"] not in segment["members"]:
                    segment["members"].append(person["id"])
                elif not add and person["id"] in segment["members"]:
                    segment["members"].remove(person["id"])
            if add:
                segment["adds"] += 1
        return self.json({})

    # ----- records -------------------------------------------------------------------------
    def _find(self, id_type: str, value: str) -> dict[str, Any] | None:
        """A person by one identifier of the kind `id_type` names."""
        if id_type == "id":
            return self._people.get(value)
        wanted = value.removeprefix("cio_") if id_type == "cio_id" else value.lower()
        return next((p for p in self._people.values() if _identifier(p, id_type) == wanted), None)

    def _at(self, cid: str) -> dict[str, Any] | None:
        """The person a /customers/{id} path names: an id, an email or cio_<cio_id>."""
        if cid.startswith("cio_"):
            return self._find("cio_id", cid)
        return self._find("id", cid) or ("@" in cid and self._find("email", cid)) or None

    def _create(self, cid: str) -> dict[str, Any]:
        person = {
            "id": cid,
            "cio_id": f"{self.next_id():012x}",
            "attributes": {"email": cid} if "@" in cid else {},
            "created_at": int(self.now().timestamp()),
            "suppressed": False,
        }
        self._people[cid] = person
        return person

    def _record_event(self, body: dict[str, Any], **who: Any) -> None:
        """Store an event once: a repeated `id` is Customer.io's deduplication key."""
        if not body.get("name"):
            raise ValueError("event name is required")
        if body.get("id") and any(e["id"] == body["id"] for e in self._events):
            return
        self._events.append(
            {
                **who,
                "id": body.get("id"),
                "name": body["name"],
                "type": body.get("type", "event"),
                "data": body.get("data") or {},
                "timestamp": body.get("timestamp") or int(self.now().timestamp()),
            }
        )

    # ----- seeding commands and accessors ----------------------------------------------------
    @command
    def seed_segment(self, id: str | int, name: str) -> dict[str, Any]:
        """A manual segment made in the Customer.io UI, which the API can only fill."""
        with self.lock:
            segment = {"id": str(id), "name": name, "members": [], "adds": 0, "ignored": []}
            self._segments[str(id)] = segment
            return copy.deepcopy(segment)

    @command
    def set_credentials(self, site_id: str, api_key: str) -> dict[str, str]:
        """Change the workspace's site id and Track API key (the old pair then gets 401)."""
        with self.lock:
            self._credentials = (site_id, api_key)
            return {"site_id": site_id}

    def people(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self._people.values()))

    def person(self, id: str) -> dict[str, Any] | None:
        with self.lock:
            return copy.deepcopy(self._people.get(id))

    def events(self, customer_id: str | None = None, name: str | None = None) -> list[dict]:
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self._events
                if (customer_id is None or e.get("customer_id") == customer_id)
                and (name is None or e["name"] == name)
            ]

    def segment_members(self, segment_id: str | int) -> list[str]:
        with self.lock:
            return list(self._segments[str(segment_id)]["members"])

    def segment_adds(self, segment_id: str | int) -> int:
        """How many add_customers calls reached the segment (to see retries and batching)."""
        with self.lock:
            return self._segments[str(segment_id)]["adds"]

    def segment_ignored(self, segment_id: str | int) -> list[str]:
        """Ids sent to the segment that matched nobody, in order."""
        with self.lock:
            return list(self._segments[str(segment_id)]["ignored"])

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "people": [
                    {"id": p["id"], "attributes": p["attributes"], "suppressed": p["suppressed"]}
                    for p in self._people.values()
                ],
                "segments": [
                    {k: s[k] for k in ("id", "name", "members", "ignored")}
                    for s in self._segments.values()
                ],
                "events": [
                    {"customer_id": e.get("customer_id"), "name": e["name"], "data": e["data"]}
                    for e in self._events
                ],
            }


def _identifier(person: dict[str, Any], id_type: str) -> str:
    if id_type == "cio_id":
        return person["cio_id"]
    return str(person["attributes"].get("email", "")).lower()
