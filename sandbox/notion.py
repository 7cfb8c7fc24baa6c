"""Emulator of the Notion API (placeholder until its routes are written)."""

from sandbox.core import Emulator


class NotionEmulator(Emulator):
    name = "notion"
