"""Reminders to task owners and escalations of late tasks."""
