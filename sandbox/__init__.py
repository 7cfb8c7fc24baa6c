"""Local emulators of HubSpot, Notion, Slack and Customer.io, faithful to their documented APIs."""

from sandbox.server import Sandbox

__all__ = ["Sandbox"]
