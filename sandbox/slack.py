"""Emulator of the Slack Web API methods the onboarding bot calls, answered as slack_sdk expects.

Every API-level error is HTTP 200 with ``{"ok": false, "error": ...}``; only rate limits (429)
and injected faults use other statuses. Shapes follow Slack's published OpenAPI spec
(web-api/slack_web_openapi_v2_without_examples.json in https://github.com/slackapi/slack-api-specs),
corrected by the method pages (https://docs.slack.dev/reference/methods/) where it is incomplete.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Emulator, SlidingWindowLimit, TokenBucketLimit, command

TEAM_ID = "T0SANDBOX1"
TEAM_NAME = "Sandbox"
BOT_USER_ID = "U0SANDBOT1"
BOT_ID = "B0SANDBOT1"
OWNER_USER_ID = "U0SANDOWN1"
DEFAULT_TOKEN = "xoxb-sandbox"
# The bot scopes of the reference's app manifest, plus im:write: conversations.open (DM reminders)
# needs it and the manifest does not list it yet.
MANIFEST_SCOPES = (
    "channels:manage",
    "channels:read",
    "groups:write",
    "groups:read",
    "chat:write",
    "users:read",
    "users:read.email",
    "bookmarks:write",
    "commands",
)
# Plus im:write (conversations.open for DM reminders) and channels:history (the kickoff reads
# its own channel back to see whether a summary was posted before a crash); im:history is the
# same look-back in a DM (a reminder digest), which Slack guards with its own scope.
DEFAULT_SCOPES = (*MANIFEST_SCOPES, "im:write", "channels:history", "groups:history", "im:history")
TIER_PER_MINUTE = {2: 20, 3: 50, 4: 100}
TYPE_READ_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
NAME_MAX = 80
NAME_CHARS = set(string.ascii_lowercase + string.digits + "-_")
TEXT_MAX = 40_000
TOPIC_MAX = 250  # topic and purpose alike; UNCONFIRMED in the reference: over it, too_long.
BLOCKS_MAX = 50
BOOKMARKS_MAX = 100
INVITE_MAX = 1000
LIST_LIMIT_MAX = 1000
TRUE_VALUES = {"1", "true", "True", True}


class SlackError(Exception):
    """An API-level failure: Slack answers it with HTTP 200 and ok=false."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.payload = {"ok": False, "error": error, **extra}


@dataclass(frozen=True)
class Method:
    """One Web API method: its handler, rate-limit tier and the bot scopes it needs."""

    handler: str
    tier: int | None  # None: chat.postMessage's per-channel limit
    scopes: tuple[str, ...] = ()
    private_scopes: tuple[str, ...] | None = None  # needed instead on a private channel


MANAGE = ("channels:manage",)
PRIVATE_MANAGE = ("groups:write",)
METHODS = {
    "auth.test": Method("auth_test", 4),
    "conversations.create": Method("conversations_create", 2, MANAGE, PRIVATE_MANAGE),
    "conversations.invite": Method("conversations_invite", 3, MANAGE, PRIVATE_MANAGE),
    "conversations.list": Method("conversations_list", 2),  # scopes follow `types`
    "conversations.info": Method("conversations_info", 3, ("channels:read",), ("groups:read",)),
    "conversations.history": Method(
        "conversations_history", 3, ("channels:history",), ("groups:history",)
    ),
    "conversations.setTopic": Method("conversations_set_topic", 2, MANAGE, PRIVATE_MANAGE),
    "conversations.setPurpose": Method("conversations_set_purpose", 2, MANAGE, PRIVATE_MANAGE),
    "conversations.archive": Method("conversations_archive", 2, MANAGE, PRIVATE_MANAGE),
    "conversations.open": Method("conversations_open", 3, ("im:write",)),
    "users.lookupByEmail": Method("users_lookup_by_email", 3, ("users:read", "users:read.email")),
    "users.info": Method("users_info", 4, ("users:read",)),
    "chat.postMessage": Method("chat_post_message", None, ("chat:write",)),
    "bookmarks.add": Method("bookmarks_add", 2, ("bookmarks:write",)),
}


def _flag(value: Any) -> bool:
    return value in TRUE_VALUES


