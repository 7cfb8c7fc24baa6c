"""The onboarding's pages in Notion: its project, and a page per task (kickoff and signals)."""

from __future__ import annotations

from typing import Any

from sync.onboarding import notion_schema
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import NOTION_PROJECT, generation
from sync.onboarding.templating import deal_url, extra_properties
from sync.store.models import OnboardingTask


def ensure_project(run: OnboardingRun, number: int = 1) -> str:
    """The onboarding's Notion project page, made once per generation; returns its id."""
    services, onboarding = run.services, run.onboarding
    notion = services.notion
    projects, _ = services.notion_sources

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
    _, tasks = services.notion_sources
    key = notion_schema.task_key(onboarding.deal_id, task.key)
    if recovering and (found := services.notion.find_by_text(tasks, notion_schema.TASK_ID, key)):
        return found["id"]
    props = notion_schema.task_properties(
        task, key, project_id or "", deal_url(services, onboarding)
    )
    if project_id is None:
        del props[notion_schema.PROJECT]
    return services.notion.create_page(tasks, props | (extra or {}))["id"]
