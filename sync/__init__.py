"""The engine: plain Python over the store, the connectors and the admin-edited mappings."""
