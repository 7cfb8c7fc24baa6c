"""triggers.yaml: which deal stages start or cancel an onboarding, and what counts as a churn."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sync.mappings.base import HUBSPOT_NAME_PATTERN, Strict


class Trigger(Strict):
    """Stages of one pipeline that start (or cancel) an onboarding."""

    pipeline: str = Field(min_length=1)
    stages: list[str] = Field(min_length=1)


class ChurnRule(Strict):
    """A deal or company property value that says the customer has left."""

    object: Literal["deal", "company"]
    property: str = Field(pattern=HUBSPOT_NAME_PATTERN)
    values: list[str] = Field(min_length=1)


class Triggers(Strict):
    """Which deal stage changes start an onboarding, which cancel one, and what is a churn."""

    start: list[Trigger] = Field(min_length=1)
    cancel: list[Trigger] = []
    churn: list[ChurnRule] = []
    early_churn_days: int = Field(default=90, ge=1)

    def starts(self, pipeline: str, stage: str) -> bool:
        """True when a deal entering this stage must start its onboarding."""
        return _listed(self.start, pipeline, stage)

    def cancels(self, pipeline: str, stage: str) -> bool:
        """True when a deal entering this stage must cancel its onboarding."""
        return _listed(self.cancel, pipeline, stage)

    def churns(self, object: str, property: str, value: str | None) -> bool:
        """True when this property value (compared exactly, as HubSpot sends it) is a churn."""
        return any(
            r.object == object and r.property == property and value in r.values for r in self.churn
        )


def _listed(triggers: list[Trigger], pipeline: str, stage: str) -> bool:
    """Whether any trigger names this pipeline and stage."""
    return any(t.pipeline == pipeline and stage in t.stages for t in triggers)
