"""Quiet customers: one pass turns activity, email and task signals into actions and a score.

Rules come from mappings/signals.yaml. Each running onboarding (status ``active``: not
cancelled, churned, completed or on hold) gets its facts (sync/signals/health.py), and:
- low activity creates one check-in task for the CSM in Notion and one Slack note, per week of
  the onboarding (``check_in:w<N>`` ledger steps: exactly once, however many passes run);
- each bounced email tells the CSM once (a ledger step per Customer.io event);
- no email opened for a while plus an overdue customer-facing task marks it at risk;
- the health score is stored, and written to HubSpot by the progress write-back, only when
  something it writes changed.
A signal source counts only when it is set up (ACTIVITY_API_KEY or a HubSpot activity
property; CUSTOMERIO_WEBHOOK_SIGNING_KEY), so a missing feed never reads as a quiet customer.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from connectors.errors import ConnectorError
from sync.onboarding import notion_schema as schema
from sync.onboarding.context import OnboardingContext
from sync.onboarding.notion_pages import task_page
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import NOTION_PROJECT, SLACK_CHANNEL, check_in
from sync.onboarding.steps import bounce as bounce_step
from sync.onboarding.templates import render, render_for_slack
from sync.progress.writeback import refresh
from sync.services import Services
from sync.signals.health import Facts, score
from sync.store.ledger import Ledger
from sync.store.models import Onboarding, OnboardingTask, SignalEvent

log = logging.getLogger(__name__)
LIVE = "active"
MEETING_FLAGS = ("kickoff", "check_in")
CHECK_IN_POSITION = 20_000  # after the plan's tasks and those added in Notion


@dataclass
class Pass:
    """What one signal pass did."""

    onboardings: int = 0
    check_ins: int = 0
    bounces_told: int = 0
    rescored: int = 0
    hubspot_calls: int = 0


@dataclass(frozen=True)
class Bounce:
    key: str
    email: str
    reason: str


def signals_tick(services: Services, now: datetime | None = None) -> Pass:
    """One pass over every running onboarding: act on its signals, rescore it."""
    now = now or services.now()
    today = now.astimezone(services.settings.tz).date()
    onboardings = _live(services)
    result = Pass(onboardings=len(onboardings))
    if not onboardings:
        return result
    logins = _logins(services, onboardings, now)
    opened, bounces = _email(services, onboardings, now)
    rescored = []
    for onboarding in onboardings:
        facts = _facts(services, onboarding, now, today, logins, opened, bounces)
        try:
            if facts.low_activity:
                result.check_ins += _check_in(services, onboarding, facts, today)
            for bounce in bounces.get(onboarding.id, []):
                result.bounces_told += _tell_bounce(services, onboarding, bounce)
        except ConnectorError as exc:  # one customer's failure waits for the next pass alone
            log.warning("signals for deal %s: %s", onboarding.deal_id, exc)
        if _rescore(services, onboarding, facts):
            rescored.append(onboarding.id)
    result.rescored = len(rescored)
    result.hubspot_calls = refresh(services, rescored, today).hubspot_calls
    return result


def _live(services: Services) -> list[Onboarding]:
    with services.store.session() as session:
        query = (
            select(Onboarding)
            .where(Onboarding.status == LIVE)
            .options(selectinload(Onboarding.tasks))
            .order_by(Onboarding.id)
        )
        return list(session.scalars(query))


# ----- facts ---------------------------------------------------------------------------------


def _facts(
    services: Services,
    onboarding: Onboarding,
    now: datetime,
    today: date,
    logins: dict[int, int | None],
    opened: set[int] | None,
    bounces: dict[int, list[Bounce]],
) -> Facts:
    """The signals of one onboarding as of ``now``."""
    rules = services.mappings.signals
    low = rules.low_activity
    count = logins.get(onboarding.id)
    age = (now - onboarding.won_at).days
    done = schema.TASK_STATUSES[-1]
    open_tasks = [t for t in onboarding.tasks if not t.archived and t.status != done]
    late = [t for t in open_tasks if t.due_date < today]
    no_opens = opened is not None and age >= rules.quiet_email.days and onboarding.id not in opened
    late_customer_facing = any("customer_facing" in (t.flags or []) for t in late)
    return Facts(
        logins=count,
        low_activity=count is not None and age >= low.after_days and count < low.below,
        no_opens=no_opens,
        bounces=len(bounces.get(onboarding.id, [])),
        overdue=len(late),
        missed_meetings=sum(1 for t in late if set(t.flags or []) & set(MEETING_FLAGS)),
        at_risk=no_opens and late_customer_facing,
    )


def _logins(
    services: Services, onboardings: list[Onboarding], now: datetime
) -> dict[int, int | None]:
    """Activity events in the window per onboarding (the higher of the API and HubSpot counts);
    onboardings without a source are left out."""
    low = services.mappings.signals.low_activity
    counts: dict[int, int | None] = {}
    if services.settings.activity_api_key is not None:
        counts = {o.id: 0 for o in onboardings}
        since = now - timedelta(days=low.days)
        by_ref = _refs(onboardings)
        with services.store.session() as session:
            rows = session.execute(
                select(
                    SignalEvent.deal_id,
                    SignalEvent.company_id,
                    SignalEvent.domain,
                    func.count(),
                )
                .where(
                    SignalEvent.source == "api",
                    SignalEvent.kind.in_(low.kinds),
                    SignalEvent.occurred_at >= since,
                    SignalEvent.occurred_at <= now,
                )
                .group_by(SignalEvent.deal_id, SignalEvent.company_id, SignalEvent.domain)
            )
            for deal_id, company_id, domain, n in rows:
                refs = (("deal", deal_id), ("company", company_id), ("domain", domain))
                owner = next((by_ref[r] for r in refs if r in by_ref), None)
                if owner is not None:
                    counts[owner] = (counts[owner] or 0) + n
    for onboarding_id, n in _property_logins(services, onboardings).items():
        counts[onboarding_id] = max(n, counts.get(onboarding_id) or 0)
    return counts


def _refs(onboardings: Iterable[Onboarding]) -> dict[tuple[str, str], int]:
    """How an activity event names its customer -> the onboarding."""
    refs: dict[tuple[str, str], int] = {}
    for o in onboardings:
        refs[("deal", o.deal_id)] = o.id
        if o.company_id:
            refs[("company", o.company_id)] = o.id
        domain = OnboardingContext.of(o).company_domain
        if domain:
            refs[("domain", domain)] = o.id
    return refs


def _property_logins(services: Services, onboardings: list[Onboarding]) -> dict[int, int]:
    """The admin's HubSpot activity property, read 100 records a call."""
    spec = services.mappings.signals.activity_property
    if spec is None:
        return {}
    ids = {
        (o.company_id if spec.object == "company" else o.deal_id): o.id
        for o in onboardings
        if (o.company_id if spec.object == "company" else o.deal_id)
    }
    plural = "companies" if spec.object == "company" else "deals"
    found: dict[int, int] = {}
    for record in services.hubspot.read_many(plural, list(ids), [spec.property]):
        value = _number(record.properties.get(spec.property))
        if value is not None:
            found[ids[record.id]] = value
    return found


