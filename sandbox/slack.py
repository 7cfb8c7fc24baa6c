"""Emulator of the Slack API (placeholder until its routes are written)."""

from sandbox.core import Emulator


class SlackEmulator(Emulator):
    name = "slack"
