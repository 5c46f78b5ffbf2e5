"""Async reads over the read models, for the GraphQL layer and the CLI. Every read that has a
time takes the valid date (`on`) and, optionally, the ledger position to read as known at
(`known_at`); lists are keyset pages whose cursors stay valid while new events arrive."""
