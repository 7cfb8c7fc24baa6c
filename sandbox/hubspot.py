"""Emulator of the HubSpot CRM v3 API the product calls, and of the webhooks HubSpot sends.

Source of truth: /work/shared/reference/hubspot.md sections 3-5. Where the reference marks a
fact UNCONFIRMED, the choice made here is said next to the code that makes it.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Clock, Emulator, SlidingWindowLimit, command, iso_millis
from sandbox.hubspot_webhooks import HubSpotWebhookSender

DEFAULT_TOKEN = "pat-sandbox"
HUB_ID = 12345678
APP_ID = 3456789
TOKEN_USER_ID = 7654321

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "tasks": "task"}
_ALIASES = {
    **{t: t for t in OBJECT_TYPE_IDS},
    **{i: t for t, i in OBJECT_TYPE_IDS.items()},
    **{s: t for t, s in SINGULAR.items()},
}

# associationTypeId -> (from type, to type), from the SDK's AssociationType enum.
ASSOCIATION_TYPES = {
    1: ("contacts", "companies"), 279: ("contacts", "companies"), 4: ("contacts", "deals"),
    2: ("companies", "contacts"), 280: ("companies", "contacts"), 6: ("companies", "deals"),
    342: ("companies", "deals"), 3: ("deals", "contacts"), 5: ("deals", "companies"),
    341: ("deals", "companies"), 216: ("tasks", "deals"), 192: ("tasks", "companies"),
    204: ("tasks", "contacts"),
}  # fmt: skip

# Tasks are guarded by the contacts scopes: HubSpot's tasks guide lists
# crm.objects.contacts.read / crm.objects.contacts.write as their scope requirements.
_SCOPE_OBJECT = {"contacts": "contacts", "companies": "companies", "deals": "deals",
                 "tasks": "contacts"}  # fmt: skip
ALL_SCOPES = sorted(
    {f"crm.{kind}.{o}.{rw}" for o in _SCOPE_OBJECT.values() for kind in ("objects", "schemas")
     for rw in ("read", "write")} | {"crm.objects.owners.read"}
)  # fmt: skip

# Which scope each route needs: (kind, access) where kind "objects"/"schemas" follows the type.
_ENDPOINT_SCOPES = {
    "get_object": ("objects", "read"), "batch_read": ("objects", "read"),
    "search": ("objects", "read"), "create_object": ("objects", "write"),
    "update_object": ("objects", "write"), "batch_update": ("objects", "write"),
    "list_pipelines": ("objects", "read"), "get_pipeline": ("objects", "read"),
    "list_properties": ("schemas", "read"), "get_property": ("schemas", "read"),
    "create_property": ("schemas", "write"), "create_group": ("schemas", "write"),
}  # fmt: skip

DEFAULT_STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
]

TEN_SECONDS = 10.0
BURST_LIMIT = 190  # Professional tier, per token and 10 s
DAILY_LIMIT = 625_000
SEARCH_PER_SECOND = 4
MAX_BATCH = 100
MAX_SEARCH_PAGE = 200
MAX_SEARCH_RESULTS = 10_000
# "Date entered <stage>" under both names found in live data: hs_v2_date_entered_<stage> (the
# current stage calculated properties) and hs_date_entered_<stage> (the older ones). Which a
# given account has is UNCONFIRMED by HubSpot's docs, so the emulator keeps both; both are
# datetimes, defined per stage in HubSpot, here recognised by their prefix.
DATE_ENTERED_PREFIXES = ("hs_v2_date_entered_", "hs_date_entered_")

_RATE_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your secondly limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}
# The base class's generic codes as HubSpot categories (INTERNAL_ERROR for 5xx: UNCONFIRMED).
_CATEGORIES = {
    "not_found": "OBJECT_NOT_FOUND",
    "bad_request": "VALIDATION_ERROR",
    "injected_error": "INTERNAL_ERROR",
    "gateway_timeout": "INTERNAL_ERROR",
}
_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class ApiError(ValueError):
    """A HubSpot error answer raised from deep inside a handler or command."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


def _api(func: Callable[..., Response]) -> Callable[..., Response]:
    """Turn an ApiError raised by a handler into HubSpot's error body."""

    @functools.wraps(func)
    def handler(self: HubSpotEmulator, request: Request, **args: Any) -> Response:
        try:
            return func(self, request, **args)
        except ApiError as exc:
            return self.error(exc.status, exc.category, exc.message, **exc.extra)

    return handler


