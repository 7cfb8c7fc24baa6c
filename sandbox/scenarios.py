"""Ready-made worlds for the demo, tests and benchmarks: a customer about to win, set up apps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.server import Sandbox

CSM_EMAIL = "carla.csm@vendor.example"
AE_EMAIL = "adam.ae@vendor.example"
SEGMENT_ID = "7"
WEBHOOK_SECRET = "sandbox-client-secret"


@dataclass(frozen=True)
class Customer:
    deal_id: str
    company_id: str
    contact_id: str
    name: str


def seed_team(box: Sandbox) -> dict[str, str]:
    """The vendor's people (a CSM, an AE) in HubSpot and Slack, and the email segment."""
    csm = box.hubspot.seed_owner(email=CSM_EMAIL, first_name="Carla", last_name="Stone")
    ae = box.hubspot.seed_owner(email=AE_EMAIL, first_name="Adam", last_name="Eve")
    for email, name in ((CSM_EMAIL, "Carla Stone"), (AE_EMAIL, "Adam Eve")):
        if box.slack.user_by_email(email) is None:
            box.slack.seed_user(email=email, real_name=name)
    box.customerio.seed_segment(id=SEGMENT_ID, name="Onboarding")
    parent = box.notion.seed_parent_page(title="Customer Success")
    return {"csm_owner_id": csm["id"], "ae_owner_id": ae["id"], "notion_parent": parent["id"]}


def seed_customer(
    box: Sandbox,
    team: dict[str, str],
    name: str = "Acme Robotics",
    employees: int = 150,
    amount: str = "48000",
    stage: str = "contractsent",
    language: str = "en",
) -> Customer:
    """A company with one contact and an open deal owned by the AE (the CSM owns the company)."""
    slug = name.lower().replace(" ", "")
    company = box.hubspot.seed_company(
        {
            "name": name,
            "domain": f"{slug}.example",
            "numberofemployees": str(employees),
            "industry": "COMPUTER_SOFTWARE",
            "hubspot_owner_id": team["csm_owner_id"],
        }
    )
    contact = box.hubspot.seed_contact(
        {
            "email": f"ops@{slug}.example",
            "firstname": "Olga",
            "lastname": "Petrescu",
            "jobtitle": "Head of Operations",
            "hs_language": language,
        }
    )
    deal = box.hubspot.seed_deal(
        {
            "dealname": f"{name} - annual plan",
            "amount": amount,
            "dealstage": stage,
            "pipeline": "default",
            "hubspot_owner_id": team["ae_owner_id"],
        },
        company_ids=[company["id"]],
        contact_ids=[contact["id"]],
    )
    return Customer(deal["id"], company["id"], contact["id"], name)


def app_settings(box: Sandbox) -> dict[str, object]:
    """Settings that point the app at this sandbox with its default credentials."""
    return {
        "hubspot_api_base": box.url("hubspot"),
        "notion_api_base": box.url("notion"),
        "slack_api_base": box.url("slack"),
        "customerio_track_api_base": box.url("customerio"),
        "hubspot_access_token": "pat-sandbox",
        "hubspot_client_secret": WEBHOOK_SECRET,
        "notion_token": "secret_sandbox",
        "slack_bot_token": "xoxb-sandbox",
        "customerio_site_id": "sandbox-site",
        "customerio_api_key": "sandbox-key",
        "customerio_segment_id": SEGMENT_ID,
        "hubspot_portal_id": "12345678",
        "slack_workspace_url": "https://sandbox.slack.example",
    }
