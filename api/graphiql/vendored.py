"""The npm releases GraphiQL's page is made of, pinned: the ones strawberry-graphql's own GraphiQL
page loads from a CDN, here served by the server itself. `python -m api.graphiql.refresh` copies
their files, unchanged, into static/vendor/, one folder per package named after its version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

STATIC = "static"
"""The folder, beside this module, whose files the server serves under /graphiql."""
VENDOR = "vendor"
"""The folder in STATIC that holds the packages' folders."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: tuple[str, ...]
    """Paths in the package: the scripts and style sheets the page loads, in the order it loads
    them, and the package's licence. Its package.json (name, version, licence, repository) is
    copied too."""

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        """Named after the version: a file in it never changes, so browsers may keep it."""
        return self.spec.removeprefix("@").replace("/", "-")

    def served(self, path: str) -> str:
        """Where the package's file at `path` is, relative to STATIC."""
        return f"{VENDOR}/{self.folder}/{PurePosixPath(path).name}"


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


def loaded(suffix: str) -> list[str]:
    """The vendored files the page loads that end in `suffix` (.js, .css), in loading order,
    relative to STATIC."""
    return [package.served(path) for package in VENDORED for path in package.files
            if path.endswith(suffix)]
