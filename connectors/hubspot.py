"""HubSpot CRM through hubspot-api-client: the reads a kickoff needs and the property writes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput as CompanyBatch
from hubspot.crm.companies import SimplePublicObjectBatchInput as CompanyInput
from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId
from hubspot.crm.deals import BatchInputSimplePublicObjectBatchInput as DealBatch
from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.deals import SimplePublicObjectBatchInput as DealInput
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate
from urllib3.util.retry import Retry

from connectors.calls import Caller, RateLimiter, TTLCache
from connectors.errors import ConnectorError, NotFound, Permanent, RateLimited, Transient
from connectors.hubspot_batch import BatchWrite
from connectors.hubspot_budget import RateBudget, listening_api_factory
from connectors.retry_after import header, retry_after

SERVICE = "hubspot"
BATCH_SIZE = 100
# CRM search: 200 results a page, 10,000 results a query at most ("Limitations" in
# https://developers.hubspot.com/docs/api/crm/search), and a limit of its own apart from the
# general one: 4 requests/second per token (HubSpot's changelog, "CRM Search API Rate Limit
# Increase": https://developers.hubspot.com/changelog/crm-search-api-rate-limit-increase).
SEARCH_PAGE_SIZE = 200
SEARCH_RESULT_CAP = 10_000
SEARCH_RATE_PER_SECOND = 4.0
# HubSpot's error guide (https://developers.hubspot.com/docs/api-reference/error-handling):
# 423 Locked comes from syncing much data at once and "locks will last for 2 seconds"; 477
# Migration in Progress comes with a Retry-After (typically up to 24 hours). Both: wait, retry.
LOCKED, LOCK_SECONDS = 423, 2.0
MIGRATING = 477
log = logging.getLogger(__name__)
_BATCHES = {"deals": (DealBatch, DealInput), "companies": (CompanyBatch, CompanyInput)}


@dataclass(frozen=True)
class Record:
    """A CRM object as the engine sees it: id, string properties, associated ids."""

    id: str
    properties: dict[str, str | None]
    associations: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: its records, and how many the whole query matches."""

    total: int
    records: list[Record]


@dataclass(frozen=True)
class Owner:
    id: str
    email: str | None
    first_name: str | None
    last_name: str | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "")


