"""roles.yaml: who owns a task, found on a HubSpot record, at a fixed address, or the customer."""

from __future__ import annotations

from pydantic import Field, model_validator

from sync.mappings.base import EMAIL_PATTERN, FIELD_PATTERN, Records, Strict


class Role(Strict):
    """Who owns a task: a HubSpot owner read from a record, a fixed address, or the customer."""

    label: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from", pattern=FIELD_PATTERN)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)
    customer: bool = False
    fallback_email: str | None = Field(default=None, pattern=EMAIL_PATTERN)

    @model_validator(mode="after")
    def _one_source(self) -> Role:
        sources = [self.from_ is not None, self.email is not None, self.customer]
        if sum(sources) != 1:
            raise ValueError("give exactly one of from, email or customer: true")
        if self.fallback_email and self.email:
            raise ValueError("fallback_email is for roles read with from, not fixed addresses")
        return self

    def owner_id(self, records: Records) -> str | None:
        """The HubSpot owner id this role reads from the deal's records, if it reads one."""
        if self.from_ is None:
            return None
        obj, prop = self.from_.split(".", 1)
        return (records.get(obj) or {}).get(prop) or None


class Roles(Strict):
    """roles.yaml: role key to how its person is found."""

    roles: dict[str, Role] = Field(min_length=1)
