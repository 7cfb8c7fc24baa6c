"""Quiet customers and health: activity and email signals become check-ins."""
