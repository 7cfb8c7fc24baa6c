"""The durable records: database, models, the side-effect ledger, poll cursors."""
