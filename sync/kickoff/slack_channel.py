"""The kickoff in Slack: the customer's channel, its people invited, the CSM's summary."""

from __future__ import annotations

from connectors.slack_names import channel_name
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import SLACK_CHANNEL, SLACK_INVITE, SLACK_SUMMARY, generation
from sync.onboarding.templates import render
from sync.onboarding.templating import deal_url

INVITED_ROLES = ("csm", "ae")


def customer_channel_name(run: OnboardingRun) -> str:
    """The template's name for this customer, transliterated (Ромашка -> romashka); the deal's
    id instead when the customer's values add nothing to it (a name of symbols only), so that
    such customers do not all share one name."""
    template = run.services.mappings.fields.slack.channel_name
    name = channel_name(render(template, run.context))
    if name and name != channel_name(render(template, {})):
        return name
    return channel_name(f"onboarding-{run.onboarding.deal_id}")


def channel_purpose(run: OnboardingRun) -> str:
    """Set on the channel when it is made: it links the deal for the people in the channel, and
    tells the deal's channel from others of the name (the link holds the deal id)."""
    return f"Customer onboarding · HubSpot deal: {deal_url(run.services, run.onboarding)}"


def ensure_channel(run: OnboardingRun, number: int = 1) -> str:
    """The channel and its invitations; a repair's generation takes a new name (``-2``), since
    an archived channel keeps its name. Returns the channel id."""
    services = run.services
    slack, settings = services.slack, services.settings

    def create_channel(recovering: bool) -> str:
        channel = slack.ensure_channel(
            customer_channel_name(run),
            channel_purpose(run),
            recovering=recovering,
            first_number=number,
        )
        url = f"{settings.slack_workspace_url.rstrip('/')}/archives/{channel.id}"
        run.remember(channel_id=channel.id, channel_name=channel.name, channel_url=url)
        return channel.id

    channel_id = run.ledger.run(generation(SLACK_CHANNEL, number), "slack", create_channel)
    assert channel_id is not None
    if not run.facts.links.channel_url:  # a step done by a version that kept no URL
        url = f"{settings.slack_workspace_url.rstrip('/')}/archives/{channel_id}"
        run.remember(channel_id=channel_id, channel_url=url)

    def invite(recovering: bool) -> str:
        emails = [email for role in INVITED_ROLES if (email := run.facts.email_of(role))]
        user_ids = [uid for uid in (slack.user_id(e) for e in emails) if uid]
        slack.invite(channel_id, user_ids)
        return ",".join(user_ids)

    run.ledger.run(generation(SLACK_INVITE, number), "slack", invite)
    return channel_id


def post_summary(run: OnboardingRun, number: int = 1) -> None:
    """The CSM's summary in the channel, once, mentioning them."""
    services, onboarding = run.services, run.onboarding
    _, channel_id = run.ledger.current(SLACK_CHANNEL)
    if channel_id is None or not run.facts.links.project_url:
        return  # posted by the retry that has both (the summary links the plan)
    invited = run.ledger.external_id(generation(SLACK_INVITE, number)) or ""

    def summary(recovering: bool) -> str:
        csm_id = invited.split(",")[0] if invited else ""
        text = services.mappings.messages.render_for_slack("csm_summary", "en", run.context)
        if csm_id:
            text = f"<@{csm_id}> {text}"
        marker = f"summary:{onboarding.deal_id}"
        return services.slack.post_once(channel_id, text, marker, recovering)

    run.ledger.run(generation(SLACK_SUMMARY, number), "slack", summary)


def ensure_slack(run: OnboardingRun, number: int = 1) -> None:
    """Channel, invitations and summary in one go (a repair re-creating the channel)."""
    ensure_channel(run, number)
    post_summary(run, number)