def _number(raw: str | None) -> int | None:
    try:
        return int(float(str(raw).replace(",", ""))) if raw not in (None, "") else None
    except ValueError:
        return None


def _email(
    services: Services, onboardings: list[Onboarding], now: datetime
) -> tuple[set[int] | None, dict[int, list[Bounce]]]:
    """Onboardings with an email opened lately (None: no email feed), and recent bounces."""
    if services.settings.customerio_webhook_signing_key is None:
        return None, {}
    rules = services.mappings.signals
    people = _people(onboardings)
    won = {o.id: o.won_at for o in onboardings}
    open_since = now - timedelta(days=rules.quiet_email.days)
    bounce_since = now - timedelta(days=rules.health.bounce_days)
    kinds = [*rules.quiet_email.opened, *rules.bounce.metrics]
    opened: set[int] = set()
    bounces: dict[int, list[Bounce]] = defaultdict(list)
    with services.store.session() as session:
        rows = session.execute(
            select(SignalEvent.kind, SignalEvent.person, SignalEvent.dedupe_key,
                   SignalEvent.occurred_at, SignalEvent.payload)
            .where(
                SignalEvent.source == "customerio",
                SignalEvent.kind.in_(kinds),
                SignalEvent.occurred_at >= min(open_since, bounce_since),
                SignalEvent.occurred_at <= now,
            )
            .order_by(SignalEvent.occurred_at, SignalEvent.id)
        )  # fmt: skip
        for kind, person, key, at, payload in rows:
            for onboarding_id in people.get(str(person or "").lower(), []):
                if kind in rules.quiet_email.opened and at >= open_since:
                    opened.add(onboarding_id)
                if kind in rules.bounce.metrics and at >= max(bounce_since, won[onboarding_id]):
                    bounces[onboarding_id].append(_bounce(key, person, payload))
    return opened, bounces


