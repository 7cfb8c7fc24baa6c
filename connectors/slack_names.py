"""Slack channel names: legal and readable whatever the script, and the next ones to try.

Slack allows lowercase letters, digits, hyphens and underscores, 80 characters at most
(https://docs.slack.dev/reference/methods/conversations.create, Naming).
"""

from __future__ import annotations

import re

from anyascii import anyascii

MAX_CHANNEL_NAME = 80
NAME_TRIES = 50  # numbered names tried before giving up: more means something is wrong
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")
# anyascii capitalises each Chinese or Korean syllable (株式会社 -> ZhuShiHuiShe): a hyphen there
# keeps the slug readable.
_SYLLABLE_START = re.compile(r"(?<=[a-z])(?=[A-Z])")
_ILLEGAL = re.compile(r"[^a-z0-9_-]+")


def channel_name(raw: str) -> str:
    """A legal channel name made of ``raw``: other scripts transliterated (Ромашка -> romashka),
    anything else illegal made a hyphen; "" when nothing is left."""
    latin = _NOT_ASCII.sub(lambda run: _SYLLABLE_START.sub("-", anyascii(run.group())), raw)
    name = re.sub(r"-{2,}", "-", _ILLEGAL.sub("-", latin.lower())).strip("-_")
    return name[:MAX_CHANNEL_NAME].rstrip("-_")


def numbered_names(base: str, first: int = 1) -> list[str]:
    """``base``, ``base-2``, ``base-3``... from number ``first``, each within Slack's length."""
    return [base if n == 1 else _numbered(base, n) for n in range(first, first + NAME_TRIES)]


def _numbered(base: str, number: int) -> str:
    suffix = f"-{number}"
    return base[: MAX_CHANNEL_NAME - len(suffix)].rstrip("-_") + suffix
