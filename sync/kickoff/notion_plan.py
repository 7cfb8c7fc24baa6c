"""The kickoff in Notion: the project page, then a page per planned task."""

from __future__ import annotations

from sync.onboarding.notion_pages import ensure_project, task_page
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import notion_task
from sync.onboarding.templating import extra_properties, task_fields
from sync.store.models import OnboardingTask


def create_notion_plan(run: OnboardingRun) -> None:
    services, onboarding = run.services, run.onboarding
    project_id = ensure_project(run)
    playbook = services.mappings.playbook(onboarding.playbook or "")
    for task in (t for t in onboarding.tasks if not t.added_in_notion):
        task_context = {**run.context, "task": task_fields(task, playbook.phase_label(task.phase))}
        extra = extra_properties(services.mappings.fields.notion.task, task_context)
        page_id = run.ledger.run(
            notion_task(task.key),
            "notion",
            lambda recovering, task=task, extra=extra: task_page(
                run, task, project_id, recovering, extra
            ),
        )
        if task.notion_page_id != page_id:
            with services.store.session() as session:
                row = session.get(OnboardingTask, task.id)
                assert row is not None
                row.notion_page_id = task.notion_page_id = page_id
