"""The deal after the win: lost, deleted, churned, on hold."""
