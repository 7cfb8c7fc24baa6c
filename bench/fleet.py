"""Many running onboardings at once, seeded directly (no kickoffs): for scale tests and benchmarks.

Each gets a HubSpot deal and company, a Notion project page and task pages made as the
integration would make them, and the store rows a kickoff would leave behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from connectors.notion import property_value
from sandbox.server import Sandbox
from sync.onboarding import notion_schema as schema
from sync.services import Services
from sync.store.models import LedgerStep, Onboarding, OnboardingTask

PLAYBOOK = "mid_market"


@dataclass(frozen=True)
class Fleet:
    deal_ids: list[str]
    task_pages: list[list[str]]  # per onboarding, its task page ids in plan order


def seed_fleet(box: Sandbox, services: Services, count: int, tasks_per: int = 20) -> Fleet:
    """``count`` onboardings of ``tasks_per`` open tasks each, due one per business week."""
    projects_ds, tasks_ds = services.notion_sources
    phase = services.mappings.playbook(PLAYBOOK).phases[0].key
    won = datetime.now(UTC) - timedelta(days=1)
    start = won.date()
    deal_ids, project_ids, task_pages, onboardings, tasks, steps = [], [], [], [], [], []
    for n in range(count):
        company = box.hubspot.seed_company({"name": f"Fleet {n}"})
        deal = box.hubspot.seed_deal(
            {"dealname": f"Fleet {n}", "dealstage": "closedwon", "pipeline": "default"},
            company_ids=[company["id"]],
        )
        project = box.notion.seed_page(
            projects_ds,
            {
                schema.TITLE: property_value("title", f"Fleet {n} onboarding"),
                schema.DEAL_ID: property_value("rich_text", deal["id"]),
            },
        )
        pages = [
            box.notion.seed_page(
                tasks_ds,
                {
                    schema.TITLE: property_value("title", f"Task {t}"),
                    schema.TASK_ID: property_value("rich_text", f"{deal['id']}:t{t}"),
                    schema.DEAL_ID: property_value("rich_text", deal["id"]),
                    schema.PROJECT: property_value("relation", [project["id"]]),
                    schema.STATUS: property_value("status", schema.TASK_STATUSES[0]),
                    schema.DUE: property_value("date", _due(start, t)),
                },
            )["id"]
            for t in range(tasks_per)
        ]
        deal_ids.append(deal["id"])
        project_ids.append(project["id"])
        task_pages.append(pages)
        onboardings.append(
            {
                "deal_id": deal["id"],
                "company_id": company["id"],
                "company_name": f"Fleet {n}",
                "status": "active",
                "segment": "mid_market",
                "playbook": PLAYBOOK,
                "locale": "en",
                "won_at": won,
                "context": {"records": {}, "contacts": [], "roles": {}},
            }
        )
    with services.store.session() as session:
        ids = session.scalars(insert(Onboarding).returning(Onboarding.id), onboardings).all()
        for onboarding_id, pages in zip(ids, task_pages, strict=True):
            tasks += [
                {
                    "onboarding_id": onboarding_id,
                    "key": f"t{t}",
                    "position": t,
                    "title": f"Task {t}",
                    "phase": phase,
                    "owner_role": "csm",
                    "due_date": _due(start, t),
                    "required": True,
                    "flags": [],
                    "notion_page_id": page,
                }
                for t, page in enumerate(pages)
            ]
        for onboarding_id, project_id in zip(ids, project_ids, strict=True):
            steps.append(
                {
                    "onboarding_id": onboarding_id,
                    "name": "notion.project",
                    "service": "notion",
                    "status": "done",
                    "external_id": project_id,
                }
            )
        session.execute(insert(OnboardingTask), tasks)
        session.execute(insert(LedgerStep), steps)
    return Fleet(deal_ids, task_pages)


def _due(start: date, task: int) -> date:
    return start + timedelta(days=7 * (task + 1))
