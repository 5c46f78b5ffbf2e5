"""Bevoegd's entry points: the command line now, the GraphQL server on Starlette next."""
