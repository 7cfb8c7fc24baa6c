"""What every mapping file's schema shares: the strict base model, the error and the patterns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

OBJECTS = ("deal", "company", "contact")
FIELD_PATTERN = r"^(deal|company|contact)\.\w+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
HUBSPOT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PATTERN_WORDS = {
    FIELD_PATTERN: "use deal.<property>, company.<property> or contact.<property>",
    EMAIL_PATTERN: "not an email address",
    HUBSPOT_NAME_PATTERN: "a HubSpot property name is lowercase letters, digits and _",
}

Records = Mapping[str, Mapping[str, str | None]]
Model = TypeVar("Model", bound=BaseModel)


class MappingError(Exception):
    """The mapping files are unusable; `.errors` lists every problem as `file:line: key: what`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{count} in the mapping files:\n" + "\n".join(errors))


class Strict(BaseModel):
    """Base for every file's models: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