class HttpStatusError(Exception):
    """A non-2xx answer to a raw request, shaped like the SDK's ApiException for translate()."""

    def __init__(self, status: int, headers: Any, body: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers, self.body, self.reason = status, headers, body, ""


def translate(exc: Exception) -> ConnectorError | None:
    """HubSpot's failures in our terms (its error guide, see LOCKED): 429, 423, 477 and 5xx
    are worth waiting for, other 4xx need a person. A Retry-After is kept whatever the status."""
    if isinstance(exc, urllib3.exceptions.HTTPError):
        return Transient(SERVICE, f"connection failed: {type(exc).__name__}")
    status = getattr(exc, "status", None)
    if status is None:
        return None
    headers = getattr(exc, "headers", None)
    asked = retry_after(headers)
    body = _json(getattr(exc, "body", None))
    message = body.get("message") or getattr(exc, "reason", "") or "no message"
    category = body.get("category") or body.get("errorType") or ""
    text = f"{status} {category}: {message}".replace("  ", " ")
    if status == 429:
        if body.get("policyName") == "DAILY":
            return Permanent(SERVICE, f"{text} (daily limit reached: resumes after midnight)")
        return RateLimited(SERVICE, text, asked if asked is not None else _interval(headers))
    if status == LOCKED:
        return Transient(SERVICE, text, asked if asked is not None else LOCK_SECONDS)
    if status in (0, MIGRATING) or status >= 500:
        return Transient(SERVICE, text, asked)
    if status == 404:
        return NotFound(SERVICE, text)
    return Permanent(SERVICE, text)


class HubSpotConnector:
    """Reads deals, companies, contacts and owners; writes onboarding properties in batches."""

    def __init__(
        self,
        access_token: str,
        base_url: str,
        rate_per_second: float = 10.0,
        search_rate_per_second: float = SEARCH_RATE_PER_SECOND,
        limiter: RateLimiter | None = None,
        **caller_options: Any,
    ) -> None:
        """``rate_per_second`` is a ceiling: the account's own budget, learned from HubSpot's
        answers, may hold calls lower. ``limiter`` replaces the one made from it (tests pass
        one on a virtual clock)."""
        # Our Caller owns retries. urllib3's default Retry would quietly sleep out a 429's
        # Retry-After and re-send GETs itself, so it is switched off entirely.
        no_retry = Retry(total=0, respect_retry_after_header=False, raise_on_status=False)
        self.base_url = base_url.rstrip("/")
        limiter = limiter or RateLimiter(rate_per_second, burst=5)
        self.budget = RateBudget(limiter)
        self.client = HubSpot(
            access_token=access_token,
            host=self.base_url,
            retry=no_retry,
            api_factory=listening_api_factory(self.budget.learn),
        )
        self._token = access_token
        self._owners = TTLCache()
        self.call = Caller(SERVICE, limiter, translate, **caller_options)
        self._search_limiter = RateLimiter(search_rate_per_second)

    def read_deal(self, deal_id: str, properties: Iterable[str]) -> Record:
        deal = self.call(
            "read deal",
            lambda: self.client.crm.deals.basic_api.get_by_id(
                deal_id, properties=list(properties), associations=["companies", "contacts"]
            ),
        )
        associations = {
            kind: list(dict.fromkeys(item.id for item in (assoc.results or [])))
            for kind, assoc in (deal.associations or {}).items()
        }
        return Record(deal.id, dict(deal.properties or {}), associations)

    def read_company(self, company_id: str, properties: Iterable[str]) -> Record:
        company = self.call(
            "read company",
            lambda: self.client.crm.companies.basic_api.get_by_id(
                company_id, properties=list(properties)
            ),
        )
        return Record(company.id, dict(company.properties or {}))

    def read_contacts(self, contact_ids: list[str], properties: Iterable[str]) -> list[Record]:
        return self.read_many("contacts", contact_ids, properties)

    def read_many(
        self, object_type: str, ids: list[str], properties: Iterable[str]
    ) -> list[Record]:
        """Records of one type by id, 100 a call, in the order asked (missing ones left out)."""
        records: list[Record] = []
        api = getattr(self.client.crm, object_type).batch_api
        for chunk in _chunks(ids, BATCH_SIZE):
            # The batch-read input models of the SDK's object modules are the same shape.
            request = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=list(properties),
                properties_with_history=[],
            )
            answer = self.call(
                f"read {object_type}",
                lambda r=request: api.read(batch_read_input_simple_public_object_id=r),
            )
            records += [Record(c.id, dict(c.properties or {})) for c in answer.results]
        order = {rid: n for n, rid in enumerate(ids)}
        return sorted(records, key=lambda r: order.get(r.id, 0))

    def deals_entered_stage(
        self,
        pipeline: str,
        stage_id: str,
        since: datetime,
        until: datetime,
        properties: Iterable[str] = (),
        cap: int = SEARCH_RESULT_CAP,
        clock: str | None = None,
        extra_filters: Iterable[dict[str, Any]] = (),
    ) -> Iterator[list[Record]]:
        """Deals of a pipeline still in a stage they entered in [since, until), page by page.

        ``clock`` is the property that says when: the stage's date-entered property by default
        (Professional and Enterprise accounts), ``hs_lastmodifieddate`` where there is none.
        One query reaches at most ``cap`` results, so a window matching more is halved and
        each half searched on its own, down to a millisecond.
        """
        entered = clock or date_entered_property(stage_id)
        wanted = list(dict.fromkeys(["pipeline", "dealstage", entered, *properties]))
        fixed = [
            {"propertyName": "pipeline", "operator": "EQ", "value": pipeline},
            {"propertyName": "dealstage", "operator": "EQ", "value": stage_id},
            *extra_filters,
        ]

        def window(start: int, end: int) -> Iterator[list[Record]]:
            filters = [
                *fixed,
                {"propertyName": entered, "operator": "GTE", "value": str(start)},
                {"propertyName": entered, "operator": "LT", "value": str(end)},
            ]
            pages = self.search_deals([filters], wanted, sort=entered, cap=cap)
            first = next(pages)
            if first.total > cap and end - start > 1:
                middle = (start + end) // 2
                yield from window(start, middle)
                yield from window(middle, end)
                return
            if first.total > cap:
                log.warning(
                    "%d deals entered %s at the same millisecond; only %d are reachable",
                    first.total,
                    stage_id,
                    cap,
                )
            yield from (page.records for page in (first, *pages) if page.records)

        yield from window(_epoch_ms(since), _epoch_ms(until))

    def search_deals(
        self,
        filter_groups: list[list[dict[str, Any]]],
        properties: Iterable[str],
        sort: str | None = None,
        cap: int = SEARCH_RESULT_CAP,
    ) -> Iterator[SearchPage]:
        """Every page of a deal search (ascending by ``sort``), at most ``cap`` results.

        Filter groups are OR-ed, the filters inside one AND-ed, as in HubSpot's search body.
        """
        groups = [FilterGroup(filters=[Filter(**_snake(f)) for f in g]) for g in filter_groups]
        # The SDK types sorts as strings; HubSpot's documented body sends objects like this one.
        sorts = [{"propertyName": sort, "direction": "ASCENDING"}] if sort else None
        wanted = list(properties)
        after: str | None = None
        seen = 0
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=groups,
                sorts=sorts,
                properties=wanted,
                limit=min(SEARCH_PAGE_SIZE, cap - seen),
                after=after,
            )
            answer = self.call(
                "search deals",
                lambda r=request: self.client.crm.deals.search_api.do_search(
                    public_object_search_request=r
                ),
                limiter=self._search_limiter,
            )
            records = [Record(d.id, dict(d.properties or {})) for d in answer.results or []]
            seen += len(records)
            yield SearchPage(int(answer.total or 0), records)
            paging = answer.paging.next if answer.paging else None
            after = paging.after if paging else None
            if not after or not records or seen >= cap:
                return

    def owner(self, owner_id: str) -> Owner:
        """An owner (a HubSpot user); kept a few minutes, as every deal asks for the same few."""

        def read() -> Owner:
            found = self.call(
                "read owner",
                lambda: self.client.crm.owners.owners_api.get_by_id(
                    owner_id=int(owner_id), id_property="id"
                ),
            )
            return Owner(str(found.id), found.email, found.first_name, found.last_name)

        return self._owners.get(owner_id, read)

    def update_properties(self, object_type: str, updates: dict[str, dict[str, str]]) -> BatchWrite:
        """Write properties to deals or companies, 100 records a call; returns what HubSpot
        confirmed record by record (a 207 answer writes some and refuses others)."""
        batch_type, input_type = _BATCHES[object_type]
        api = getattr(self.client.crm, object_type).batch_api
        outcome = BatchWrite()
        for chunk in _chunks(list(updates.items()), BATCH_SIZE):
            batch = batch_type(inputs=[input_type(id=i, properties=p) for i, p in chunk])
            answer = self.call(
                f"update {object_type}",
                lambda b=batch: api.update(batch_input_simple_public_object_batch_input=b),
            )
            outcome.add([i for i, _ in chunk], answer)
        return outcome

    def ensure_property_group(self, object_type: str, name: str, label: str) -> bool:
        """Create the group unless it exists; True when it was created now."""
        group = PropertyGroupCreate(name=name, label=label, display_order=-1)
        return self._create_unless_exists(
            "create property group",
            lambda: self.client.crm.properties.groups_api.create(
                object_type=object_type, property_group_create=group
            ),
        )

    def ensure_property(self, object_type: str, spec: dict[str, Any]) -> bool:
        """Create one property from its manifest entry unless it exists; True when created."""
        options = [
            OptionInput(label=o["label"], value=o["value"], display_order=n, hidden=False)
            for n, o in enumerate(spec.get("options", []))
        ]
        prop = PropertyCreate(
            name=spec["name"],
            label=spec["label"],
            type=spec["type"],
            field_type=spec["fieldType"],
            group_name=spec["groupName"],
            description=spec.get("description"),
            options=options or None,
        )
        return self._create_unless_exists(
            "create property",
            lambda: self.client.crm.properties.core_api.create(
                object_type=object_type, property_create=prop
            ),
        )

    def property_names(self, object_type: str) -> set[str]:
        answer = self.call(
            "list properties",
            lambda: self.client.crm.properties.core_api.get_all(object_type=object_type),
        )
        return {p.name for p in answer.results}

    def token_scopes(self) -> list[str]:
        """The private-app token's scopes (the SDK has no method for this endpoint)."""

        def ask() -> list[str]:
            answer = self.client.api_request(
                {
                    "method": "POST",
                    "path": "/oauth/v2/private-apps/get/access-token-info",
                    "body": {"tokenKey": self._token},
                    "base_url": self.base_url,
                }
            )
            if answer.status_code >= 400:
                raise HttpStatusError(answer.status_code, answer.headers, answer.text)
            return list(answer.json().get("scopes", []))

        return self.call("read token scopes", ask)

    def _create_unless_exists(self, action: str, create: Any) -> bool:
        try:
            self.call(action, create)
        except Permanent as exc:
            if exc.reason.startswith("409"):
                return False
            raise
        return True


def date_entered_property(stage_id: str) -> str:
    """The deal property holding when a deal last entered a stage.

    HubSpot's knowledge base lists "Date entered [stage]" among the stage calculated
    properties without their internal names. Live data shows hs_v2_date_entered_<stage> (the
    current set, also the name of the contact lifecycle ones) and the older
    hs_date_entered_<stage>; we search the v2 name (UNCONFIRMED which an old account has;
    the emulator sets both).
    """
    return f"hs_v2_date_entered_{stage_id}"


def _epoch_ms(moment: datetime) -> int:
    """HubSpot's datetime filter value: milliseconds since the epoch (UTC)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in a HubSpot filter")
    return int(moment.timestamp() * 1000)


def _snake(spec: dict[str, Any]) -> dict[str, Any]:
    """A filter as HubSpot documents it (propertyName, highValue) in the SDK's argument names."""
    names = {"propertyName": "property_name", "highValue": "high_value"}
    return {names.get(k, k): v for k, v in spec.items()}


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _json(body: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _interval(headers: Any) -> float | None:
    """A 429 without Retry-After: wait out HubSpot's rate-limit window (10 s), if it named it."""
    interval = header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    try:
        return float(interval) / 1000 if interval else None
    except ValueError:
        return None
