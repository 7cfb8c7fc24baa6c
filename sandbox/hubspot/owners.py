"""Owners, the HubSpot users who can own records: the owners API and seeding them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import command, iso_millis
from sandbox.hubspot.account import TOKEN_USER_ID
from sandbox.hubspot.api import ApiError, api_handler


class Owners:
    """The account's owners, found by owner id, user id or email."""

    _owners: dict[str, dict[str, Any]]
    _owner_ids: Iterator[int]
    _user_ids: Iterator[int]

    def _reset_owners(self) -> None:
        self._owner_ids = itertools.count(52550153)
        self._user_ids = itertools.count(TOKEN_USER_ID)
        self._owners = {}

    @api_handler
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

    @api_handler
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