def _split(value: Any) -> list[str]:
    """A comma list as the SDK sends it (or a JSON list from other clients)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _required(args: dict[str, Any], *names: str) -> None:
    """Slack's answer to a missing argument: invalid_arguments with a readable message."""
    missing = [name for name in names if not args.get(name)]
    if missing:
        messages = [f"[ERROR] missing required field: {name}" for name in missing]
        raise SlackError("invalid_arguments", response_metadata={"messages": messages})


def _check_channel_name(name: str) -> None:
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    # UNCONFIRMED: Slack is said not to lower-case names on create; we reject upper case.
    if not set(name) <= NAME_CHARS:
        raise SlackError("invalid_name_specials")
    if not set(name) - set("-_"):
        raise SlackError("invalid_name_punctuation")


def _encode_cursor(channel_id: str) -> str:
    return base64.b64encode(f"next:{channel_id}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        kind, _, channel_id = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    if kind != "next" or not channel_id:
        raise SlackError("invalid_cursor")
    return channel_id


def _list_limit(value: Any) -> int:
    if value in (None, ""):
        return 100
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise SlackError("invalid_limit")
    return limit


def _parse_metadata(metadata: Any) -> dict[str, Any] | None:
    """Message metadata: {"event_type": ..., "event_payload": {...}}, as JSON or a JSON string."""
    if metadata in (None, ""):
        return None
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            raise SlackError("invalid_metadata_format") from None
    if not isinstance(metadata, dict) or not {"event_type", "event_payload"} <= set(metadata):
        raise SlackError("invalid_metadata_schema")
    return metadata


def _parse_blocks(blocks: Any) -> list[Any] | None:
    """Blocks arrive as a JSON array (JSON body) or a JSON string (form body)."""
    if blocks in (None, ""):
        return None
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            raise SlackError("invalid_blocks") from None
    if not isinstance(blocks, list) or len(blocks) > BLOCKS_MAX:
        raise SlackError("invalid_blocks")
    return blocks


class SlackEmulator(Emulator):
    """Channels, users, DMs, messages and bookmarks of one workspace, behind the Web API."""

    name = "slack"

    def reset_state(self) -> None:
        scale = self.rate_scale
        self._tiers = {
            tier: SlidingWindowLimit(limit=max(1, round(per_minute * scale)), window=60)
            for tier, per_minute in TIER_PER_MINUTE.items()
        }
        # About one message a second per channel, with a short burst.
        self._post_limit = TokenBucketLimit(rate=scale, burst=max(1.0, 3 * scale))
        self._tokens: dict[str, set[str]] = {DEFAULT_TOKEN: set(DEFAULT_SCOPES)}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: list[dict[str, Any]] = []
        self._last_ts_us = 0
        self._add_user(BOT_USER_ID, "onboarding-bot", "Onboarding Bot", None, is_bot=True)
        self._add_user(OWNER_USER_ID, "owner", "Workspace Owner", "owner@sandbox.example")

    def routes(self) -> Iterable[Rule]:
        return [Rule("/api/<method>", endpoint="dispatch")]

    # ----- request plumbing ------------------------------------------------------------
    @staticmethod
    def _args(request: Request) -> dict[str, Any]:
        """Query string, form body and JSON body merged, as Slack accepts any of them."""
        cached = request.environ.get("sandbox.slack.args")
        if cached is not None:
            return cached
        request.get_data(cache=True)  # keep the raw body for the call log
        args: dict[str, Any] = dict(request.args.items())
        args.update(request.form.items())
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                args.update(body)
        request.environ["sandbox.slack.args"] = args
        return args

    def _token(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :].strip() or None
        return self._args(request).get("token") or None

    @staticmethod
    def _method(request: Request) -> str:
        return request.path.rstrip("/").rsplit("/", 1)[-1]

    def authenticate(self, request: Request) -> Response | None:
        name = self._method(request)
        if name not in METHODS:
            return None
        token = self._token(request)
        if token is None:
            return self.json({"ok": False, "error": "not_authed"})
        scopes = self._tokens.get(token)
        if scopes is None:
            return self.json({"ok": False, "error": "invalid_auth"})
        with self.lock:
            needed = self._needed_scopes(name, self._args(request))
        missing = [scope for scope in needed if scope not in scopes]
        if missing:
            return self.json(
                {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": ",".join(missing),
                    "provided": ",".join(sorted(scopes)),
                },
                headers=self._scope_header(token),
            )
        return None

    def _needed_scopes(self, name: str, args: dict[str, Any]) -> tuple[str, ...]:
        if name == "conversations.list":
            types = _split(args.get("types")) or ["public_channel"]
            return tuple(TYPE_READ_SCOPES[t] for t in types if t in TYPE_READ_SCOPES)
        spec = METHODS[name]
        if name == "conversations.history" and self._targets_im(args):
            return ("im:history",)
        if spec.private_scopes is not None and self._targets_private(name, args):
            return spec.private_scopes
        return spec.scopes

    def _targets_private(self, name: str, args: dict[str, Any]) -> bool:
        if name == "conversations.create":
            return _flag(args.get("is_private"))
        channel = self._channels.get(str(args.get("channel") or ""))
        return bool(channel and channel.get("is_private"))

    def _targets_im(self, args: dict[str, Any]) -> bool:
        channel = self._channels.get(str(args.get("channel") or ""))
        return bool(channel and channel.get("is_im"))

    def _scope_header(self, token: str) -> dict[str, str]:
        """Slack reports the token's scopes on every answer; `flask doctor` reads them."""
        return {"x-oauth-scopes": ",".join(sorted(self._tokens.get(token, ())))}

    def limit_for(self, request: Request, endpoint: str) -> tuple[Any, str] | None:
        name = self._method(request)
        spec = METHODS.get(name)
        if spec is None:
            return None
        if spec.tier is None:
            with self.lock:
                channel = self._resolve(str(self._args(request).get("channel") or ""))
            return self._post_limit, channel["id"] if channel else "unknown"
        return self._tiers[spec.tier], f"{self._token(request)}:{name}"

    def error(self, status: int, code: str, message: str) -> Response:
        if code == "not_found":
            code = "unknown_method"  # UNCONFIRMED status: we answer unknown methods with 404.
        elif code == "injected_error":
            # Slack's common error for "a transient issue on our end" (every method page, e.g.
            # https://docs.slack.dev/reference/methods/chat.postMessage); body shape as always.
            code = "internal_error"
        return self.json({"ok": False, "error": code}, status)

    def rate_limited(self, retry_after: float, reason: str) -> Response:
        return self.json(
            {"ok": False, "error": "ratelimited"},
            429,
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )

    def dispatch(self, request: Request, method: str) -> Response:
        """Run one Web API method and wrap its answer in Slack's envelope."""
        spec = METHODS.get(method)
        if spec is None:
            return self.error(404, "not_found", method)
        token = self._token(request) or ""
        try:
            with self.lock:
                payload = {"ok": True, **getattr(self, spec.handler)(self._args(request))}
        except SlackError as exc:
            payload = exc.payload
        return self.json(payload, headers=self._scope_header(token))

    # ----- records ---------------------------------------------------------------------
    def _epoch(self) -> int:
        return int(self.now().timestamp())

    def _next_ts(self) -> str:
        """A message ts from the clock, unique even when the clock is frozen."""
        now_us = int(self.now().timestamp() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self.next_id():09d}"

    def _add_user(
        self, user_id: str, name: str, real_name: str, email: str | None, is_bot: bool = False
    ) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "avatar_hash": "",
            "title": "",
            "phone": "",
            "skype": "",
            "status_text": "",
            "status_emoji": "",
            "fields": {},
            "team": TEAM_ID,
        }
        if email:
            profile["email"] = email
        if is_bot:
            profile.update(bot_id=BOT_ID, always_active=False)
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": user_id == OWNER_USER_ID,
            "is_owner": user_id == OWNER_USER_ID,
            "tz": "Europe/Madrid",
            "updated": self._epoch(),
            "profile": profile,
        }
        self._users[user_id] = user
        return user

    def _add_channel(self, name: str, is_private: bool, creator: str) -> dict[str, Any]:
        created = self._epoch()
        channel = {
            "id": self._new_id("C"),
            "name": name,
            "is_private": is_private,
            "is_archived": False,
            "created": created,
            "creator": creator,
            "members": [creator],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "bookmarks": [],
        }
        self._channels[channel["id"]] = channel
        return channel

    def _resolve(self, ref: str) -> dict[str, Any] | None:
        """A conversation by id, or a channel by name with or without '#'."""
        if ref in self._channels:
            return self._channels[ref]
        name = ref.removeprefix("#")
        return next((c for c in self._channels.values() if c.get("name") == name), None)

    def _channel(self, ref: Any) -> dict[str, Any]:
        channel = self._resolve(str(ref or ""))
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            raise SlackError("channel_not_found")
        return channel

    def _writable(self, ref: Any) -> dict[str, Any]:
        """A conversation the bot may change: it exists, is live and the bot is in it."""
        channel = self._channel(ref)
        if channel.get("is_archived"):
            raise SlackError("is_archived")
        if BOT_USER_ID not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def _view(self, channel: dict[str, Any], num_members: bool = False) -> dict[str, Any]:
        """The conversation object Slack returns (channel or IM)."""
        if channel.get("is_im"):
            return {
                "id": channel["id"],
                "created": channel["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": channel["user"],
                "priority": 0,
                "is_open": True,
                "is_archived": False,
            }
        view = {
            key: channel[key]
            for key in ("id", "name", "is_private", "is_archived", "created", "creator")
        }
        view.update(
            is_channel=True,
            is_group=False,
            is_im=False,
            is_mpim=False,
            is_general=False,
            is_shared=False,
            is_org_shared=False,
            is_ext_shared=False,
            is_pending_ext_shared=False,
            unlinked=0,
            name_normalized=channel["name"],
            is_member=BOT_USER_ID in channel["members"],
            topic=dict(channel["topic"]),
            purpose=dict(channel["purpose"]),
            previous_names=[],
        )
        if num_members:
            view["num_members"] = len(channel["members"])
        return view

    def _open_im(self, user_id: str) -> tuple[dict[str, Any], bool]:
        """The bot's DM with a user, opened once; True when it already existed."""
        for channel in self._channels.values():
            if channel.get("is_im") and channel["user"] == user_id:
                return channel, True
        channel = {
            "id": self._new_id("D"),
            "is_im": True,
            "is_private": True,
            "user": user_id,
            "created": self._epoch(),
            "members": [BOT_USER_ID, user_id],
            "bookmarks": [],
        }
        self._channels[channel["id"]] = channel
        return channel, False

    # ----- Web API methods (called under self.lock with the merged args) ----------------
    def auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://sandbox.slack.com/",
            "team": TEAM_NAME,
            "user": self._users[BOT_USER_ID]["name"],
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        _check_channel_name(name)
        # Archived channels keep their name, so they are taken too.
        if any(c.get("name") == name for c in self._channels.values()):
            raise SlackError("name_taken")
        channel = self._add_channel(name, _flag(args.get("is_private")), BOT_USER_ID)
        return {"channel": self._view(channel)}

    def conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "channel")
        channel = self._writable(args["channel"])
        user_ids = _split(args.get("users"))
        if not user_ids:
            raise SlackError("no_user")
        if len(user_ids) > INVITE_MAX:
            raise SlackError("too_many_users")
        errors = [
            {"user": uid, "ok": False, "error": err}
            for uid in user_ids
            if (err := self._invite_refusal(channel, uid))
        ]
        refused = {e["user"] for e in errors}
        # The method page says one failed invite stops them all unless `force` is set.
        if errors and (not _flag(args.get("force")) or refused >= set(user_ids)):
            extra = {"errors": errors} if len(user_ids) > 1 else {}
            raise SlackError(errors[0]["error"], **extra)
        for uid in user_ids:
            if uid not in refused and uid not in channel["members"]:
                channel["members"].append(uid)
        # UNCONFIRMED: with force, we answer ok and still list the skipped users in `errors`.
        extra = {"errors": errors} if errors else {}
        return {"channel": self._view(channel), **extra}

    def _invite_refusal(self, channel: dict[str, Any], user_id: str) -> str | None:
        if user_id == BOT_USER_ID:
            return "cant_invite_self"
        if user_id not in self._users or self._users[user_id]["deleted"]:
            return "user_not_found"
        if user_id in channel["members"]:
            return "already_in_channel"
        return None

    def conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        limit = _list_limit(args.get("limit"))
        types = set(_split(args.get("types")) or ["public_channel"])
        exclude_archived = _flag(args.get("exclude_archived"))
        found = [
            c
            for c in self._channels.values()
            if self._listed_type(c) in types
            and not (exclude_archived and c.get("is_archived"))
            and not (c["is_private"] and BOT_USER_ID not in c["members"])
        ]
        start = 0
        if args.get("cursor"):
            after = _decode_cursor(str(args["cursor"]))
            ids = [c["id"] for c in found]
            if after not in ids:
                raise SlackError("invalid_cursor")
            start = ids.index(after)
        page = found[start : start + limit]
        rest = found[start + limit :]
        return {
            "channels": [self._view(c, num_members=True) for c in page],
            "response_metadata": {"next_cursor": _encode_cursor(rest[0]["id"]) if rest else ""},
        }

    @staticmethod
    def _listed_type(channel: dict[str, Any]) -> str:
        if channel.get("is_im"):
            return "im"
        return "private_channel" if channel["is_private"] else "public_channel"

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "channel")
        channel = self._channel(args["channel"])
        return {"channel": self._view(channel, _flag(args.get("include_num_members")))}

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first; message metadata only with include_all_metadata, as Slack does."""
        _required(args, "channel")
        channel = self._channel(args["channel"])
        limit = int(args.get("limit") or 100)
        with_metadata = _flag(args.get("include_all_metadata"))
        found = [m for m in reversed(self._messages) if m["channel"] == channel["id"]]
        messages = []
        for stored in found[:limit]:
            message = {k: v for k, v in stored.items() if k != "channel"}
            if not with_metadata:
                message.pop("metadata", None)
            messages.append(message)
        return {
            "messages": messages,
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def conversations_set_topic(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_text(args, "topic")

    def conversations_set_purpose(self, args: dict[str, Any]) -> dict[str, Any]:
        # The spec answers the channel; the method page's example only `purpose`, a string.
        return self._set_text(args, "purpose")

    def _set_text(self, args: dict[str, Any], field: str) -> dict[str, Any]:
        """setTopic and setPurpose: the argument is named like the channel's field it sets."""
        _required(args, "channel")
        channel = self._writable(args["channel"])
        value = str(args.get(field) or "")
        if len(value) > TOPIC_MAX:
            raise SlackError("too_long")
        channel[field] = {"value": value, "creator": BOT_USER_ID, "last_set": self._epoch()}
        return {"channel": self._view(channel)}

    def conversations_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "channel")
        channel = self._channel(args["channel"])
        if channel.get("is_im"):
            raise SlackError("method_not_supported_for_channel_type")
        if channel["is_archived"]:
            raise SlackError("already_archived")
        if BOT_USER_ID not in channel["members"]:
            raise SlackError("not_in_channel")
        channel["is_archived"] = True
        return {}

    def conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            im = self._channel(args["channel"])
            existed = True
        else:
            user_ids = _split(args.get("users"))
            if not user_ids:
                raise SlackError("users_list_not_supplied")
            if len(user_ids) > 1:
                raise SlackError("not_enough_users")  # group DMs are not emulated
            if user_ids[0] not in self._users:
                raise SlackError("user_not_found")
            im, existed = self._open_im(user_ids[0])
        view = self._view(im) if _flag(args.get("return_im")) else {"id": im["id"]}
        extra = {"no_op": True, "already_open": True} if existed else {}
        return {"channel": view, **extra}

    def users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "email")
        user = self._user_by_email(str(args["email"]))
        if user is None:
            raise SlackError("users_not_found")
        return {"user": user}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "user")
        user = self._users.get(str(args["user"]))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        ref = str(args.get("channel") or "")
        if ref in self._users:  # a user id posts to the bot's DM with that user
            ref = self._open_im(ref)[0]["id"]
        channel = self._writable(ref)
        text = str(args.get("text") or "")
        blocks = _parse_blocks(args.get("blocks"))
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        # UNCONFIRMED: the docs also speak of truncating long text; we refuse it so it shows.
        if len(text) > TEXT_MAX:
            raise SlackError("msg_too_long")
        message = {
            "type": "message",
            "text": text,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "ts": self._next_ts(),
        }
        if blocks:
            message["blocks"] = blocks
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        metadata = _parse_metadata(args.get("metadata"))
        if metadata:
            message["metadata"] = metadata
        self._messages.append({"channel": channel["id"], **message})
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def bookmarks_add(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "channel_id", "title", "type")
        channel = self._writable(args["channel_id"])
        if args["type"] != "link":
            raise SlackError("invalid_bookmark_type")
        link = str(args.get("link") or "")
        if not link.startswith(("http://", "https://")):
            raise SlackError("invalid_link")
        if len(channel["bookmarks"]) >= BOOKMARKS_MAX:
            raise SlackError("too_many_bookmarks")
        bookmark = {
            "id": self._new_id("Bk"),
            "channel_id": channel["id"],
            "title": str(args["title"]),
            "link": link,
            "emoji": args.get("emoji"),
            "icon_url": None,
            "type": "link",
            "entity_id": args.get("entity_id"),
            "date_created": self._epoch(),
            "date_updated": 0,
            "rank": string.ascii_lowercase[len(channel["bookmarks"]) % 26],
            "last_updated_by_user_id": BOT_USER_ID,
            "last_updated_by_team_id": TEAM_ID,
            "shortcut_id": None,
            "app_id": None,
        }
        channel["bookmarks"].append(bookmark)
        return {"bookmark": dict(bookmark)}

    # ----- seeding commands --------------------------------------------------------------
    @command
    def seed_user(
        self, email: str, real_name: str, id: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        """Add a workspace member the bot can look up by email and invite."""
        with self.lock:
            if self._user_by_email(email) is not None or (id and id in self._users):
                raise ValueError(f"a Slack user with email {email!r} or id {id!r} exists")
            user_id = id or self._new_id("U")
            name = email.split("@", 1)[0].lower()
            return copy.deepcopy(self._add_user(user_id, name, real_name, email, is_bot))

    @command
    def add_token(self, token: str, scopes: list[str] | str) -> dict[str, Any]:
        """Add a bot token with exactly these scopes (a list or a comma list)."""
        with self.lock:
            self._tokens[token] = set(_split(scopes))
            return {"token": token, "scopes": sorted(self._tokens[token])}

    @command
    def archive_channel_as_user(self, channel_id: str) -> dict[str, Any]:
        """A person archives a channel in the Slack client, behind the bot's back."""
        with self.lock:
            channel = self._channels.get(channel_id)
            if channel is None or channel.get("is_im"):
                raise LookupError(f"no Slack channel {channel_id!r}")
            channel["is_archived"] = True
            return self._view(channel)

    @command
    def seed_channel(
        self, name: str, is_private: bool = False, is_archived: bool = False
    ) -> dict[str, Any]:
        """A channel a person created before the bot came (the bot is not a member)."""
        with self.lock:
            try:
                _check_channel_name(name)
            except SlackError as exc:
                raise ValueError(f"bad Slack channel name {name!r}: {exc}") from None
            if self._resolve(name) is not None:
                raise ValueError(f"a Slack channel named {name!r} exists")
            channel = self._add_channel(name, is_private, OWNER_USER_ID)
            channel["is_archived"] = is_archived
            return self._view(channel, num_members=True)

    # ----- accessors for tests and the state page ------------------------------------------
    def channels(self) -> list[dict[str, Any]]:
        """Every channel (not DMs) with its members and bookmarks, as stored."""
        with self.lock:
            return [copy.deepcopy(c) for c in self._channels.values() if "name" in c]

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.channels() if c["name"] == name), None)

    def members(self, channel_id: str) -> list[str]:
        with self.lock:
            return list(self._channels[channel_id]["members"])

    def messages(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(m)
                for m in self._messages
                if channel_id is None or m["channel"] == channel_id
            ]

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        with self.lock:
            user = self._user_by_email(email)
            return copy.deepcopy(user)

    def _user_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        return next(
            (
                u
                for u in self._users.values()
                if (u["profile"].get("email") or "").lower() == wanted and not u["deleted"]
            ),
            None,
        )

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            texts: dict[str, list[str]] = {}
            for message in self._messages:
                texts.setdefault(message["channel"], []).append(message["text"])
            return {
                "channels": [
                    _channel_state(c, texts.get(c["id"], [])) for c in self._channels.values()
                ],
                "users": [
                    {
                        "id": u["id"],
                        "name": u["name"],
                        "email": u["profile"].get("email"),
                        "is_bot": u["is_bot"],
                    }
                    for u in self._users.values()
                ],
            }


def _channel_state(channel: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    """One conversation as the state page shows it."""
    return {
        "id": channel["id"],
        "name": channel.get("name") or f"DM with {channel['user']}",
        "is_private": channel["is_private"],
        "is_archived": channel.get("is_archived", False),
        "topic": channel.get("topic", {}).get("value", ""),
        "members": list(channel["members"]),
        "bookmarks": [{"title": b["title"], "link": b["link"]} for b in channel["bookmarks"]],
        "messages": texts,
    }
