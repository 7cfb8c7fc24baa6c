"""The open tasks a reminder pass may speak of, read with their onboardings in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select

from sync.lifecycle.reasons import PAUSED
from sync.progress.compute import DONE
from sync.services import Services
from sync.store.models import Onboarding, OnboardingTask

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class OpenTask:
    """What a reminder needs of one open task and its onboarding (one query reads them all)."""

    id: int
    key: str
    title: str
    due: date
    owner: str
    notion_page_id: str | None
    onboarding_id: int
    deal_id: str
    company: str
    playbook: str | None
    portal_id: str | None


def live_tasks() -> list[ColumnElement[bool]]:
    """Open tasks with an owner, of onboardings that still run."""
    return [
        Onboarding.status.not_in(PAUSED),
        Onboarding.ended_at.is_(None),
        Onboarding.completed_on.is_(None),
        OnboardingTask.status != DONE,
        OnboardingTask.archived.is_(False),
        OnboardingTask.owner_email.is_not(None),
    ]


def open_tasks(services: Services, now: datetime) -> list[OpenTask]:
    """Every open task that is due soon or late, with its onboarding's fields, in one query."""
    customer_roles = [key for key, role in services.mappings.roles.items() if role.customer]
    horizon = (now + ONE_DAY).date() + timedelta(days=8)  # "next working day" over a week off
    query = (
        select(
            OnboardingTask.id,
            OnboardingTask.key,
            OnboardingTask.title,
            OnboardingTask.due_date,
            OnboardingTask.owner_email,
            OnboardingTask.notion_page_id,
            Onboarding.id,
            Onboarding.deal_id,
            Onboarding.company_name,
            Onboarding.playbook,
            Onboarding.context["portal_id"].as_string(),
        )
        .join(Onboarding, OnboardingTask.onboarding_id == Onboarding.id)
        .where(
            *live_tasks(),
            OnboardingTask.owner_role.not_in(customer_roles),
            OnboardingTask.due_date <= horizon,
        )
    )
    with services.store.session() as session:
        rows = session.execute(query).all()
    return [
        OpenTask(id, key, title, due, owner.lower(), page, ob, deal, company or "", pb, portal)
        for id, key, title, due, owner, page, ob, deal, company, pb, portal in rows
    ]
