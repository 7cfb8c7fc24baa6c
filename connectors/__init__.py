"""One module per external service, each wrapping its official SDK behind onboarding verbs."""
