"""Bevoegd's read side: projectors follow the event log with exactly-once tracking into tables of
the `projections` schema, read with asyncpg."""
