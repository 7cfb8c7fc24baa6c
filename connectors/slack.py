"""Slack through slack_sdk's WebClient: the customer channel, invitations, messages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from connectors.calls import Caller, RateLimiter, TTLCache
from connectors.errors import ConnectorError, Permanent, RateLimited, Transient
from connectors.retry_after import retry_after
from connectors.slack_names import channel_name, numbered_names

SERVICE = "slack"
T = TypeVar("T")
log = logging.getLogger(__name__)
MARKER_EVENT = "onboarding_autopilot"
INVITE_CHUNK = 100  # older docs' per-call cap; the current docs allow 1000
# Errors that say the token or app is wrong: no retry helps until a person acts.
_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope"}
_RETRYABLE_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Slack limits each method by tier, per minute (https://docs.slack.dev/apis/web-api/rate-limits);
# each method's page under https://docs.slack.dev/reference/methods/ names its tier.
_TIER_PER_MINUTE = {2: 20, 3: 50, 4: 100}
_METHOD_TIER = {
    "conversations.create": 2,
    "conversations.setPurpose": 2,
    "conversations.list": 2,
    "conversations.invite": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "users.lookupByEmail": 3,
    "conversations.history": 3,
    "auth.test": 4,
    "chat.postMessage": 4,  # really ~1 message/s per channel, which a minute's tier 4 respects
}


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


def translate(exc: Exception) -> ConnectorError | None:
    """Slack's failures in our terms: HTTP 429/5xx retry; ``ok: false`` errors mostly do not."""
    if not isinstance(exc, SlackApiError):
        if isinstance(exc, SlackClientError | OSError):
            return Transient(SERVICE, f"{type(exc).__name__}: {exc}")
        return None
    status = exc.response.status_code
    error = exc.response.get("error", "") if exc.response.data else ""
    asked = retry_after(exc.response.headers)
    if status == 429 or error == "ratelimited":
        return RateLimited(SERVICE, f"429 {error}", asked)
    if status >= 500 or error in _RETRYABLE_ERRORS:
        return Transient(SERVICE, f"{status} {error}", asked)
    if error == "missing_scope":
        needed = exc.response.get("needed", "?")
        return Permanent(SERVICE, f"missing_scope: add the {needed} scope to the Slack app")
    hint = " (check SLACK_BOT_TOKEN)" if error in _AUTH_ERRORS else ""
    return Permanent(SERVICE, f"{error or status}{hint}")


def is_ours(channel: Mapping[str, Any], bot_user_id: str, purpose: str) -> bool:
    """Whether a listed channel is the one made with ``purpose``: the bot created it and its
    purpose still says so, or it has no purpose yet and nobody but the bot in it (a create whose
    purpose was never set: the run died in between, or the create's answer was lost).
    ``num_members`` is in conversations.list's channels; without it nothing is adopted."""
    if channel.get("creator") != bot_user_id or channel.get("is_archived"):
        return False
    current = (channel.get("purpose") or {}).get("value") or ""
    return purpose in current if current else channel.get("num_members") == 1


def _may_have_reached_slack(exc: Exception) -> bool:
    """Whether a failed call may still have acted: a 5xx or a lost connection may come after
    Slack did the work; an ``ok: false`` answer or a 429 says it did not."""
    return not (isinstance(exc, SlackApiError) and exc.response.status_code < 500)


