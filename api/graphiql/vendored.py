"""The npm releases GraphiQL's page is made of, pinned: the ones strawberry-graphql's own GraphiQL
page loads from a CDN, here served by the server itself from static/vendor/ (refreshed by
`python -m api.vendoring`)."""

from __future__ import annotations

from pathlib import Path

from api.vendoring import Package

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The folder whose files the server serves under /graphiql."""

VENDORED = (
    Package("react", "18.2.0", ("umd/react.production.min.js", "LICENSE")),
    Package("react-dom", "18.2.0", ("umd/react-dom.production.min.js", "LICENSE")),
    Package("graphiql", "3.8.3", ("graphiql.min.js", "graphiql.min.css", "LICENSE")),
    # MIT, says its package.json; it ships no licence file, and its repository (graphql/graphiql)
    # is graphiql's, whose LICENSE covers it
    Package("@graphiql/plugin-explorer", "1.0.2", ("dist/index.umd.js", "dist/style.css")),
    # the explorer plugin's bundle includes this package's code: its licence comes along
    Package("graphiql-explorer", "0.9.0", ("LICENSE",)),
)
