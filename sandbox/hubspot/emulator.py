"""HubSpotEmulator: one HubSpot account, assembled from this package's concern mixins."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from sandbox.core import Clock, Emulator
from sandbox.hubspot.access import TokenAccess
from sandbox.hubspot.batch import BatchEndpoints
from sandbox.hubspot.limits import DEFAULT_TIER, RateLimits
from sandbox.hubspot.objects import ObjectEndpoints
from sandbox.hubspot.owners import Owners
from sandbox.hubspot.pipelines import Pipelines
from sandbox.hubspot.records import RecordStore
from sandbox.hubspot.routes import api_rules
from sandbox.hubspot.schema import PropertySchema
from sandbox.hubspot.search import SearchEndpoint
from sandbox.hubspot.seeding import RecordSeeding
from sandbox.hubspot.state import StateView
from sandbox.hubspot.user_actions import UserActions
from sandbox.hubspot.values import PropertyValues

# The base class's generic codes as HubSpot categories (INTERNAL_ERROR for 5xx: UNCONFIRMED).
CATEGORIES = {
    "not_found": "OBJECT_NOT_FOUND",
    "bad_request": "VALIDATION_ERROR",
    "injected_error": "INTERNAL_ERROR",
    "gateway_timeout": "INTERNAL_ERROR",
}


class HubSpotEmulator(
    TokenAccess,
    RateLimits,
    RecordStore,
    PropertySchema,
    PropertyValues,
    Pipelines,
    Owners,
    ObjectEndpoints,
    BatchEndpoints,
    SearchEndpoint,
    RecordSeeding,
    UserActions,
    StateView,
    Emulator,
):
    """The CRM objects, owners, properties, pipelines and token of one HubSpot account.

    Each mixin owns one concern and the state it resets; they share ``self.lock``, the clock
    and the JSON and error answers of ``Emulator`` and of this class.
    """

    name = "hubspot"

    def __init__(
        self,
        clock: Clock | None = None,
        rate_scale: float = 1.0,
        seed: int = 0,
        tier: str = DEFAULT_TIER,
    ) -> None:
        """``tier`` (free, starter, professional, enterprise) sets the account's rate limits."""
        self.seed = seed
        self.default_tier = tier
        self.webhook_retry_delay = 0.2
        super().__init__(clock=clock, rate_scale=rate_scale, seed=seed)

    def reset_state(self) -> None:
        self._random = random.Random(self.seed)
        self._reset_records()
        self._reset_owners()
        self._reset_schema()
        self._reset_pipelines()
        self._reset_tokens()
        self._reset_limits()
        self._reset_webhooks()

    def routes(self) -> Iterable[Rule]:
        return api_rules()

    def error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        """HubSpot's error body: status, message, correlationId, category and any extras."""
        body = {
            "status": "error",
            "message": message,
            "correlationId": self._uuid(),
            "category": CATEGORIES.get(code, code),
            **extra,
        }
        return self.json(body, status)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
