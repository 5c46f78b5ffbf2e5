"""The aggregates of the ledger; each is a small class whose commands record named events."""
