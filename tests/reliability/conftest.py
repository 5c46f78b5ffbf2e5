"""Fixtures of the reliability suite, and its figures: each test adds what load it held, which
faults it survived and how many inputs it tried; at the end of the run they are written to
`reliability-figures.json` in pytest's temporary folder and printed, for the README."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.runner import Runner, all_projections
from tests.graphql_client import issue_token, world_database
from tests.read_models import pool_on
from tests.reliability.postgres_server import PostgresServer, postgres_server
from tests.reliability.suite import Figures, World

FIGURES = pytest.StashKey[Figures]()
FIGURES_FILE = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Figures]:
    """The suite's figures, one entry per test that reports some."""
    found = request.config.stash.setdefault(FIGURES, {})
    yield found
    path = tmp_path_factory.getbasetemp() / "reliability-figures.json"
    path.write_text(json.dumps(found, indent=2))
    request.config.stash[FIGURES_FILE] = path


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = config.stash.get(FIGURES, None)
    if not found:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(json.dumps(found, indent=2))
    path = config.stash.get(FIGURES_FILE, None)
    if path is not None:
        terminalreporter.write_line(f"(written to {path})")


@pytest.fixture(scope="module")
def world(server_url: str) -> Iterator[World]:
    """One database for the module's tests, which write little or nothing."""
    with world_database(server_url) as (url, position):
        asyncio.run(project(url))
        yield World(url, position, issue_token(url, "clerk", ("college-dordrecht",)),
                    issue_token(url, "auditor"))


async def project(database_url: str) -> None:
    """Brings every projection up to the ledger's head, so that served reads see the world."""
    async with pool_on(database_url) as pool:
        runner = Runner(pool, all_projections())
        await runner.setup()
        while await runner.catch_up():
            pass


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, which it may kill and start again."""
    with tempfile.TemporaryDirectory(prefix="bevoegd-reliability-") as folder, \
            postgres_server(Path(folder)) as server:
        yield server
