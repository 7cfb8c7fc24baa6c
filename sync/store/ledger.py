"""The side-effect ledger: each external step is written before its call and closed after it.

A step found ``started`` (or failed) on a later run may have reached the service before the
process died, so its action is told it is *recovering* and must look before it creates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
        found = current_steps(self.store, [self.onboarding_id], [name])
        return found.get(self.onboarding_id, {}).get(name, (0, None))

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


def current_steps(
    store: Store, onboarding_ids: Iterable[int], names: Iterable[str]
) -> dict[int, dict[str, tuple[int, str | None]]]:
    """For many onboardings at once: step name -> (generation, external id) of its newest done
    generation. The one way to ask where an onboarding's project or channel is now."""
    ids, names = list(onboarding_ids), list(names)
    if not ids or not names:
        return {}
    query = select(LedgerStep.onboarding_id, LedgerStep.name, LedgerStep.external_id).where(
        LedgerStep.onboarding_id.in_(ids),
        LedgerStep.status == "done",
        or_(*(generations_of(name) for name in names)),
    )
    found: dict[int, dict[str, tuple[int, str | None]]] = {}
    with store.session() as session:
        for onboarding_id, step, external_id in session.execute(query):
            base, number = step.partition("#")[0], _generation(step)
            known = found.setdefault(onboarding_id, {})
            if number > known.get(base, (0, None))[0]:
                known[base] = (number, external_id)
    return found


def current_ids(store: Store, onboarding_ids: Iterable[int], name: str) -> dict[int, str]:
    """Onboarding id -> the external id of the newest done generation of step ``name``."""
    found = current_steps(store, onboarding_ids, [name])
    return {key: steps[name][1] for key, steps in found.items() if steps[name][1]}


def generations_of(name: str) -> Any:
    """Matches a step and its repair generations (`notion.project`, `notion.project#2`)."""
    return or_(LedgerStep.name == name, LedgerStep.name.like(f"{name}#%"))


def _generation(name: str) -> int:
    _, _, number = name.partition("#")
    return int(number) if number.isdigit() else 1
