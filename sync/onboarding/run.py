"""One pass over an onboarding's side effects: its ledger, and its template context built once."""

from __future__ import annotations

from collections.abc import Callable
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from sync.onboarding.context import OnboardingContext
from sync.onboarding.templating import template_context
from sync.services import Services
from sync.store.ledger import Ledger
from sync.store.models import Onboarding


@dataclass
class OnboardingRun:
    """What the kickoff, a repair or a signal needs to act on one onboarding."""

    services: Services
    onboarding: Onboarding
    ledger: Ledger
    context: dict[str, Any]  # for templates; kept current as links are made
    # The fan-out's threads remember links at once: each read-modify-write of the context
    # must not overwrite another's (a lost project URL would leave the summary unposted).
    _remembering: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(
        cls,
        services: Services,
        onboarding: Onboarding,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> OnboardingRun:
        ledger = Ledger(services.store, onboarding.id, on_step=heartbeat)
        return cls(services, onboarding, ledger, template_context(services, onboarding))

    @property
    def facts(self) -> OnboardingContext:
        return OnboardingContext.of(self.onboarding)

    def remember(self, channel_id: str | None = None, **links: str) -> None:
        """Save new links (project_url, channel_name, channel_url) on the onboarding, and show
        them, and a new channel's id, to the templates rendered after this."""
        with self._remembering, self.services.store.session() as session:
            row = session.get(Onboarding, self.onboarding.id)
            assert row is not None
            row.context = OnboardingContext.from_json(row.context).with_links(**links).to_json()
            self.onboarding.context = row.context
        self.context["onboarding"].update(links)
        if channel_id is not None:
            self.context["onboarding"]["channel_id"] = channel_id


def load_onboarding(services: Services, deal_id: str) -> Onboarding | None:
    """The deal's onboarding with its tasks loaded (templates need them after the session)."""
    with services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
        if onboarding is not None:
            _ = list(onboarding.tasks)
        return onboarding
