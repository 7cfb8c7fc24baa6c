"""playbooks/*.yaml: a segment's onboarding plan, its phases and its tasks with their flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sync.mappings.base import Strict
from sync.onboarding.calendar import DueOffset

Flag = Literal[
    "setup_form", "kickoff", "first_value", "go_live", "check_in", "customer_facing", "handoff"
]
# Playbook flags the engine relies on (milestones, TTFV, time to onboard): exactly one task each.
MILESTONE_FLAGS = ("setup_form", "kickoff", "first_value", "go_live")


class Phase(Strict):
    """A stage of the plan, used to group tasks in Notion and on reports."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)


class Task(Strict):
    """One step of the plan, with an owner role, a phase and a due offset from the win."""

    key: str = Field(min_length=1)
    title: str = Field(min_length=1)
    owner: str
    phase: str
    due_in: DueOffset
    required: bool = True
    flags: list[Flag] = []
    description: str = ""


class Playbook(Strict):
    """A segment's onboarding plan: phases and their tasks."""

    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)

    def task_with_flag(self, flag: Flag) -> Task | None:
        """The task carrying a milestone flag (the loader ensures at most one for milestones)."""
        return next((task for task in self.tasks if flag in task.flags), None)

    def phase_label(self, key: str) -> str:
        """A phase's label, for task properties and messages."""
        return next(phase.label for phase in self.phases if phase.key == key)
