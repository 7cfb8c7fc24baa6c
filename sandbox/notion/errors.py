"""Notion's refusals: the error carrying status and code, and the wording of its messages."""

from __future__ import annotations

import json
from typing import Any

UNDEFINED = object()  # what a missing field shows as in Notion's messages
EDITING_ARCHIVED = "Can't edit block that is archived. You must unarchive the block before editing."


class NotionError(ValueError):
    """A refusal that Notion answers with its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def refused(problem: str, *actual: Any) -> NotionError:
    """Notion's schema wording: ``body failed validation: <problem>, instead was `<actual>`.``"""
    message = f"body failed validation: {problem}"
    if actual:
        shown = "undefined" if actual[0] is UNDEFINED else json.dumps(actual[0])
        message += f", instead was `{shown}`"
    return invalid(message + ".")


def too_long(path: str, limit: int, actual: int) -> NotionError:
    return refused(f"{path} should be ≤ `{limit}`", actual)


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )
