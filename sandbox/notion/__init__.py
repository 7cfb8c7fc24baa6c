"""Emulator of the Notion API, version 2025-09-03: databases, data sources, pages and queries.

Behaves like Notion where the app depends on it: databases are containers of data sources,
pages carry typed property values refused with Notion's ``validation_error`` messages,
``created_time``/``last_edited_time`` are rounded down to the minute, data source queries take
filters, sorts and opaque cursors, and each integration token gets 3 requests a second.
"""

from sandbox.notion.emulator import NotionEmulator

__all__ = ["NotionEmulator"]
