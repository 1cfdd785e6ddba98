"""Read models: SQLAlchemy tables fed from the event log, the catch-up runner, and queries."""
