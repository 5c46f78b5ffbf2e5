"""Bevoegd's write side: the governance ledger's domain, its legitimacy rules and its event store."""
