"""Validates a parsed file against its schema and explains each error in an admin's words."""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sync.mappings.base import PATTERN_WORDS, Model
from sync.mappings.source import KeyPath, Source


def validate(source: Source, model: type[Model], errors: list[str]) -> Model | None:
    """The file's data as model, or None with every schema problem added to errors."""
    try:
        return model.model_validate(source.data if source.data is not None else {})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = tuple(error["loc"])
            errors.append(source.problem(path, _describe(error, model, path)))
        return None


def _describe(error: Any, model: type[BaseModel], path: KeyPath) -> str:
    """Pydantic's error in words an admin can act on."""
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        return f"unknown key {path[-1]!r} ({hint})"
    if kind in ("literal_error", "enum"):
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"{given!r} is not one of {expected}"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return f"{given!r}: {PATTERN_WORDS[error['ctx']['pattern']]}"
    return f"{error['msg']} (got {given!r})"


def _allowed_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys the schema accepts at path, for a did-you-mean hint."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if part not in fields:
                return []
            annotation = fields[part].annotation
        else:  # a list item or a dict value
            annotation = get_args(annotation)[-1]
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(arg for arg in get_args(annotation) if arg is not type(None))
    return annotation