class SlackConnector:
    """Channel, invitations and messages, each safe to repeat."""

    def __init__(
        self, token: str, base_url: str, rate_scale: float = 1.0, **caller_options: Any
    ) -> None:
        base = base_url if base_url.endswith("/") else base_url + "/"
        self.client = WebClient(token=token, base_url=base, timeout=30, retry_handlers=[])
        self.limits = {
            method: RateLimiter(_TIER_PER_MINUTE[tier] * rate_scale / 60, burst=3)
            for method, tier in _METHOD_TIER.items()
        }
        self._caller = Caller(SERVICE, self.limits["auth.test"], translate, **caller_options)
        self._people = TTLCache()
        self._bot_user_id: str | None = None

    def call(self, method: str, func: Callable[[], T]) -> T:
        """One Web API call under its method's own rate tier."""
        return self._caller(method, func, self.limits[method])

    def ensure_channel(
        self, name: str, purpose: str, *, recovering: bool = False, first_number: int = 1
    ) -> Channel:
        """The channel made for ``purpose`` (which says whose it is), named ``name`` or the
        next free ``name-2``, ``name-3``...; ``first_number`` starts further on (a repair).

        A channel with the name that is not ours (a person's, another customer's, a private or
        an archived one) is never reused. ``recovering``: an earlier run may have made ours."""
        base = channel_name(name)
        if not base:
            raise ValueError(f"no Slack channel name can be made of {name!r}")
        names = numbered_names(base, first_number)
        if recovering and (ours := self.find_channel(names, purpose)):
            return self._with_purpose(ours, purpose)
        for candidate in names:
            created = self._create_channel(candidate, purpose)
            if created is not None:
                return self._with_purpose(created, purpose)
            log.info(
                "Slack channel name #%s is taken by a channel not ours; trying the next", candidate
            )
        raise Permanent(SERVICE, f"channel names #{names[0]} to #{names[-1]} are all taken")

    def find_channel(self, names: Collection[str], purpose: str) -> dict[str, Any] | None:
        """The live channel of one of ``names`` made with ``purpose`` (see ``is_ours``)."""
        bot_user_id = self.bot_user_id()
        return next(
            (
                channel
                for channel in self._live_public_channels()
                if channel["name"] in names and is_ours(channel, bot_user_id, purpose)
            ),
            None,
        )

    def bot_user_id(self) -> str:
        """The bot's own user id, the ``creator`` of the channels it makes; asked once."""
        if self._bot_user_id is None:
            self._bot_user_id = self.scopes()[0]["user_id"]
        return self._bot_user_id

    def _create_channel(self, name: str, purpose: str) -> dict[str, Any] | None:
        """Create the public channel ``name``; None when the name is taken by one not ours.

        Taken after an attempt that may have reached Slack, the name may be our own channel,
        made before the answer was lost: it is looked up rather than skipped."""
        unsure = False

        def attempt() -> dict[str, Any] | None:
            nonlocal unsure
            try:
                return self.client.conversations_create(name=name, is_private=False)["channel"]
            except Exception as exc:  # noqa: BLE001 - only noting whether Slack may have acted
                taken = isinstance(exc, SlackApiError) and exc.response.get("error") == "name_taken"
                if not taken:
                    unsure = unsure or _may_have_reached_slack(exc)
                    raise
            return self.find_channel([name], purpose) if unsure else None

        return self.call("conversations.create", attempt)

    def _with_purpose(self, channel: dict[str, Any], purpose: str) -> Channel:
        """Set the purpose that tells this channel from others of the name, unless it is set."""
        if purpose not in ((channel.get("purpose") or {}).get("value") or ""):
            self.call(
                "conversations.setPurpose",
                lambda: self.client.conversations_setPurpose(
                    channel=channel["id"], purpose=purpose
                ),
            )
        return Channel(channel["id"], channel["name"])

    def _live_public_channels(self) -> Iterator[dict[str, Any]]:
        """Every unarchived public channel, page by page: the ones the bot makes are public."""
        cursor = None
        while True:
            answer = self.call(
                "conversations.list",
                lambda c=cursor: self.client.conversations_list(
                    types="public_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=c,
                ),
            )
            yield from answer["channels"]
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def channel_exists(self, channel_id: str) -> bool:
        try:
            answer = self.call(
                "conversations.info", lambda: self.client.conversations_info(channel=channel_id)
            )
        except Permanent as exc:
            if "channel_not_found" in exc.reason:
                return False
            raise
        return not answer["channel"].get("is_archived", False)

    def user_id(self, email: str) -> str | None:
        """The Slack user with this email, or None when the workspace has nobody by it."""

        def lookup() -> str | None:
            try:
                return self.client.users_lookupByEmail(email=email)["user"]["id"]
            except SlackApiError as exc:
                if exc.response.get("error") == "users_not_found":
                    return None
                raise

        return self._people.get(email.lower(), lambda: self.call("users.lookupByEmail", lookup))

    def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite people; those already in the channel (or the bot itself) are fine."""
        benign = {"already_in_channel", "cant_invite_self"}

        def invite_chunk(chunk: list[str]) -> None:
            try:
                self.client.conversations_invite(channel=channel_id, users=chunk, force=True)
            except SlackApiError as exc:
                errors = exc.response.get("errors") or [{"error": exc.response.get("error")}]
                if not all(e.get("error") in benign for e in errors):
                    raise

        for start in range(0, len(user_ids), INVITE_CHUNK):
            chunk = user_ids[start : start + INVITE_CHUNK]
            self.call("conversations.invite", lambda c=chunk: invite_chunk(c))

    def post_once(self, channel: str, text: str, marker: str, recovering: bool) -> str:
        """Post unless a message tagged ``marker`` is there already: looked for when a previous
        run may have posted before dying, and before retrying an attempt whose answer was lost
        (a 5xx or a dropped connection can come after Slack took the message)."""
        if recovering and (ts := self.find_message(channel, marker)):
            return ts
        # Message metadata: what find_message looks for.
        tag = {"event_type": MARKER_EVENT, "event_payload": {"key": marker}}
        unsure = False

        def attempt() -> str:
            nonlocal unsure
            if unsure and (ts := self.find_message(channel, marker)):
                return ts
            try:
                answer = self.client.chat_postMessage(channel=channel, text=text, metadata=tag)
                return answer["ts"]
            except Exception as exc:  # noqa: BLE001 - only noting whether Slack may have posted
                unsure = _may_have_reached_slack(exc)
                raise

        return self.call("chat.postMessage", attempt)

    def dm(self, email: str) -> str | None:
        """The bot's direct-message channel with the person at ``email`` (None: nobody by it)."""
        user = self.user_id(email)
        if user is None:
            return None
        answer = self.call(
            "conversations.open", lambda: self.client.conversations_open(users=[user])
        )
        return answer["channel"]["id"]

    def find_message(self, channel: str, marker: str, depth: int = 100) -> str | None:
        """The ts of a recent message we tagged with ``marker`` (to not post it twice)."""
        answer = self.call(
            "conversations.history",
            lambda: self.client.conversations_history(
                channel=channel, limit=depth, include_all_metadata=True
            ),
        )
        for message in answer["messages"]:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == MARKER_EVENT and (
                (metadata.get("event_payload") or {}).get("key") == marker
            ):
                return message["ts"]
        return None

    def scopes(self) -> tuple[dict[str, Any], set[str]]:
        """auth.test's answer and the token's scopes (from the x-oauth-scopes header)."""
        answer = self.call("auth.test", lambda: self.client.auth_test())
        header = answer.headers.get("x-oauth-scopes") or answer.headers.get("X-OAuth-Scopes") or ""
        return answer.data, {s.strip() for s in header.split(",") if s.strip()}
