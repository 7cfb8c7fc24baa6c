"""The admin-edited mapping files: schema models, one loader, and errors that say file:line:key.

Admins edit YAML by hand, so every problem is reported with the file, the line, the key path and
what is wrong, and all problems are collected in one MappingError instead of stopping at the first.

One schema module per file (triggers, segments, roles, playbooks, fields, messages, signals,
reminders); `source` keeps line numbers, `explain` words schema errors, `references` and `checks`
test names across files, and `loader` ties them together. Segment rules are evaluated in
sync.kickoff.segmenting.
"""

from sync.mappings.base import MappingError
from sync.mappings.fields import NotionProperty
from sync.mappings.loader import Mappings, load_mappings
from sync.mappings.reminders import WEEKDAYS, ReminderRules
from sync.mappings.signals import HealthPoints

__all__ = [
    "WEEKDAYS",
    "HealthPoints",
    "MappingError",
    "Mappings",
    "NotionProperty",
    "ReminderRules",
    "load_mappings",
]
