"""What comes in: webhook events, activity and email signals, the catch-up search."""
