"""The onboarding's pages in Notion: its project, and a page per task (kickoff and signals)."""

from __future__ import annotations

from typing import Any

from connectors.errors import Permanent
from sync.onboarding import notion_schema
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import NOTION_PROJECT, generation
from sync.onboarding.templating import deal_url, extra_properties
from sync.services import Services
from sync.store.models import OnboardingTask


def data_sources(services: Services) -> tuple[str, str]:
    """The projects and tasks data sources."""
    notion, settings = services.notion, services.settings
    if not settings.notion_projects_database_id or not settings.notion_tasks_database_id:
        raise Permanent(
            "notion",
            "NOTION_PROJECTS_DATABASE_ID / NOTION_TASKS_DATABASE_ID not set"
            " (run `flask setup` to create the databases)",
        )
    return (
        notion.data_source_id(settings.notion_projects_database_id),
        notion.data_source_id(settings.notion_tasks_database_id),
    )


def ensure_project(run: OnboardingRun, number: int = 1) -> str:
    """The onboarding's Notion project page, made once per generation; returns its id."""
    services, onboarding = run.services, run.onboarding
    notion = services.notion
    projects, _ = data_sources(services)

    def create_project(recovering: bool) -> str:
        if recovering:
            found = notion.find_by_text(projects, notion_schema.DEAL_ID, onboarding.deal_id)
            if found:
                run.remember(project_url=found["url"])
                return found["id"]
        props = notion_schema.project_properties(onboarding, deal_url(services, onboarding))
        props |= extra_properties(services.mappings.fields.notion.project, run.context)
        page = notion.create_page(projects, props)
        run.remember(project_url=page["url"])
        return page["id"]

    project_id = run.ledger.run(generation(NOTION_PROJECT, number), "notion", create_project)
    assert project_id is not None
    return project_id


def task_page(
    run: OnboardingRun,
    task: OnboardingTask,
    project_id: str | None,
    recovering: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """The task's Notion page: found by its Task ID when an earlier attempt may have made it,
    else created (in the project, when there is one). For a ledger step's action."""
    services, onboarding = run.services, run.onboarding
    _, tasks = data_sources(services)
    key = notion_schema.task_key(onboarding.deal_id, task.key)
    if recovering and (found := services.notion.find_by_text(tasks, notion_schema.TASK_ID, key)):
        return found["id"]
    props = notion_schema.task_properties(
        task, key, project_id or "", deal_url(services, onboarding)
    )
    if project_id is None:
        del props[notion_schema.PROJECT]
    return services.notion.create_page(tasks, props | (extra or {}))["id"]
