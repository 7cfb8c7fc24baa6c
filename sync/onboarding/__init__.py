"""What every part of the engine shares about one onboarding."""
