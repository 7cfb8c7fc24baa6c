"""Emulator of the HubSpot CRM v3 API the product calls, and of the webhooks HubSpot sends."""

# Where HubSpot's docs leave a fact UNCONFIRMED, the module that makes the choice says so next
# to the code. emulator.py assembles the account from one mixin per concern.
from sandbox.hubspot.emulator import HubSpotEmulator

__all__ = ["HubSpotEmulator"]
