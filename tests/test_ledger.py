"""The side-effect ledger: a done step runs once, a started one is told it is recovering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.errors import Permanent
from sync.store.ledger import Ledger, current_ids, current_steps
from sync.store.models import Onboarding


def test_ledger_runs_a_done_step_once_and_flags_recovery_of_a_started_one(store):
    with store.session() as session:
        onboarding = Onboarding(deal_id="42", won_at=datetime.now(UTC), context={})
        session.add(onboarding)
    ledger = Ledger(store, onboarding.id)
    seen = []
    assert ledger.run("notion.project", "notion", lambda r: seen.append(r) or "page-1") == "page-1"
    assert ledger.run("notion.project", "notion", lambda r: seen.append(r) or "page-2") == "page-1"
    assert seen == [False]

    def crash(recovering):
        raise KeyboardInterrupt  # stands for the process dying mid-call

    with pytest.raises(KeyboardInterrupt):
        ledger.run("slack.channel", "slack", crash)
    assert ledger.run("slack.channel", "slack", lambda r: seen.append(r) or "C1") == "C1"
    assert seen == [False, True]


def test_the_current_ids_of_many_onboardings_are_their_newest_repair_generations(store):
    with store.session() as session:
        first = Onboarding(deal_id="1", won_at=datetime.now(UTC), context={})
        second = Onboarding(deal_id="2", won_at=datetime.now(UTC), context={})
        session.add_all([first, second])
    Ledger(store, first.id).run("slack.channel", "slack", lambda r: "C1")
    Ledger(store, first.id).run("slack.channel#2", "slack", lambda r: "C1b")
    Ledger(store, first.id).run("notion.project", "notion", lambda r: "P1")
    Ledger(store, second.id).run("slack.channel", "slack", lambda r: "C2")
    with pytest.raises(Permanent):
        Ledger(store, second.id).run("slack.channel#2", "slack", refused)  # not done: not current
    steps = current_steps(store, [first.id, second.id], ["slack.channel", "notion.project"])
    assert steps == {
        first.id: {"slack.channel": (2, "C1b"), "notion.project": (1, "P1")},
        second.id: {"slack.channel": (1, "C2")},
    }
    assert current_ids(store, [first.id, second.id], "slack.channel") == {
        first.id: "C1b",
        second.id: "C2",
    }
    assert Ledger(store, second.id).current("notion.project") == (0, None)


def refused(recovering: bool) -> str:
    raise Permanent("slack", "name_taken")
