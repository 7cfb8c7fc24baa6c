"""Shared fixtures: the sandbox in a thread, and the app on a throw-away database."""

from __future__ import annotations

import pytest

from sandbox import Sandbox


@pytest.fixture
def sandbox():
    """All four emulators on a free local port, reset for each test."""
    with Sandbox() as box:
        yield box
