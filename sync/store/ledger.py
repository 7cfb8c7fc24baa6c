"""The side-effect ledger: each external step is written before its call and closed after it.

A step found ``started`` (or failed) on a later run may have reached the service before the
process died, so its action is told it is *recovering* and must look before it creates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select

from connectors.errors import ConnectorError, Permanent
from sync.store.db import Store
from sync.store.models import LedgerStep, utcnow


class Ledger:
    """The steps of one onboarding."""

    def __init__(
        self, store: Store, onboarding_id: int, on_step: Callable[[], None] = lambda: None
    ) -> None:
        self.store = store
        self.onboarding_id = onboarding_id
        self.on_step = on_step  # e.g. extend the job's lease between steps

    def run(self, name: str, service: str, action: Callable[[bool], str | None]) -> str | None:
        """Run ``action(recovering)`` once; a step already done returns its recorded id."""
        self.on_step()
        with self.store.session() as session:
            step = self._get(session, name)
            if step is not None and step.status == "done":
                return step.external_id
            recovering = step is not None
            if step is None:
                step = LedgerStep(onboarding_id=self.onboarding_id, name=name, service=service)
                session.add(step)
            step.status, step.attempts, step.started_at = (
                "started",
                (step.attempts or 0) + 1,
                utcnow(),
            )
        try:
            external_id = action(recovering)
        except ConnectorError as exc:
            self._close(
                name, "failed" if isinstance(exc, Permanent) else "retrying", error=exc.reason
            )
            raise
        self._close(name, "done", external_id=external_id)
        return external_id

    def current(self, name: str) -> tuple[int, str | None]:
        """(generation, id) of the newest done step of ``name`` or its repairs (``name#2``...);
        (0, None) when there is none."""
        with self.store.session() as session:
            steps = session.execute(
                select(LedgerStep.name, LedgerStep.external_id).where(
                    LedgerStep.onboarding_id == self.onboarding_id,
                    LedgerStep.status == "done",
                    generations_of(name),
                )
            )
            return max(((_generation(n), ext) for n, ext in steps), default=(0, None))

    def external_id(self, name: str) -> str | None:
        with self.store.session() as session:
            step = self._get(session, name)
            return step.external_id if step is not None and step.status == "done" else None

    def _get(self, session, name: str) -> LedgerStep | None:  # type: ignore[no-untyped-def]
        return session.scalar(
            select(LedgerStep).where(
                LedgerStep.onboarding_id == self.onboarding_id, LedgerStep.name == name
            )
        )

    def _close(
        self, name: str, status: str, *, external_id: str | None = None, error: str | None = None
    ) -> None:
        with self.store.session() as session:
            step = self._get(session, name)
            assert step is not None
            step.status, step.error, step.finished_at = status, error, utcnow()
            if external_id is not None:
                step.external_id = external_id


def generations_of(name: str) -> Any:
    """Matches a step and its repair generations (`notion.project`, `notion.project#2`)."""
    return or_(LedgerStep.name == name, LedgerStep.name.like(f"{name}#%"))


def _generation(name: str) -> int:
    _, _, number = name.partition("#")
    return int(number) if number.isdigit() else 1
