"""Emulator of the HubSpot API (placeholder until its routes are written)."""

from sandbox.core import Emulator


class HubSpotEmulator(Emulator):
    name = "hubspot"
