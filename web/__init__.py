"""The HTTP edge: blueprints that verify, store and answer; no work happens here."""
