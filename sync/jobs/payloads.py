"""The typed payload of each job kind: what the router or a pass hands to the worker.

Each payload knows its job kind and its key (one job per kind and key: the exactly-once
rule), and is stored as JSON in the job row; unknown keys in an older row are ignored.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

KEY_LENGTH = 128  # the jobs.key column


@dataclass(frozen=True)
class JobPayload:
    """Common to every payload: the deal it concerns, and its (de)serialisation."""

    kind: ClassVar[str]
    deal_id: str

    @property
    def key(self) -> str:
        return self.deal_id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in data.items() if name in names})


def moment(occurred_at_ms: int | None, default: datetime) -> datetime:
    """When the change happened in HubSpot (the job may run much later); ``default`` if unknown."""
    if occurred_at_ms is None:
        return default
    return datetime.fromtimestamp(int(occurred_at_ms) / 1000, UTC)


@dataclass(frozen=True)
class KickoffJob(JobPayload):
    """Start the onboarding of a won deal: one per deal, ever."""

    kind: ClassVar[str] = "kickoff"
    stage: str = ""
    occurred_at_ms: int | None = None
    portal_id: str | None = None
    source: str = "webhook"  # or catch-up


@dataclass(frozen=True)
class EndJob(JobPayload):
    """Check and record the end of an onboarding: the deal lost or deleted, the customer churned."""

    kind: ClassVar[str] = "end"
    reason: str = ""  # lost | deleted | churned
    occurred_at_ms: int | None = None
    object: str = "deal"  # whose property said so: deal or company
    object_id: str = ""
    property: str | None = None

    @builtins.property  # the field above shadows the builtin in this class body
    def key(self) -> str:
        # The event's time is in the key: a deal moved back and lost again is a new end.
        return f"{self.deal_id}:{self.reason}:{self.occurred_at_ms}"[:KEY_LENGTH]


@dataclass(frozen=True)
class HoldJob(JobPayload):
    """Put an onboarding on hold or take it off, as the deal's status property says now."""

    kind: ClassVar[str] = "hold"
    occurred_at_ms: int | None = None
    reason: str = "hold"  # kept in the row, so a downgrade can tell hold checks from ends

    @property
    def key(self) -> str:
        return f"{self.deal_id}:hold:{self.occurred_at_ms}"[:KEY_LENGTH]


@dataclass(frozen=True)
class MilestoneJob(JobPayload):
    """Announce a milestone reached (Customer.io event, a note in the channel), once."""

    kind: ClassVar[str] = "milestone"
    milestone: str = ""
    on: str = ""  # the ISO date it was reached

    @property
    def key(self) -> str:
        return f"{self.deal_id}:{self.milestone}"


@dataclass(frozen=True)
class MergeJob(JobPayload):
    """Follow a deal merged into another: its onboarding moves to the surviving deal."""

    kind: ClassVar[str] = "merge"
    survivor_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.deal_id}:{self.survivor_id}"


PAYLOADS: dict[str, type[JobPayload]] = {
    payload.kind: payload for payload in (KickoffJob, EndJob, HoldJob, MilestoneJob, MergeJob)
}