def _people(onboardings: Iterable[Onboarding]) -> dict[str, list[int]]:
    """Customer.io person (our contact id, or an email) -> onboardings of that contact."""
    people: dict[str, list[int]] = defaultdict(list)
    for o in onboardings:
        for contact in OnboardingContext.of(o).contacts:
            for ref in {str(contact.get("id") or ""), str(contact.get("email") or "").lower()}:
                if ref:
                    people[ref].append(o.id)
    return people


def _bounce(key: str, person: str | None, payload: str) -> Bounce:
    data = json.loads(payload).get("data") or {}
    email = data.get("email_address") or data.get("recipient") or person or ""
    return Bounce(key, str(email), str(data.get("failure_message") or "no reason given"))


# ----- actions -------------------------------------------------------------------------------


def _check_in(services: Services, onboarding: Onboarding, facts: Facts, today: date) -> int:
    """One check-in task and Slack note per week of the onboarding; 1 when the task is new."""
    low = services.mappings.signals.low_activity
    week = (today - onboarding.won_at.astimezone(services.settings.tz).date()).days // low.days
    name = check_in(week)
    ledger = Ledger(services.store, onboarding.id)
    if ledger.external_id(f"{name}.slack") is not None:
        return 0  # both done (a step closed after the task page, so the page is there too)
    made = ledger.external_id(name) is None
    run = OnboardingRun.of(services, onboarding)
    signal = {"logins": facts.logins, "threshold": low.below, "days": low.days}
    context = {**run.context, "signal": signal}
    task = OnboardingTask(
        onboarding_id=onboarding.id,
        key=f"signal:check_in:w{week}",
        position=CHECK_IN_POSITION + week,
        title=render(low.task_title, context),
        phase="",
        owner_role="csm",
        owner_email=run.facts.email_of("csm"),
        due_date=services.calendar.add_business_days(today, low.task_due_in_business_days),
        required=False,
        flags=["check_in"],
        status=schema.TASK_STATUSES[0],
    )
    _, project = run.ledger.current(NOTION_PROJECT)
    page_id = run.ledger.run(name, "notion", lambda r: task_page(run, task, project, r))
    task.notion_page_id = page_id
    _mirror(services, task)
    text = render_for_slack(low.notify, context)
    _tell_csm(run, f"{name}.slack", text, f"check_in:w{week}")
    return int(made)


def _mirror(services: Services, task: OnboardingTask) -> None:
    """Add the check-in to the task mirror once, so progress and reminders see it."""
    with services.store.session() as session:
        exists = session.scalar(
            select(OnboardingTask.id).where(
                OnboardingTask.onboarding_id == task.onboarding_id, OnboardingTask.key == task.key
            )
        )
        if exists is None:
            session.add(task)


def _tell_bounce(services: Services, onboarding: Onboarding, found: Bounce) -> int:
    """Tell the CSM about one bounce, once; 1 when told now."""
    name = bounce_step(found.key)
    if Ledger(services.store, onboarding.id).external_id(name) is not None:
        return 0
    run = OnboardingRun.of(services, onboarding)
    signal = {"email": found.email, "reason": found.reason}
    text = render_for_slack(
        services.mappings.signals.bounce.notify, {**run.context, "signal": signal}
    )
    _tell_csm(run, name, text, f"bounce:{found.key}")
    return 1


def _tell_csm(run: OnboardingRun, name: str, text: str, mark: str) -> None:
    """A note to the CSM in the customer's channel, mentioning them, once per ledger step."""
    services, onboarding = run.services, run.onboarding
    _, channel = run.ledger.current(SLACK_CHANNEL)  # a repaired channel is the current one
    if not channel:
        return
    email = run.facts.email_of("csm")

    def post(recovering: bool) -> str:
        user = services.slack.user_id(email) if email else None
        body = f"<@{user}> {text}" if user else text
        marker = f"signal:{onboarding.deal_id}:{mark}"
        return services.slack.post_once(channel, body, marker, recovering)

    run.ledger.run(name, "slack", post)


def _rescore(services: Services, onboarding: Onboarding, facts: Facts) -> bool:
    """Store the new score and facts; True when either changed."""
    new_score = score(facts, services.mappings.signals.health)
    if new_score == onboarding.health_score and facts.as_json() == onboarding.health:
        return False
    with services.store.session() as session:
        row = session.get(Onboarding, onboarding.id)
        assert row is not None
        row.health_score, row.health = new_score, facts.as_json()
    return True
