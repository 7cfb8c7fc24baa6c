"""Emulator of the CustomerIO API (placeholder until its routes are written)."""

from sandbox.core import Emulator


class CustomerIOEmulator(Emulator):
    name = "customerio"
