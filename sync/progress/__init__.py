"""Keeping an onboarding in step: the Notion poll, progress, write-back, drift."""
