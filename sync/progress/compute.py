"""An onboarding's progress, computed from its mirrored tasks: pure, so it is easy to trust.

Rules (the README's "Progress" section says the same):
- tasks archived or trashed in Notion do not count; tasks a CSM added in Notion do;
- progress = required tasks done / required tasks;
- the next task is the open task due first; overdue = open tasks past their due date;
- the phase is the next open required task's phase (the last phase once all are done);
- status: completed when every required task is done; overdue when an open required task is
  past due by more than the escalation threshold in business days; at risk when one is past due
  at all; otherwise on track. Cancelled and churned onboardings keep their status.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sync.lifecycle.reasons import ENDED
from sync.onboarding.calendar import WorkingCalendar

DONE = "Done"
MONDAY_TO_FRIDAY = WorkingCalendar()


@dataclass(frozen=True)
class TaskState:
    """What progress needs of one task."""

    title: str
    phase: str
    due: date
    status: str
    required: bool
    flags: Collection[str]
    done_on: date | None
    position: int = 0

    @property
    def done(self) -> bool:
        return self.status == DONE


@dataclass(frozen=True)
class Progress:
    status: str
    percent: int
    required_done: int
    required_total: int
    phase: str
    next_task: str
    next_task_due: date | None
    overdue: int
    setup_form_on: date | None
    first_value_on: date | None
    go_live_on: date | None
    completed_on: date | None

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}

    def milestones(self) -> dict[str, date]:
        """Milestones reached, with their dates: what the email sequence and channel hear of."""
        reached = {
            "setup_form": self.setup_form_on,
            "first_value": self.first_value_on,
            "go_live": self.go_live_on,
            "completed": self.completed_on,
        }
        return {name: day for name, day in reached.items() if day is not None}


def compute(
    tasks: Sequence[TaskState],
    today: date,
    escalate_after: int = 2,
    ended: str | None = None,
    calendar: WorkingCalendar = MONDAY_TO_FRIDAY,
) -> Progress:
    """Progress of live tasks as of ``today`` (archived ones are left out by the caller)."""
    required = [t for t in tasks if t.required]
    done = [t for t in required if t.done]
    open_tasks = sorted((t for t in tasks if not t.done), key=lambda t: (t.due, t.position))
    open_required = [t for t in open_tasks if t.required]
    late = [t for t in open_tasks if t.due < today]
    worst = max(
        (calendar.business_days_between(t.due, today) for t in open_required if t.due < today),
        default=0,
    )
    completed_on = max((t.done_on for t in done if t.done_on), default=None)
    complete = bool(required) and len(done) == len(required)
    if ended in ENDED:
        status = ended
    elif complete:
        status = "completed"
    elif worst > escalate_after:
        status = "overdue"
    elif worst > 0:
        status = "at_risk"
    else:
        status = "on_track"
    phase_from = open_required[0] if open_required else (required[-1] if required else None)
    return Progress(
        status=status,
        percent=round(100 * len(done) / len(required)) if required else 0,
        required_done=len(done),
        required_total=len(required),
        phase=phase_from.phase if phase_from else "",
        next_task=open_tasks[0].title if open_tasks else "",
        next_task_due=open_tasks[0].due if open_tasks else None,
        overdue=len(late),
        setup_form_on=_done_on(tasks, "setup_form"),
        first_value_on=_done_on(tasks, "first_value"),
        go_live_on=_done_on(tasks, "go_live"),
        completed_on=completed_on if complete else None,
    )


def _done_on(tasks: Sequence[TaskState], flag: str) -> date | None:
    return next((t.done_on for t in tasks if flag in t.flags and t.done and t.done_on), None)