# ----- property definitions ------------------------------------------------------------
def _prop(
    name: str,
    label: str,
    type_: str = "string",
    field_type: str = "text",
    options: Iterable[str] = (),
    read_only: bool = False,
) -> dict[str, Any]:
    if type_ == "bool":
        options = ("true", "false")
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "options": [
            {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "readOnly": read_only,
    }


_COMMON = [
    _prop("hs_object_id", "Record ID", "number", "number", read_only=True),
    _prop("createdate", "Create Date", "datetime", "date"),
    _prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
]
_OWNER = _prop("hubspot_owner_id", "Owner", "enumeration", "select")
DEFAULT_PROPERTIES: dict[str, list[dict[str, Any]]] = {
    "deals": [
        _prop("dealname", "Deal Name"),
        _prop("amount", "Amount", "number", "number"),
        _prop("dealstage", "Deal Stage", "enumeration", "radio"),
        _prop("pipeline", "Pipeline", "enumeration", "select"),
        _prop("closedate", "Close Date", "datetime", "date"),
        _OWNER,
        _prop("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", read_only=True),
        _prop("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", read_only=True),
    ],
    # industry is an enumeration in HubSpot; kept a free string here so seeded companies with
    # any industry stay valid (the product only reads it).
    "companies": [
        _prop("name", "Company name"),
        _prop("domain", "Company Domain Name"),
        _prop("numberofemployees", "Number of Employees", "number", "number"),
        _prop("industry", "Industry"),
        _prop("country", "Country/Region"),
        _OWNER,
    ],
    "contacts": [
        _prop("email", "Email"),
        _prop("firstname", "First Name"),
        _prop("lastname", "Last Name"),
        _prop("jobtitle", "Job Title"),
        _prop(
            "hs_language", "Preferred language", "enumeration", "select",
            ("en", "de", "es", "fr", "it", "ja", "nl", "pt-br", "sv"),
        ),
        _OWNER,
    ],
    "tasks": [
        _prop("hs_timestamp", "Due date", "datetime", "date"),
        _prop("hs_task_subject", "Task Title"),
        _prop("hs_task_body", "Task notes", field_type="textarea"),
        _prop("hs_task_status", "Task Status", "enumeration", "select",
              ("NOT_STARTED", "COMPLETED")),
        _prop("hs_task_priority", "Priority", "enumeration", "select",
              ("NONE", "LOW", "MEDIUM", "HIGH")),
        _prop("hs_task_type", "Task Type", "enumeration", "select",
              ("TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING")),
        _OWNER,
    ],
}  # fmt: skip

# Returned when a GET names no properties (the real default set is UNCONFIRMED).
DEFAULT_READ = {
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate"],
    "companies": ["name", "domain"],
    "contacts": ["firstname", "lastname", "email"],
    "tasks": ["hs_task_subject", "hs_task_status", "hs_timestamp"],
}
ALWAYS_READ = ["hs_object_id", "createdate", "hs_lastmodifieddate"]


# ----- value helpers ---------------------------------------------------------------------
def _parse_moment(value: str) -> datetime | None:
    """An ISO date/datetime or an epoch-ms string as an aware datetime; None when neither."""
    value = value.strip()
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _as_text(value: Any) -> str:
    """HubSpot stores every property value as a string (booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list_param(request: Request, name: str) -> list[str] | None:
    """A list query parameter sent as repeated keys (the SDK) or a comma list (the docs)."""
    if name not in request.args:
        return None
    return [v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]


def _body(request: Request) -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1")
    return payload


@dataclass
class _Record:
    """One CRM object as the emulator keeps it."""

    id: str
    type: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    archived_at: datetime | None = None
    links: dict[str, list[str]] = field(default_factory=dict)


class HubSpotEmulator(Emulator):
    """The CRM objects, owners, properties, pipelines and token of one HubSpot account."""

    name = "hubspot"

    def __init__(self, clock: Clock | None = None, rate_scale: float = 1.0, seed: int = 0):
        self.seed = seed
        self.webhook_retry_delay = 0.2
        super().__init__(clock=clock, rate_scale=rate_scale, seed=seed)

    # ----- state -----------------------------------------------------------------------
    def reset_state(self) -> None:
        self._random = random.Random(self.seed)
        self._record_ids = itertools.count(1000)
        self._owner_ids = itertools.count(52550153)
        self._user_ids = itertools.count(TOKEN_USER_ID)
        self._records: dict[str, dict[str, _Record]] = {t: {} for t in OBJECT_TYPE_IDS}
        self._owners: dict[str, dict[str, Any]] = {}
        created = iso_millis(self.now())
        self._groups = {
            t: {f"{SINGULAR[t]}information": self._group(f"{SINGULAR[t]}information",
                                                          f"{SINGULAR[t].title()} information")}
            for t in OBJECT_TYPE_IDS
        }  # fmt: skip
        self._properties = {
            t: {p["name"]: self._definition(t, p, created, hubspot_defined=True)
                for p in _COMMON + DEFAULT_PROPERTIES[t]}
            for t in OBJECT_TYPE_IDS
        }  # fmt: skip
        self._pipelines: dict[str, dict[str, Any]] = {}
        self.seed_pipeline("default", "Sales Pipeline", [
            {"id": sid, "label": label,
             "metadata": {"isClosed": str(sid.startswith("closed")).lower(), "probability": p}}
            for sid, label, p in DEFAULT_STAGES
        ])  # fmt: skip
        self._tokens = {DEFAULT_TOKEN: list(ALL_SCOPES)}
        self._burst = SlidingWindowLimit(max(1, round(BURST_LIMIT * self.rate_scale)), TEN_SECONDS)
        self._search_limit = SlidingWindowLimit(
            max(1, round(SEARCH_PER_SECOND * self.rate_scale)), 1.0
        )
        self._daily_limit = max(1, round(DAILY_LIMIT * self.rate_scale))
        self._daily: tuple[date, int] = (self.now().date(), 0)
        self._sender = HubSpotWebhookSender("", "", clock=self.clock, seed=self.seed)
        self._subscriptions: list[dict[str, Any]] = []
        self._webhook_threads: list[threading.Thread] = []

    def _definition(
        self, object_type: str, spec: dict[str, Any], at: str, hubspot_defined: bool
    ) -> dict[str, Any]:
        read_only = spec.get("readOnly", False)
        return {
            "name": spec["name"],
            "label": spec["label"],
            "type": spec["type"],
            "fieldType": spec["fieldType"],
            "description": spec.get("description", ""),
            "groupName": spec.get("groupName", f"{SINGULAR[object_type]}information"),
            "options": spec.get("options", []),
            "displayOrder": spec.get("displayOrder", -1),
            "calculated": read_only and hubspot_defined,
            "externalOptions": False,
            "hasUniqueValue": spec.get("hasUniqueValue", False),
            "hidden": spec.get("hidden", False),
            "hubspotDefined": hubspot_defined,
            "formField": spec.get("formField", False),
            "modificationMetadata": {
                "archivable": not hubspot_defined,
                "readOnlyDefinition": hubspot_defined,
                "readOnlyValue": read_only,
            },
            "createdAt": at,
            "updatedAt": at,
            "archived": False,
        }

    @staticmethod
    def _group(name: str, label: str, display_order: int = -1) -> dict[str, Any]:
        return {"name": name, "label": label, "displayOrder": display_order, "archived": False}

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    # ----- routes ----------------------------------------------------------------------
    def routes(self) -> Iterable[Rule]:
        objects = "/crm/v3/objects/<object_type>"
        return [
            Rule(f"{objects}/<object_id>", methods=["GET"], endpoint="get_object"),
            Rule(f"{objects}/<object_id>", methods=["PATCH"], endpoint="update_object"),
            Rule(objects, methods=["POST"], endpoint="create_object"),
            Rule(f"{objects}/batch/read", methods=["POST"], endpoint="batch_read"),
            Rule(f"{objects}/batch/update", methods=["POST"], endpoint="batch_update"),
            Rule(f"{objects}/search", methods=["POST"], endpoint="search"),
            Rule("/crm/v3/owners/", methods=["GET"], endpoint="list_owners"),
            Rule("/crm/v3/owners/<owner_id>", methods=["GET"], endpoint="get_owner"),
            Rule("/crm/v3/properties/<object_type>", methods=["GET"], endpoint="list_properties"),
            Rule("/crm/v3/properties/<object_type>", methods=["POST"], endpoint="create_property"),
            Rule("/crm/v3/properties/<object_type>/groups", methods=["POST"],
                 endpoint="create_group"),
            Rule("/crm/v3/properties/<object_type>/<name>", methods=["GET"],
                 endpoint="get_property"),
            Rule("/crm/v3/pipelines/<object_type>", methods=["GET"], endpoint="list_pipelines"),
            Rule("/crm/v3/pipelines/<object_type>/<pipeline_id>", methods=["GET"],
                 endpoint="get_pipeline"),
            Rule("/oauth/v2/private-apps/get/access-token-info", methods=["POST"],
                 endpoint="token_info"),
        ]  # fmt: skip

    # ----- auth, errors, limits --------------------------------------------------------
    @staticmethod
    def _token(request: Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def authenticate(self, request: Request) -> Response | None:
        endpoint, args = self._url_map.bind_to_environ(request.environ).match()
        if endpoint == "token_info":
            return None  # takes the token in its body and needs no scope
        token = self._token(request)
        with self.lock:
            scopes = self._tokens.get(token or "")
        if scopes is None:
            return self.error(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
        needed = self._required_scope(endpoint, args)
        if needed is None or needed in scopes:
            return None
        return self.error(
            403,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more "
            "about required scopes here: https://developers.hubspot.com/scopes.",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": [needed]},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        )

    @staticmethod
    def _required_scope(endpoint: str, args: dict[str, str]) -> str | None:
        if endpoint in ("list_owners", "get_owner"):
            return "crm.objects.owners.read"
        object_type = _ALIASES.get(args.get("object_type", ""))
        if endpoint not in _ENDPOINT_SCOPES or object_type is None:
            return None  # the handler answers the unknown object type
        kind, access = _ENDPOINT_SCOPES[endpoint]
        return f"crm.{kind}.{_SCOPE_OBJECT[object_type]}.{access}"

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        """HubSpot's error body: status, message, correlationId, category and any extras."""
        body = {
            "status": "error",
            "message": message,
            "correlationId": self._uuid(),
            "category": _CATEGORIES.get(code, code),
            **extra,
        }
        return self.json(body, status)

    def rate_limited(
        self, retry_after: float, reason: str, policy: str = "TEN_SECONDLY_ROLLING"
    ) -> Response:
        """HubSpot's 429 body; the same for real limits and injected faults.

        Whether HubSpot sends Retry-After on API 429s is UNCONFIRMED: we choose to send it
        (whole seconds, rounded up). Clients must also cope with its absence.
        """
        body = {
            "status": "error",
            "message": _RATE_MESSAGES[policy],
            "errorType": "RATE_LIMIT",
            "correlationId": self._uuid(),
            "policyName": policy,
            "requestId": self._uuid(),
        }
        return self.json(body, 429, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})

    def _apply_limit(self, request: Request, endpoint: str) -> Response | None:
        """Search's own per-second limit, then the ten-second burst, then the daily count."""
        token = self._token(request)
        if token is None or endpoint == "token_info":
            return None
        now = self.now().timestamp()
        if endpoint == "search":
            wait = self._search_limit.take(token, now)
            if wait > 0:
                return self.rate_limited(wait, "search limit", policy="SECONDLY")
        wait = self._burst.take(token, now)
        if wait > 0:
            return self.rate_limited(wait, "burst limit")
        if not self._count_daily():
            midnight = datetime.combine(self.now().date() + timedelta(days=1), datetime.min.time())
            wait = (midnight.replace(tzinfo=UTC) - self.now()).total_seconds()
            return self.rate_limited(wait, "daily limit", policy="DAILY")
        return None

    def _count_daily(self) -> bool:
        """Count one call against the account's day (UTC midnight); False when over."""
        today = self.now().date()
        with self.lock:
            day, used = self._daily
            used = used if day == today else 0
            if used >= self._daily_limit:
                self._daily = (today, used)
                return False
            self._daily = (today, used + 1)
            return True

    def _serve(self, request: Request) -> Response:
        """Every answer to a known token carries the rate-limit headers (search excepted)."""
        response = super()._serve(request)
        token = self._token(request)
        # Search responses do not carry the headers (reference: UNCONFIRMED); we leave them
        # off so that clients learn not to rely on them.
        if token in self._tokens and not request.path.endswith("/search"):
            response.headers.update(self._limit_headers(token))
        return response

    def _limit_headers(self, token: str) -> dict[str, str]:
        with self.lock:
            day, used = self._daily
        used = used if day == self.now().date() else 0
        return {
            "X-HubSpot-RateLimit-Max": str(self._burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(
                self._burst.remaining(token, self.now().timestamp())
            ),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(TEN_SECONDS * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self._daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(self._daily_limit - used, 0)),
        }

    # ----- records ---------------------------------------------------------------------
    @staticmethod
    def _type(name: str) -> str:
        object_type = _ALIASES.get(name)
        if object_type is None:
            raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        return object_type

    def _new_id(self) -> str:
        while True:
            candidate = str(next(self._record_ids))
            if not any(candidate in records for records in self._records.values()):
                return candidate

    def _find(self, object_type: str, object_id: str, archived: bool = False) -> _Record | None:
        record = self._records[object_type].get(str(object_id))
        if record is None or (record.archived_at is not None) != archived:
            return None
        return record

    def _find_by(self, object_type: str, value: str, id_property: str | None) -> _Record | None:
        """Look a record up by id, or by another unique property (``idProperty``)."""
        if id_property in (None, "", "hs_object_id"):
            return self._find(object_type, value)
        return next(
            (
                r
                for r in self._records[object_type].values()
                if r.archived_at is None and r.properties.get(id_property) == value
            ),
            None,
        )

    def _get_or_404(self, object_type: str, object_id: str, archived: bool = False) -> _Record:
        record = self._find(object_type, object_id, archived)
        if record is None:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [str(object_id)]},
            )
        return record

    def _store(self, object_type: str, properties: dict[str, str], id: str | None) -> _Record:
        now = self.now()
        record_id = str(id) if id is not None else self._new_id()
        created = _parse_moment(properties.get("createdate") or "") or now  # seeded history
        record = _Record(record_id, object_type, {}, created, now)
        record.properties = {
            **properties,
            "hs_object_id": record_id,
            "createdate": iso_millis(created),
            "hs_lastmodifieddate": iso_millis(now),
        }
        if object_type == "deals":
            record.properties.setdefault("pipeline", "default")
            self._on_stage(record, record.properties.get("dealstage"))
            seeded = {k: v for k, v in properties.items() if k.startswith(DATE_ENTERED_PREFIXES)}
            record.properties.update(seeded)  # seeded history wins over "entered now"
        self._records[object_type][record_id] = record
        return record

    def _apply(self, record: _Record, properties: dict[str, str]) -> dict[str, str]:
        """Write properties; return those whose value changed."""
        changed = {k: v for k, v in properties.items() if record.properties.get(k) != v}
        record.properties.update(changed)
        if record.type == "deals" and "dealstage" in changed:
            self._on_stage(record, changed["dealstage"])
        record.updated = self.now()
        record.properties["hs_lastmodifieddate"] = iso_millis(record.updated)
        return changed

    def _on_stage(self, record: _Record, stage_id: str | None) -> None:
        """What HubSpot derives from a stage: entry date, closed and closed-won flags."""
        if not stage_id:
            return
        for prefix in DATE_ENTERED_PREFIXES:
            record.properties[f"{prefix}{stage_id}"] = iso_millis(self.now())
        metadata = self._stage(stage_id).get("metadata", {})
        closed = metadata.get("isClosed") == "true"
        record.properties["hs_is_closed"] = _as_text(closed)
        record.properties["hs_is_closed_won"] = _as_text(
            closed and metadata.get("probability") == "1.0"
        )

    def _stage(self, stage_id: str) -> dict[str, Any]:
        stages = (s for p in self._pipelines.values() for s in p["stages"])
        return next((s for s in stages if s["id"] == stage_id), {})

    def _link(self, a_type: str, a_id: str, b_type: str, b_id: str) -> None:
        """Associate two records both ways, once."""
        for (t1, i1), (t2, i2) in (
            ((a_type, a_id), (b_type, b_id)),
            ((b_type, b_id), (a_type, a_id)),
        ):
            linked = self._records[t1][i1].links.setdefault(t2, [])
            if i2 not in linked:
                linked.append(i2)

    def _associations(self, record: _Record, wanted: list[str]) -> dict[str, Any]:
        """Associations as HubSpot lists them; the key is left out when there are none.

        Live captures (UNCONFIRMED) show the primary company twice, as ``deal_to_company`` and
        ``deal_to_company_unlabeled``, and other companies as ``_unlabeled`` only: we send that
        shape, so clients must dedupe by id.
        """
        found: dict[str, Any] = {}
        for name in wanted:
            to_type = _ALIASES.get(name)
            ids = record.links.get(to_type or "", [])
            if not ids:
                continue
            label = f"{SINGULAR[record.type]}_to_{SINGULAR[to_type]}"
            results = []
            for position, other in enumerate(ids):
                if to_type == "companies" and record.type in ("deals", "contacts"):
                    if position == 0:
                        results.append({"id": other, "type": label})
                    results.append({"id": other, "type": f"{label}_unlabeled"})
                else:
                    results.append({"id": other, "type": label})
            found[to_type] = {"results": results}
        return found

    def _record_json(
        self,
        record: _Record,
        properties: list[str] | None = None,
        associations: list[str] | None = None,
    ) -> dict[str, Any]:
        names = list(DEFAULT_READ[record.type] if properties is None else properties)
        defined = self._properties[record.type]
        shown = {
            n: record.properties.get(n) or None
            for n in dict.fromkeys(names + ALWAYS_READ)
            if n in defined or n in record.properties
        }
        out: dict[str, Any] = {
            "id": record.id,
            "properties": shown,
            "createdAt": iso_millis(record.created),
            "updatedAt": iso_millis(record.updated),
            "archived": record.archived_at is not None,
        }
        if record.archived_at is not None:
            out["archivedAt"] = iso_millis(record.archived_at)
        links = self._associations(record, associations or [])
        if links:
            out["associations"] = links
        return out

    # ----- validation ------------------------------------------------------------------
    def _options(self, object_type: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
        """A property's options; stages, pipelines and owners come from the account's data."""
        name = definition["name"]
        if object_type == "deals" and name == "dealstage":
            values = [(s["id"], s["label"]) for p in self._pipelines.values() for s in p["stages"]]
        elif object_type == "deals" and name == "pipeline":
            values = [(p["id"], p["label"]) for p in self._pipelines.values()]
        elif name == "hubspot_owner_id":
            values = [(o["id"], f"{o['firstName']} {o['lastName']}") for o in self._owners.values()]
        else:
            return definition["options"]
        return [
            {"label": label, "value": value, "displayOrder": i, "hidden": False}
            for i, (value, label) in enumerate(values)
        ]

    def _check_value(self, object_type: str, name: str, raw: Any) -> tuple[str, str | None]:
        """(stored value, error code or None) for one property write."""
        definition = self._properties[object_type].get(name)
        if definition is None:
            return "", "PROPERTY_DOESNT_EXIST"
        if definition["modificationMetadata"]["readOnlyValue"]:
            return "", "READ_ONLY_VALUE"
        value = _as_text(raw)
        if value == "":
            return value, None  # an empty value clears the property
        kind = definition["type"]
        if kind == "number":
            try:
                float(value)
            except ValueError:
                return value, "INVALID_FLOAT"
        elif kind in ("datetime", "date"):
            moment = _parse_moment(value)
            if moment is None:
                return value, "INVALID_DATE"
            value = iso_millis(moment) if kind == "datetime" else moment.date().isoformat()
        elif kind in ("enumeration", "bool"):
            value = value.lower() if kind == "bool" else value
            allowed = {o["value"] for o in self._options(object_type, definition)}
            chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
            if not set(chosen) <= allowed:
                return value, "INVALID_OPTION"
        return value, None

    def _clean(self, object_type: str, properties: dict[str, Any]) -> dict[str, str]:
        """Validated, normalised property values; 400 VALIDATION_ERROR naming each bad one."""
        cleaned: dict[str, str] = {}
        problems: list[tuple[str, str, str]] = []
        for name, raw in (properties or {}).items():
            value, code = self._check_value(object_type, name, raw)
            if code is None:
                cleaned[name] = value
            else:
                problems.append((name, code, self._problem_message(object_type, name, code, raw)))
        if problems:
            raise self._validation_error(problems)
        return cleaned

    def _problem_message(self, object_type: str, name: str, code: str, raw: Any) -> str:
        if code == "PROPERTY_DOESNT_EXIST":
            return f'Property "{name}" does not exist'
        if code == "READ_ONLY_VALUE":
            return f'"{name}" is a read only property; its value cannot be set.'
        if code == "INVALID_OPTION":
            definition = self._properties[object_type][name]
            allowed = [o["value"] for o in self._options(object_type, definition)]
            return f"{raw} was not one of the allowed options: [{', '.join(allowed)}]"
        return f"{raw} is not a valid value for {name} ({code})"

    def _validation_error(self, problems: list[tuple[str, str, str]]) -> ApiError:
        listed = [
            {"isValid": False, "message": m, "error": c, "name": n, "localizedErrorMessage": m,
             "portalId": HUB_ID}
            for n, c, m in problems
        ]  # fmt: skip
        return ApiError(
            400,
            "VALIDATION_ERROR",
            f"Property values were not valid: {json.dumps(listed)}",
            context={"propertyName": [n for n, _, _ in problems]},
            errors=[
                {"message": m, "code": c, "in": n, "context": {"propertyName": [n]}}
                for n, c, m in problems
            ],
        )

    # ----- object handlers -------------------------------------------------------------
    @_api
    def get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        object_type = self._type(object_type)
        archived = request.args.get("archived", "false").lower() == "true"
        with self.lock:
            record = self._get_or_404(object_type, object_id, archived)
            return self.json(
                self._record_json(
                    record, _list_param(request, "properties"), _list_param(request, "associations")
                )
            )

    @_api
    def update_object(self, request: Request, object_type: str, object_id: str) -> Response:
        object_type = self._type(object_type)
        body = _body(request)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            cleaned = self._clean(object_type, body.get("properties") or {})
            self._apply(record, cleaned)
            return self.json(self._record_json(record, list(cleaned)))

    @_api
    def create_object(self, request: Request, object_type: str) -> Response:
        object_type = self._type(object_type)
        body = _body(request)
        with self.lock:
            cleaned = self._clean(object_type, body.get("properties") or {})
            if object_type == "tasks" and not cleaned.get("hs_timestamp"):
                message = 'Property "hs_timestamp" is required'
                raise self._validation_error([("hs_timestamp", "REQUIRED_PROPERTY", message)])
            targets = [
                self._association_target(object_type, a) for a in body.get("associations") or []
            ]
            record = self._store(object_type, cleaned, None)
            for to_type, to_id in targets:
                self._link(object_type, record.id, to_type, to_id)
            return self.json(self._record_json(record, list(cleaned)), 201)

    def _association_target(self, object_type: str, spec: dict[str, Any]) -> tuple[str, str]:
        """(type, id) an association input points at; 400 when the type or record is wrong."""
        to_id = str((spec.get("to") or {}).get("id", ""))
        for kind in spec.get("types") or []:
            pair = ASSOCIATION_TYPES.get(int(kind.get("associationTypeId", -1)))
            if pair is None or pair[0] != object_type:
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    f"associationTypeId {kind.get('associationTypeId')} is not valid from "
                    f"{SINGULAR[object_type]}",
                )
            if self._find(pair[1], to_id) is None:
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    f"No {pair[1]} with id {to_id} to associate with",
                    context={"id": [to_id]},
                )
            return pair[1], to_id
        raise ApiError(400, "VALIDATION_ERROR", "An association needs at least one type")

    def _batch_inputs(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise ApiError(400, "VALIDATION_ERROR", "inputs is required")
        if len(inputs) > MAX_BATCH:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Batch input has {len(inputs)} inputs; the limit is {MAX_BATCH}.",
                context={"inputs": [str(len(inputs))]},
            )
        return inputs

    def _batch_answer(
        self, object_type: str, results: list[dict[str, Any]], missing: list[str], started: str
    ) -> Response:
        """200 with results, or 207 with HubSpot's one not-found error listing missing ids."""
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso_millis(self.now()),
        }
        if not missing:
            return self.json(body)
        body["numErrors"] = 1
        body["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {SINGULAR[object_type].upper()} objects, they "
                "may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing},
                "links": {},
                "errors": [],
            }
        ]
        return self.json(body, 207)

    @_api
    def batch_read(self, request: Request, object_type: str) -> Response:
        object_type = self._type(object_type)
        body = _body(request)
        started = iso_millis(self.now())
        inputs = self._batch_inputs(body)
        with self.lock:
            results, missing = [], []
            for item in inputs:
                record = self._find_by(object_type, str(item.get("id")), body.get("idProperty"))
                if record is None:
                    missing.append(str(item.get("id")))
                else:
                    results.append(self._record_json(record, body.get("properties")))
            return self._batch_answer(object_type, results, missing, started)

    @_api
    def batch_update(self, request: Request, object_type: str) -> Response:
        """All inputs are validated first: one bad property fails the whole batch with 400.

        Whether HubSpot fails the whole batch is UNCONFIRMED; we chose the stricter answer.
        """
        object_type = self._type(object_type)
        started = iso_millis(self.now())
        inputs = self._batch_inputs(_body(request))
        with self.lock:
            cleaned = [self._clean(object_type, item.get("properties") or {}) for item in inputs]
            results, missing = [], []
            for item, properties in zip(inputs, cleaned, strict=True):
                record = self._find_by(object_type, str(item.get("id")), item.get("idProperty"))
                if record is None:
                    missing.append(str(item.get("id")))
                    continue
                self._apply(record, properties)
                results.append(self._record_json(record, list(properties)))
            return self._batch_answer(object_type, results, missing, started)

    # ----- search ----------------------------------------------------------------------
    @_api
    def search(self, request: Request, object_type: str) -> Response:
        object_type = self._type(object_type)
        body = _body(request)
        limit = int(body.get("limit") or 10)
        offset = int(body.get("after") or 0)
        if not 0 < limit <= MAX_SEARCH_PAGE:
            raise ApiError(400, "VALIDATION_ERROR", f"limit must be 1..{MAX_SEARCH_PAGE}")
        if offset >= MAX_SEARCH_RESULTS:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"Search can page through at most {MAX_SEARCH_RESULTS} results; narrow the "
                "filters instead.",
            )
        groups = body.get("filterGroups") or []
        if len(groups) > 5:
            raise ApiError(400, "VALIDATION_ERROR", "At most 5 filterGroups are allowed")
        query = str(body.get("query") or "").lower()
        with self.lock:
            found = [
                r
                for r in self._records[object_type].values()
                if r.archived_at is None
                and (not groups or any(self._group_matches(r, g) for g in groups))
                and (not query or any(query in v.lower() for v in r.properties.values()))
            ]
            found = self._sorted(object_type, found, body.get("sorts") or [])
            page = found[offset : min(offset + limit, MAX_SEARCH_RESULTS)]
            answer: dict[str, Any] = {
                "total": len(found),
                "results": [self._record_json(r, body.get("properties")) for r in page],
            }
        # Like HubSpot, a next page is offered while results remain, even past the 10,000 cap
        # where asking for it fails with 400.
        if offset + limit < len(found):
            answer["paging"] = {"next": {"after": str(offset + limit)}}
        return self.json(answer)

    def _sort_key(self, object_type: str, name: str, value: str | None) -> Any:
        """A comparable form: numbers as floats, dates as epoch ms, text case-folded."""
        if value is None or value == "":
            return None
        kind = self._properties[object_type].get(name, {}).get("type", "string")
        if name.startswith(DATE_ENTERED_PREFIXES):
            kind = "datetime"
        if kind == "number":
            try:
                return float(value)
            except ValueError:
                return None
        if kind in ("date", "datetime"):
            moment = _parse_moment(value)
            return None if moment is None else _epoch_ms(moment)
        return value.lower()

    def _group_matches(self, record: _Record, group: dict[str, Any]) -> bool:
        return all(self._filter_matches(record, f) for f in group.get("filters") or [])

    def _filter_matches(self, record: _Record, spec: dict[str, Any]) -> bool:
        name = spec.get("propertyName", "")
        operator = spec.get("operator", "EQ")
        mine = self._sort_key(record.type, name, record.properties.get(name))
        if operator == "HAS_PROPERTY":
            return mine is not None
        if operator == "NOT_HAS_PROPERTY":
            return mine is None

        def key(raw: Any) -> Any:
            return self._sort_key(record.type, name, _as_text(raw))

        if operator in ("IN", "NOT_IN"):
            inside = mine in {key(v) for v in spec.get("values") or []}
            return inside if operator == "IN" else not inside
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(spec.get("value", "")).lower().strip("*")
            has = mine is not None and token in str(mine)
            return has if operator == "CONTAINS_TOKEN" else not has
        if operator == "NEQ":
            return mine != key(spec.get("value"))
        if mine is None:
            return False
        value = key(spec.get("value"))
        comparisons: dict[str, Callable[[], bool]] = {
            "EQ": lambda: mine == value,
            "GT": lambda: value is not None and mine > value,
            "GTE": lambda: value is not None and mine >= value,
            "LT": lambda: value is not None and mine < value,
            "LTE": lambda: value is not None and mine <= value,
            "BETWEEN": lambda: (
                value is not None
                and key(spec.get("highValue")) is not None
                and value <= mine <= key(spec.get("highValue"))
            ),
        }
        if operator not in comparisons:
            raise ApiError(400, "VALIDATION_ERROR", f"Unknown filter operator {operator}")
        try:
            return comparisons[operator]()
        except TypeError:  # a number compared with text: no match, as HubSpot finds none
            return False

    def _sorted(self, object_type: str, records: list[_Record], sorts: list[Any]) -> list[_Record]:
        """Sort by the request's sorts, objects or "-name" strings; by id when none given."""
        ordered = sorted(records, key=lambda r: int(r.id) if r.id.isdigit() else 0)
        for spec in reversed(sorts):
            if isinstance(spec, str):
                name, descending = spec.lstrip("-"), spec.startswith("-")
            else:
                name = spec.get("propertyName", "")
                descending = spec.get("direction", "ASCENDING") == "DESCENDING"

            def key(r: _Record, name: str = name, down: bool = descending) -> tuple[bool, Any]:
                value = self._sort_key(object_type, name, r.properties.get(name))
                return (value is None) != down, value if value is not None else 0

            ordered.sort(key=key, reverse=descending)
        return ordered

    # ----- owners ----------------------------------------------------------------------
    @_api
    def list_owners(self, request: Request) -> Response:
        email = request.args.get("email")
        limit = min(int(request.args.get("limit", 100)), 500)
        offset = int(request.args.get("after") or 0)
        with self.lock:
            owners = [o for o in self._owners.values() if email in (None, "", o["email"])]
        answer: dict[str, Any] = {"results": owners[offset : offset + limit]}
        if offset + limit < len(owners):
            answer["paging"] = {"next": {"after": str(offset + limit)}}
        return self.json(answer)

    @_api
    def get_owner(self, request: Request, owner_id: str) -> Response:
        by_user = request.args.get("idProperty", "id") == "userId"
        with self.lock:
            owner = next(
                (
                    o
                    for o in self._owners.values()
                    if (str(o["userId"]) if by_user else o["id"]) == owner_id
                ),
                None,
            )
        if owner is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Owner {owner_id} not found")
        return self.json(owner)

    # ----- properties ------------------------------------------------------------------
    def _property_json(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        return {**definition, "options": self._options(object_type, definition)}

    @_api
    def list_properties(self, request: Request, object_type: str) -> Response:
        object_type = self._type(object_type)
        with self.lock:
            results = [
                self._property_json(object_type, d) for d in self._properties[object_type].values()
            ]
        return self.json({"results": results})

    @_api
    def get_property(self, request: Request, object_type: str, name: str) -> Response:
        object_type = self._type(object_type)
        with self.lock:
            definition = self._properties[object_type].get(name)
            if definition is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
            return self.json(self._property_json(object_type, definition))

    @_api
    def create_property(self, request: Request, object_type: str) -> Response:
        """201 with the definition; 409 OBJECT_ALREADY_EXISTS (category UNCONFIRMED) on a repeat."""
        object_type = self._type(object_type)
        spec = _body(request)
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not spec.get(k)
        ]
        if missing:
            raise ApiError(
                400, "VALIDATION_ERROR", f"Missing required fields: {', '.join(missing)}"
            )
        if spec["type"] not in ("string", "number", "enumeration", "date", "datetime", "bool",
                                "phone_number"):  # fmt: skip
            raise ApiError(400, "VALIDATION_ERROR", f"Unknown property type {spec['type']}")
        with self.lock:
            if spec["name"] in self._properties[object_type]:
                raise ApiError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property named '{spec['name']}' already exists.",
                )
            if spec["groupName"] not in self._groups[object_type]:
                raise ApiError(
                    400, "VALIDATION_ERROR", f"Property group {spec['groupName']} does not exist"
                )
            options = [
                {"label": o["label"], "value": o["value"],
                 "displayOrder": o.get("displayOrder", i), "hidden": o.get("hidden", False)}
                for i, o in enumerate(spec.get("options") or [])
            ]  # fmt: skip
            definition = self._definition(
                object_type, {**spec, "options": options}, iso_millis(self.now()), False
            )
            self._properties[object_type][spec["name"]] = definition
            return self.json(self._property_json(object_type, definition), 201)

    @_api
    def create_group(self, request: Request, object_type: str) -> Response:
        object_type = self._type(object_type)
        spec = _body(request)
        if not spec.get("name") or not spec.get("label"):
            raise ApiError(400, "VALIDATION_ERROR", "name and label are required")
        with self.lock:
            if spec["name"] in self._groups[object_type]:
                raise ApiError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property group named '{spec['name']}' already exists.",
                )
            group = self._group(spec["name"], spec["label"], spec.get("displayOrder", -1))
            self._groups[object_type][spec["name"]] = group
        return self.json(group, 201)

    # ----- pipelines -------------------------------------------------------------------
    @_api
    def list_pipelines(self, request: Request, object_type: str) -> Response:
        deals = self._type(object_type) == "deals"
        with self.lock:
            return self.json({"results": list(self._pipelines.values()) if deals else []})

    @_api
    def get_pipeline(self, request: Request, object_type: str, pipeline_id: str) -> Response:
        deals = self._type(object_type) == "deals"
        with self.lock:
            pipeline = self._pipelines.get(pipeline_id) if deals else None
        if pipeline is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find pipeline {pipeline_id}")
        return self.json(pipeline)

    # ----- token info ------------------------------------------------------------------
    @_api
    def token_info(self, request: Request) -> Response:
        """Scopes of a private-app token, for ``flask doctor``.

        Path and shape are not on a HubSpot page we could read; several independent clients
        (found with the search tool) POST ``{"tokenKey"}`` here and read userId, hubId, appId,
        scopes, and say it needs no scope: UNCONFIRMED but consistent.
        """
        token = str(_body(request).get("tokenKey", ""))
        with self.lock:
            scopes = self._tokens.get(token)
        if scopes is None:
            raise ApiError(401, "INVALID_AUTHENTICATION", _AUTH_MESSAGE)
        return self.json(
            {"userId": TOKEN_USER_ID, "hubId": HUB_ID, "appId": APP_ID, "scopes": sorted(scopes)}
        )

    # ----- seeding commands ------------------------------------------------------------
    @command
    def add_token(self, token: str, scopes: list[str]) -> dict[str, Any]:
        """Accept another token, with only these scopes."""
        with self.lock:
            self._tokens[token] = list(scopes)
        return {"token": token, "scopes": sorted(scopes)}

    @command
    def seed_owner(
        self,
        email: str,
        first_name: str,
        last_name: str,
        id: str | int | None = None,
        user_id: int | None = None,
        teams: list[Any] | None = None,
    ) -> dict[str, Any]:
        """An owner (a HubSpot user who can own records); teams as names or team dicts."""
        at = iso_millis(self.now())
        with self.lock:
            owner_id = str(id if id is not None else next(self._owner_ids))
            user = int(user_id if user_id is not None else next(self._user_ids))
            owner = {
                "id": owner_id,
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": user,
                "userIdIncludingInactive": user,
                "createdAt": at,
                "updatedAt": at,
                "archived": False,
                "teams": [
                    t
                    if isinstance(t, dict)
                    else {"id": str(4567 + i), "name": t, "primary": i == 0}
                    for i, t in enumerate(teams or [])
                ],
            }
            self._owners[owner_id] = owner
        return owner

    def _seed(self, object_type: str, properties: dict[str, Any], id: Any) -> _Record:
        with self.lock:
            if id is not None and str(id) in self._records[object_type]:
                raise ValueError(f"{SINGULAR[object_type]} {id} already exists")
            values = {k: _as_text(v) for k, v in properties.items()}
            return self._store(object_type, values, None if id is None else str(id))

    def _full_json(self, record: _Record) -> dict[str, Any]:
        return self._record_json(record, list(record.properties), list(OBJECT_TYPE_IDS))

    @command
    def seed_company(self, properties: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        """A company, stored as given (seeding skips validation)."""
        return self._full_json(self._seed("companies", properties, id))

    @command
    def seed_contact(self, properties: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        """A contact, stored as given (seeding skips validation)."""
        return self._full_json(self._seed("contacts", properties, id))

    @command
    def seed_deal(
        self,
        properties: dict[str, Any],
        id: str | None = None,
        company_ids: Iterable[str] = (),
        contact_ids: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A deal associated both ways with companies (first = primary) and contacts."""
        with self.lock:
            links = [("companies", str(i)) for i in company_ids]
            links += [("contacts", str(i)) for i in contact_ids]
            for to_type, to_id in links:
                if self._find(to_type, to_id) is None:
                    raise LookupError(f"no {SINGULAR[to_type]} {to_id} to associate")
            record = self._seed("deals", properties, id)
            for to_type, to_id in links:
                self._link("deals", record.id, to_type, to_id)
            return self._full_json(record)

    @command
    def seed_pipeline(self, id: str, label: str, stages: list[Any]) -> dict[str, Any]:
        """A deal pipeline; stages as ids or dicts with id, label and optional metadata."""
        at = iso_millis(self.now())
        built = []
        for order, stage in enumerate(stages):
            spec = (
                {"id": stage, "label": stage.replace("_", " ").title()}
                if isinstance(stage, str)
                else stage
            )
            metadata = {"isClosed": "false", "probability": "0.5", **spec.get("metadata", {})}
            built.append({
                "id": str(spec["id"]), "label": spec.get("label", str(spec["id"])),
                "displayOrder": order, "archived": False,
                "metadata": {k: _as_text(v) for k, v in metadata.items()},
                "createdAt": at, "updatedAt": at,
            })  # fmt: skip
        pipeline = {
            "id": str(id),
            "label": label,
            "displayOrder": len(self._pipelines),
            "archived": False,
            "createdAt": at,
            "updatedAt": at,
            "stages": built,
        }
        with self.lock:
            self._pipelines[str(id)] = pipeline
        return pipeline

    # ----- acting as a person in the CRM, and the webhooks it causes --------------------
    @command
    def configure_webhooks(
        self,
        target_url: str,
        client_secret: str,
        app_id: int = APP_ID,
        portal_id: int = HUB_ID,
        subscriptions: list[Any] | None = None,
    ) -> dict[str, Any]:
        """Subscribe a target URL, as the private app's Webhooks tab does.

        Subscriptions are "deal.creation"-like strings or dicts with subscriptionType and an
        optional propertyName; by default deal creation, deletion and dealstage changes.
        """
        chosen = subscriptions or [
            "deal.creation",
            "deal.deletion",
            {"subscriptionType": "deal.propertyChange", "propertyName": "dealstage"},
        ]
        with self.lock:
            self._sender = HubSpotWebhookSender(
                target_url, client_secret, app_id, portal_id, clock=self.clock, seed=self.seed
            )
            self._subscriptions = [
                {"subscriptionType": s} if isinstance(s, str) else dict(s) for s in chosen
            ]
        return {"targetUrl": target_url, "subscriptions": self._subscriptions}

    @command
    def update_as_user(
        self, object_type: str, object_id: str, properties: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A person edits a record in the CRM UI; returns the events HubSpot would emit."""
        object_type = self._type(object_type)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            changed = self._apply(record, self._clean(object_type, properties))
            events = [
                self._sender.event(
                    f"{SINGULAR[object_type]}.propertyChange",
                    record.id,
                    property_name=name,
                    property_value=value,
                )
                for name, value in changed.items()
            ]
        self._dispatch(events)
        return events

    @command
    def delete_as_user(self, object_type: str, object_id: str) -> list[dict[str, Any]]:
        """A person deletes (archives) a record; returns the deletion event."""
        object_type = self._type(object_type)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            record.archived_at = record.updated = self.now()
            events = [self._sender.event(f"{SINGULAR[object_type]}.deletion", record.id)]
        self._dispatch(events)
        return events

    def _subscribed(self, event: dict[str, Any]) -> bool:
        return any(
            s["subscriptionType"] == event["subscriptionType"]
            and s.get("propertyName") in (None, event.get("propertyName"))
            for s in self._subscriptions
        )

    def _dispatch(self, events: list[dict[str, Any]]) -> None:
        """Deliver the subscribed events in one batch, in the background, retrying like HubSpot."""
        with self.lock:
            batch = [e for e in events if self._subscribed(e)]
            if not batch or not self._sender.target_url:
                return
            thread = threading.Thread(
                target=self._sender.deliver_until_accepted,
                args=(batch,),
                kwargs={"delay": self.webhook_retry_delay},
                daemon=True,
            )
            self._webhook_threads.append(thread)
        thread.start()

    @command
    def wait_for_webhooks(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until background deliveries end (accepted or out of attempts); list them all."""
        with self.lock:
            threads = list(self._webhook_threads)
        for thread in threads:
            thread.join(timeout)
        return self.webhook_deliveries()

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook request sent so far, with its attempt number and answer status."""
        return list(self._sender.deliveries)

    # ----- accessors for tests and the state page --------------------------------------
    def records(self, object_type: str, archived: bool = False) -> list[dict[str, Any]]:
        """Every record of a type with all its properties and associations."""
        object_type = self._type(object_type)
        with self.lock:
            return [
                self._full_json(r)
                for r in self._records[object_type].values()
                if (r.archived_at is not None) == archived
            ]

    def record(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """One record (archived ones too) with all its properties, or None."""
        with self.lock:
            found = self._records[self._type(object_type)].get(str(object_id))
            return None if found is None else self._full_json(found)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            records = {t: list(self._records[t].values()) for t in OBJECT_TYPE_IDS}
            custom = {  # properties an app created: their values are what it wrote
                t: [n for n, d in props.items() if not d["hubspotDefined"]]
                for t, props in self._properties.items()
            }
            return {
                "deals": [self._summary(r, ("dealname", "dealstage", "pipeline", "amount",
                                            "hubspot_owner_id", *custom.get("deals", ())))
                          for r in records["deals"]],
                "companies": [self._summary(r, ("name", "domain", *custom.get("companies", ())))
                              for r in records["companies"]],
                "contacts": [self._summary(r, ("email", "firstname", "lastname"))
                             for r in records["contacts"]],
                "tasks": [self._summary(r, ("hs_task_subject", "hs_task_status", "hs_timestamp"))
                          for r in records["tasks"]],
                "owners": [{k: o[k] for k in ("id", "email", "firstName", "lastName")}
                           for o in self._owners.values()],
                "custom_properties": custom,
                "pipelines": {p["id"]: [s["id"] for s in p["stages"]]
                              for p in self._pipelines.values()},
                "webhooks": {
                    "target_url": self._sender.target_url,
                    "subscriptions": self._subscriptions,
                    "deliveries": [
                        {"at": d["at"], "attempt": d["attempt"], "status": d["status"],
                         "events": [e["subscriptionType"] for e in d["events"]]}
                        for d in self._sender.deliveries
                    ],
                },
            }  # fmt: skip

    @staticmethod
    def _summary(record: _Record, keys: Iterable[str]) -> dict[str, Any]:
        return {
            "id": record.id,
            **{k: record.properties.get(k) for k in keys},
            "archived": record.archived_at is not None,
            **{t: ids for t, ids in record.links.items() if ids},
        }
