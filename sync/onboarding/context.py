"""What the kickoff learnt about the customer, typed: records, contacts, roles, links.

Stored as JSON on ``Onboarding.context`` and read only through ``OnboardingContext.of``, so
no caller digs into nested dicts with guards of its own. External ids (the project page,
the channel) are not kept here: the ledger holds them (``Ledger.current_ids``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sync.store.models import Onboarding


@dataclass(frozen=True)
class Person:
    """Who plays a role (CSM, AE, the customer's champion...) in this onboarding."""

    label: str = ""
    name: str = ""
    email: str | None = None


@dataclass(frozen=True)
class Links:
    """Where people find the onboarding's things (URLs; the ids live in the ledger)."""

    project_url: str = ""
    channel_name: str = ""
    channel_url: str = ""


@dataclass(frozen=True)
class OnboardingContext:
    """The CRM as read at kickoff, and the links made since."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # deal, company, contact
    contacts: list[dict[str, Any]] = field(default_factory=list)  # every associated contact
    roles: dict[str, Person] = field(default_factory=dict)
    portal_id: str | None = None
    links: Links = Links()

    @classmethod
    def of(cls, onboarding: Onboarding) -> OnboardingContext:
        return cls.from_json(onboarding.context or {})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OnboardingContext:
        link_names = {f.name for f in fields(Links)}
        portal = data.get("portal_id")
        return cls(
            records=data.get("records") or {},
            contacts=list(data.get("contacts") or []),
            roles={key: Person(**person) for key, person in (data.get("roles") or {}).items()},
            portal_id=None if portal in (None, "") else str(portal),
            links=Links(**{k: v for k, v in (data.get("links") or {}).items() if k in link_names}),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def email_of(self, role: str) -> str | None:
        """The email of whoever plays ``role``, if anyone does."""
        person = self.roles.get(role)
        return person.email if person else None

    @property
    def company_domain(self) -> str:
        return str(self.records.get("company", {}).get("domain") or "").lower()

    @property
    def emailed_contacts(self) -> list[dict[str, Any]]:
        """Contacts with an email address: the people the sequence and milestones speak to."""
        return [contact for contact in self.contacts if contact.get("email")]

    def with_links(self, **links: str) -> OnboardingContext:
        return replace(self, links=replace(self.links, **links))
