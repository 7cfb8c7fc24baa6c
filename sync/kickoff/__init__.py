"""The kickoff: a won deal becomes a plan and its fan-out to the four services."""
