"""GraphQL read throughput: every documented operation in graphql/operations/ under 32
concurrent clients against one `bevoegd serve --no-projector --production`, next to the same
server answering `{ __typename }`.

`graphql_read_<operation>_cold` sends different variables with every request, drawn from the
benchmark database itself, so that no answer comes from the server's response cache
(api/cache.py) and every request runs the query; `_warm` repeats one variable set, which after
the first request is the cache's figure. The baseline is the cheapest request the server can
answer through the same HTTP path, middleware and cache, `{ __typename }`, which the cache
answers. Two more baselines sit beside every figure: the same request never answered from the
cache (a variable numbered per request changes the cache key), and the floor of the Python
stack (bench/floor.py: the same query-layer calls for the same variables, the same JSON, written
with orjson by a hand-written Starlette endpoint in a uvicorn process of its own), measured
right after the figure with the same variables.

The load comes from bench/load.py in a process of its own, on loopback, bounded in time and in
requests. The server is started once per round; the projections must be current (the harness
has rebuilt them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import click
import psutil
import psycopg
from graphql import OperationDefinitionNode, OperationType, parse
from psycopg.conninfo import conninfo_to_dict

from api.auth import TOKENS_TABLE, Principal, create_token, hash_token
from bench.floor import ENDPOINTS
from bench.load import AUTHORIZATION_VARIABLE
from bench.metrics import Metric, Spread, markdown, missing
from ledger.database import DATABASE_URL_VARIABLE
from projections.connection import connect_kwargs
from projections.queries.pagination import encode_cursor
from projections.tracking import SCHEMA
from tests.servers import free_port, wait_until_healthy

OPERATIONS = Path(__file__).resolve().parents[1] / "graphql" / "operations"
CONCURRENCY = 32
BASELINE_QUERY = "{ __typename }"
BASELINE_NAME = "`{ __typename }`, same server and clients"
UNCACHED_VARIABLE = "request"
"""The uncached baseline sends `{ __typename }` with this variable, numbered per request: the
operation declares no variables, so GraphQL ignores it, but every body differs, so does the
response cache's key (api/cache.py), and every request is executed."""
WARM_UP_REQUESTS = 64
"""Per operation and server start, with variables of their own: the pool's connections,
prepared statements and PostgreSQL's buffers are in use before the clock starts."""
COLD_PER_SECOND = 1000
"""Distinct variable sets per second of a cold run: more than the server answers on the
benchmark machine; if it is faster, the run ends when they are used up."""
WARM_PER_SECOND = 10_000  # likewise for warm runs, which the cache answers
FIRST_DAY, LAST_DAY = date(2005, 1, 1), date(2025, 12, 31)
AS_KNOWN_SHARE = 0.25
"""Of the reads that take `knownAt`, this many read as known at an earlier position."""
AUDITOR = "bench:graphql_read"


# The documented operations -------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    path: Path
    role: str
    kind: OperationType
    examples: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        return self.path.stem


def read_operation(path: Path) -> Operation:
    """The operation with its header (graphql/README.md: `# role:`, `# variables:` lines)."""
    source = path.read_text(encoding="utf-8")
    role, examples = "public", []
    for line in source.splitlines():
        key, _, value = line.removeprefix("#").strip().partition(":")
        if line.startswith("#") and key == "variables":
            examples.append(json.loads(value))
        elif line.startswith("#") and key == "role":
            role = value.strip()
    definition = next(d for d in parse(source).definitions
                      if isinstance(d, OperationDefinitionNode))
    return Operation(path, role, definition.operation, tuple(examples))


def documented_operations() -> list[Operation]:
    return [read_operation(path) for path in sorted(OPERATIONS.glob("*.graphql"))]


# Variables drawn from the benchmark database -------------------------------------------------


@dataclass(frozen=True)
class PublishedDecision:
    code: str
    published_position: int


@dataclass(frozen=True)
class Catalogue:
    """What the variables are drawn from: codes, filters and positions the log holds."""

    head: int
    jurisdictions: list[str]
    municipalities: list[str]
    holdings: list[tuple[str, str]]  # (competence, jurisdiction)
    subjects: list[str]
    decisions: list[PublishedDecision]
    deciding_bodies: list[str]
    words: list[str]
    issuers: list[str]
    commissioned: list[str]
    records: list[tuple[str, str]]  # (kind, code)
    event_types: list[str]

    @classmethod
    def read(cls, url: str) -> Catalogue:
        with psycopg.connect(url) as conn:
            def column(query: str) -> list[Any]:
                return [row[0] for row in conn.execute(query).fetchall()]

            titles = column(f"SELECT title FROM {SCHEMA}.decisions")
            return cls(
                head=int(column(f"SELECT coalesce(min(position), 0) FROM {SCHEMA}.tracking")[0]),
                jurisdictions=column(f"SELECT DISTINCT jurisdiction FROM {SCHEMA}.holdings"
                                     " ORDER BY 1"),
                municipalities=column(f"SELECT code FROM {SCHEMA}.jurisdictions"
                                      " WHERE kind = 'municipality' ORDER BY 1"),
                holdings=[tuple(row) for row in conn.execute(  # type: ignore[misc]
                    f"SELECT competence, jurisdiction FROM {SCHEMA}.holdings ORDER BY 1, 2")],
                subjects=column(f"SELECT DISTINCT unnest(scope) FROM {SCHEMA}.grants ORDER BY 1"),
                decisions=[PublishedDecision(*row) for row in conn.execute(
                    f"SELECT code, published_position FROM {SCHEMA}.decisions"
                    " WHERE published_position IS NOT NULL ORDER BY 1")],
                deciding_bodies=column(f"SELECT DISTINCT body FROM {SCHEMA}.decisions"
                                       " WHERE body IS NOT NULL ORDER BY 1"),
                words=sorted({w for t in titles for w in re.findall(r"[a-z]{6,}", t.lower())}),
                issuers=column(f"SELECT DISTINCT issued_by FROM {SCHEMA}.commissions ORDER BY 1"),
                commissioned=column(f"SELECT DISTINCT issued_to FROM {SCHEMA}.commissions"
                                    " ORDER BY 1"),
                records=[tuple(row) for row in conn.execute(  # type: ignore[misc]
                    f"SELECT kind, code FROM {SCHEMA}.records ORDER BY 1, 2")],
                event_types=column(f"SELECT event_type FROM {SCHEMA}.ledger_info ORDER BY 1"))

    def day(self, rng: random.Random) -> str:
        return (FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
                ).isoformat()

    def known_at(self, rng: random.Random, since: int = 0) -> dict[str, int]:
        """`knownAt` for a share of the reads, somewhere after `since`; empty for the rest."""
        if rng.random() >= AS_KNOWN_SHARE or self.head <= since:
            return {}
        return {"knownAt": rng.randint(max(since, self.head // 4), self.head)}


Variables = dict[str, Any]
Draw = Callable[[Catalogue, random.Random], Variables]


def competence_map(c: Catalogue, rng: random.Random) -> Variables:
    return {"jurisdiction": rng.choice(c.jurisdictions), "on": c.day(rng), "first": 50,
            **c.known_at(rng)}


def who_is_competent(c: Catalogue, rng: random.Random) -> Variables:
    competence, jurisdiction = rng.choice(c.holdings)
    subject = {"subject": rng.choice(c.subjects)} if c.subjects and rng.random() < 0.5 else {}
    return {"competence": competence, "jurisdiction": jurisdiction, "on": c.day(rng),
            **subject, **c.known_at(rng)}


def decision_with_chain(c: Catalogue, rng: random.Random) -> Variables:
    decision = rng.choice(c.decisions)
    # public readers see a decision as known once it was published
    return {"code": decision.code, "on": c.day(rng),
            **c.known_at(rng, since=decision.published_position)}


def decision_history(c: Catalogue, rng: random.Random) -> Variables:
    return {"code": rng.choice(c.decisions).code, "first": rng.randint(10, 50)}


def decision_register(c: Catalogue, rng: random.Random) -> Variables:
    """The filters a council information site combines; `on` moves status and verdict."""
    start = date.fromisoformat(c.day(rng))
    filters: list[Variables] = [
        {"text": rng.choice(c.words)} if c.words else {},
        {"body": rng.choice(c.deciding_bodies), "takenFrom": start.isoformat(),
         "takenUntil": (start + timedelta(days=rng.choice((90, 365, 1826)))).isoformat()},
        {"competence": rng.choice(c.holdings)[0], "jurisdiction": rng.choice(c.holdings)[1]},
        {"affecting": rng.choice(c.jurisdictions), "newestFirst": True},
        {"jurisdiction": rng.choice(c.jurisdictions), "status": "IN_FORCE"},
    ]
    return {"first": 20, "on": c.day(rng), **rng.choice(filters), **c.known_at(rng)}


def open_commissions(c: Catalogue, rng: random.Random) -> Variables:
    narrowed = rng.choice([{}, {"issuedBy": rng.choice(c.issuers)} if c.issuers else {},
                           {"issuedTo": rng.choice(c.commissioned)} if c.commissioned else {}])
    return {"on": c.day(rng), "first": 20, **narrowed, **c.known_at(rng)}


def audit_trail_page(c: Catalogue, rng: random.Random) -> Variables:
    """Pages at any place in the log, some narrowed to one record or some event types."""
    first = rng.choice((20, 50, 100))
    after = {"after": encode_cursor("event", rng.randrange(max(c.head, 1)))}
    choice = rng.random()
    if choice < 0.3 and c.records:
        kind, code = rng.choice(c.records)
        return {"first": first, "recordKind": kind, "recordCode": code}
    if choice < 0.4 and c.event_types:
        return {"first": first, "types": rng.sample(c.event_types, 2), **after}
    return {"first": first, **after}


def accountability_report(c: Catalogue, rng: random.Random) -> Variables:
    """A municipality's report over one calendar year, as the read models know it now (a report
    as known earlier is refused where the municipality was not known yet)."""
    year = rng.randint(FIRST_DAY.year, LAST_DAY.year)
    return {"jurisdiction": rng.choice(c.municipalities), "from": f"{year}-01-01",
            "to": f"{year}-12-31"}


def inclusion_proof(c: Catalogue, rng: random.Random) -> Variables:
    return {"position": rng.randint(1, c.head)}


DRAWS: dict[str, Draw] = {
    "AccountabilityReport": accountability_report,
    "AuditTrailPage": audit_trail_page,
    "InclusionProof": inclusion_proof,
    "CompetenceMap": competence_map,
    "DecisionHistory": decision_history,
    "DecisionRegister": decision_register,
    "DecisionWithChain": decision_with_chain,
    "OpenCommissions": open_commissions,
    "WhoIsCompetent": who_is_competent,
}
"""How to vary each documented query; an operation missing here gets no cold figure."""


def distinct_variables(draw: Draw, catalogue: Catalogue, count: int, seed: int) -> list[Variables]:
    """`count` variable sets, no two alike (fewer if the database cannot give as many)."""
    rng = random.Random(seed)
    found: dict[str, Variables] = {}
    for _ in range(count * 20):
        try:
            variables = draw(catalogue, rng)
        except IndexError:  # rng.choice of nothing: the database holds no such records
            return []
        found.setdefault(json.dumps(variables, sort_keys=True), variables)
        if len(found) == count:
            break
    return list(found.values())


# One load run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One run of the load generator, as bench/load.py reports it, with the server's CPU."""

    sent: int
    ok: int
    errors: int
    elapsed: float
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    client_cpu_seconds: float
    error_samples: list[str]
    server_cpu_seconds: float = 0.0
    database_cpu_seconds: float | None = None  # None: PostgreSQL's processes are not ours to see
    machine_idle: float = 0.0  # the share of all cores left idle


def _database_backends(database: str) -> list[psutil.Process]:
    """The PostgreSQL backends serving `database` on this machine (a pool keeps them open)."""
    found: list[psutil.Process] = []
    if not database:
        return found
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or ())
        if (process.info["name"] or "").startswith("postgres") and f" {database} " in command:
            found.append(process)
    return found


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # a backend that ended meanwhile
            total += sum(process.cpu_times()[:2])
    return total


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    database: str  # its name, to find its PostgreSQL backends
    authorization: str | None  # an auditor's, for the operations meant for auditors

    def load(self, operation_file: Path, variables: list[Variables], *, repeat: bool,
             seconds: float, max_requests: int, as_auditor: bool = False) -> Load:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as file:
            file.writelines(json.dumps(v) + "\n" for v in variables)
            file.flush()
            env = dict(os.environ)
            env.pop(AUTHORIZATION_VARIABLE, None)
            if as_auditor and self.authorization:
                env[AUTHORIZATION_VARIABLE] = self.authorization
            server = [psutil.Process(self.process.pid)]
            backends = _database_backends(self.database)
            server_before, database_before = _cpu_seconds(server), _cpu_seconds(backends)
            machine_before = psutil.cpu_times()
            done = subprocess.run(
                [sys.executable, "-m", "bench.load", "--url", self.url,
                 "--operation-file", str(operation_file), "--variables-file", file.name,
                 *(["--repeat"] if repeat else []), "--concurrency", str(CONCURRENCY),
                 "--seconds", str(seconds), "--max-requests", str(max_requests)],
                env=env, capture_output=True, text=True, timeout=seconds + 120)
            server_cpu = _cpu_seconds(server) - server_before
            database_cpu = _cpu_seconds(backends) - database_before
            machine = [after - before for after, before in zip(psutil.cpu_times(), machine_before,
                                                                strict=True)]
        if done.returncode != 0:
            raise RuntimeError(f"bench.load exited with {done.returncode}: {done.stderr[-2000:]}")
        return Load(**json.loads(done.stdout), server_cpu_seconds=round(server_cpu, 2),
                    database_cpu_seconds=round(database_cpu, 2) if backends else None,
                    machine_idle=round(machine[3] / max(sum(machine), 1e-9), 3))


@contextmanager
def auditor_token(url: str) -> Iterator[str]:
    """A token for the operations meant for auditors; its row is gone afterwards, so that a
    database used for trials keeps no live token."""
    async def with_connection(use: Callable[[asyncpg.Connection], Any]) -> Any:
        conn = await asyncpg.connect(**connect_kwargs(url))
        try:
            return await use(conn)
        finally:
            await conn.close()

    issued = asyncio.run(with_connection(
        lambda conn: create_token(conn, Principal(AUDITOR, "auditor"))))
    try:
        yield f"Bearer {issued.token}"
    finally:
        asyncio.run(with_connection(lambda conn: conn.execute(
            f"DELETE FROM {TOKENS_TABLE} WHERE token_hash = $1", hash_token(issued.token))))


@contextmanager
def _started(module: list[str], database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`python -m <module...> --port PORT` on a free loopback port, answering /healthz; its
    errors are shown if it fails."""
    port = free_port()
    env = os.environ | {DATABASE_URL_VARIABLE: database_url}
    with tempfile.TemporaryFile() as errors:
        # stdout takes uvicorn's access log: it is written, as in production, and dropped
        process = subprocess.Popen([sys.executable, "-m", *module, "--port", str(port)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            wait_until_healthy(process, port)
            yield process, port
        except Exception:
            errors.seek(0)
            sys.stderr.write(errors.read()[-4000:].decode(errors="replace"))
            raise
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def serving(database_url: str, authorization: str | None) -> Iterator[Server]:
    """`bevoegd serve --no-projector --production` on a free loopback port, ready to read."""
    with _started(["api.cli", "serve", "--no-projector", "--production"], database_url) \
            as (process, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as ready:
            if json.load(ready)["status"] != "ready":
                raise RuntimeError("The projections lag the ledger; rebuild them first.")
        yield Server(process, f"http://127.0.0.1:{port}/graphql",
                     conninfo_to_dict(database_url).get("dbname") or "", authorization)


@contextmanager
def floor_serving(database_url: str) -> Iterator[Server]:
    """bench/floor.py on a free loopback port, one process as the API's; its `url` is the base
    that each operation's path (`/<Operation>`) is added to."""
    with _started(["bench.floor"], database_url) as (process, port):
        yield Server(process, f"http://127.0.0.1:{port}",
                     conninfo_to_dict(database_url).get("dbname") or "", None)


# The figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadMetric(Metric):
    """A throughput figure with the latencies behind it (medians of the rounds) and how many
    requests failed; a figure with failures has no value, only the reason."""

    p50_ms: float | None = None
    p99_ms: float | None = None
    baseline_p50_ms: float | None = None
    baseline_p99_ms: float | None = None
    requests: int = 0
    errors: int = 0
    uncached_baseline: float | None = None  # `{ __typename }` never from the cache, requests/s
    floor: float | None = None  # bench/floor.py's endpoint for the same reads, requests/s
    floor_missing: str | None = None

    @property
    def uncached_ratio(self) -> float | None:
        return _ratio(self.value, self.uncached_baseline)

    @property
    def floor_ratio(self) -> float | None:
        return _ratio(self.value, self.floor)

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "uncached_ratio": self.uncached_ratio,
                "floor_ratio": self.floor_ratio}


def _ratio(value: float | None, baseline: float | None) -> float | None:
    return round(value / baseline, 3) if value is not None and baseline else None


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def _rate(runs: list[Load]) -> float | None:
    """The median requests/s of runs without failures (None: none, or one failed)."""
    if not runs or any(run.errors for run in runs):
        return None
    return round(statistics.median(run.requests_per_second for run in runs), 1)


def load_metric(name: str, runs: list[Load], baseline: list[Load], uncached: list[Load],
                floor: list[Load] | None) -> LoadMetric:
    """`floor` None: bench/floor.py has no endpoint for the operation."""
    ours = Spread.of_values([run.requests_per_second for run in runs])
    bare = Spread.of_values([run.requests_per_second for run in baseline])
    errors, sent = sum(run.errors for run in runs), sum(run.sent for run in runs)
    failed = None
    if errors:
        samples = "; ".join(s for run in runs for s in run.error_samples)[:300]
        failed = f"FAILED: {errors} of {sent} requests ({samples})"
    return LoadMetric(
        name, None if failed else round(ours.median, 1), "requests/s", BASELINE_NAME,
        round(bare.median, 1), None if failed else round(ours.low, 1),
        None if failed else round(ours.high, 1), failed,
        p50_ms=_median([run.p50_ms for run in runs]), p99_ms=_median([run.p99_ms for run in runs]),
        baseline_p50_ms=_median([run.p50_ms for run in baseline]),
        baseline_p99_ms=_median([run.p99_ms for run in baseline]),
        requests=sum(run.ok for run in runs), errors=errors,
        uncached_baseline=_rate(uncached), floor=_rate(floor or []),
        floor_missing="no endpoint in bench/floor.py" if floor is None
        else "failed requests" if _rate(floor) is None else None)


def report_run(figure: str, run: Load) -> None:
    """A line per run on stderr: where the CPU went shows who was the bottleneck."""
    database = (f", PostgreSQL {run.database_cpu_seconds / run.elapsed:.0%}"
                if run.database_cpu_seconds is not None else "")
    print(f"  {figure}: {run.requests_per_second} requests/s, p50 {run.p50_ms} ms, p99 "
          f"{run.p99_ms} ms, {run.ok} ok, {run.errors} failed; CPU of one core: server "
          f"{run.server_cpu_seconds / run.elapsed:.0%}, load generator "
          f"{run.client_cpu_seconds / run.elapsed:.0%}{database}; machine idle "
          f"{run.machine_idle:.0%}", file=sys.stderr)


def graphql_read(url: str, rounds: int, seconds: float) -> list[Metric]:
    """`graphql_read_<operation>_cold` and `_warm` for every documented query, each round on a
    freshly started server."""
    operations = documented_operations()
    queries = [op for op in operations if op.kind is OperationType.QUERY]
    catalogue = Catalogue.read(url)
    cold_count = int(seconds * COLD_PER_SECOND)
    drawn = {op.name: distinct_variables(DRAWS[op.name], catalogue,
                                         WARM_UP_REQUESTS + cold_count, seed=2013)
             for op in queries if op.name in DRAWS}
    cold = {name: variables for name, variables in drawn.items()
            if len(variables) > WARM_UP_REQUESTS}
    warm = {op.name: cold[op.name][:1] if op.name in cold else list(op.examples[:1]) or [{}]
            for op in queries}
    runs: dict[str, list[Load]] = {}
    with tempfile.TemporaryDirectory() as folder, auditor_token(url) as authorization:
        typename = Path(folder) / "Typename.graphql"
        typename.write_text(BASELINE_QUERY, encoding="utf-8")
        for number in range(rounds):
            print(f" graphql_read round {number + 1} of {rounds}", file=sys.stderr)
            with serving(url, authorization) as server, floor_serving(url) as floor:
                _warm_up(server, floor, queries, cold, warm)
                measured = _round(server, floor, typename, queries, cold, warm, seconds)
            for figure, run in measured.items():
                runs.setdefault(figure.removesuffix("_before").removesuffix("_after"),
                                []).append(run)
    baselines = (runs["baseline"], runs["uncached"])
    metrics: list[Metric] = []
    for op in operations:
        if op.kind is not OperationType.QUERY:
            metrics.append(missing(f"graphql_read_{op.name}", "requests/s",
                                   f"not applicable: a {op.kind.value}, streamed over WebSocket"))
            continue
        if op.name not in cold:
            metrics.append(missing(f"graphql_read_{op.name}_cold", "requests/s",
                                   "the database holds too little to vary it" if op.name in drawn
                                   else "no variable generator in bench/graphql_read.py"))
        else:
            metrics.append(load_metric(f"graphql_read_{op.name}_cold", runs[f"{op.name}_cold"],
                                       *baselines, runs.get(f"{op.name}_cold_floor")))
        metrics.append(load_metric(f"graphql_read_{op.name}_warm", runs[f"{op.name}_warm"],
                                   *baselines, runs.get(f"{op.name}_warm_floor")))
    return metrics


def _round(server: Server, floor: Server, typename: Path, queries: list[Operation],
           cold: dict[str, list[Variables]], warm: dict[str, list[Variables]], seconds: float
           ) -> dict[str, Load]:
    """Every figure once on one server, each followed by its floor with the same variables (an
    operation the floor has an endpoint for), the baselines before and after the operations
    (the machine may drift meanwhile)."""
    warm_requests = int(seconds * WARM_PER_SECOND)
    numbered = [{UNCACHED_VARIABLE: number} for number in range(2 * warm_requests)]
    found: dict[str, Load] = {}

    def measure(figure: str, label: str, path: Path, variables: list[Variables],
                repeat: bool, max_requests: int, as_auditor: bool = False,
                at: Server = server) -> None:
        found[figure] = at.load(path, variables, repeat=repeat, seconds=seconds,
                                max_requests=max_requests, as_auditor=as_auditor)
        report_run(label, found[figure])

    def both(figure: str, op: Operation, variables: list[Variables], repeat: bool,
             max_requests: int) -> None:
        measure(figure, figure.replace("_", " "), op.path, variables, repeat, max_requests,
                op.role == "auditor")
        if op.name in ENDPOINTS:
            measure(f"{figure}_floor", f"{figure.replace('_', ' ')}, floor", op.path, variables,
                    repeat, max_requests, at=replace(floor, url=f"{floor.url}/{op.name}"))

    def baselines(when: str, requests: list[Variables]) -> None:
        measure(f"baseline_{when}", "{ __typename }", typename, [{}], True, warm_requests)
        measure(f"uncached_{when}", "{ __typename }, uncached", typename, requests, False,
                len(requests))

    baselines("before", numbered[:warm_requests])
    for op in queries:
        if op.name in cold:
            variables = cold[op.name][WARM_UP_REQUESTS:]
            both(f"{op.name}_cold", op, variables, False, len(variables))
        both(f"{op.name}_warm", op, warm[op.name], True, warm_requests)
    baselines("after", numbered[warm_requests:])
    return found


def _warm_up(server: Server, floor: Server, queries: list[Operation],
             cold: dict[str, list[Variables]], warm: dict[str, list[Variables]]) -> None:
    """Variables the measured runs do not use, so that the cold runs still miss the cache; the
    floor's pool and prepared statements likewise."""
    for op in queries:
        variables = cold[op.name][:WARM_UP_REQUESTS] if op.name in cold else warm[op.name]
        servers = [server] + ([replace(floor, url=f"{floor.url}/{op.name}")]
                              if op.name in ENDPOINTS else [])
        for each in servers:
            each.load(op.path, variables, repeat=op.name not in cold, seconds=2.0,
                      max_requests=WARM_UP_REQUESTS, as_auditor=op.role == "auditor")


def latency_markdown(metrics: list[Metric]) -> str:
    """The latencies behind the throughput figures, which the main table has no room for."""
    lines = ["| name | p50 ms | p99 ms | baseline p50 ms | baseline p99 ms | ok requests | "
             "failed |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {m.name} | {m.p50_ms} | {m.p99_ms} | {m.baseline_p50_ms} | "
              f"{m.baseline_p99_ms} | {m.requests} | {m.errors} |"
              for m in metrics if isinstance(m, LoadMetric)]
    return "\n".join(lines)


def baselines_markdown(metrics: list[Metric]) -> str:
    """Each read next to the two baselines the main table has no room for: `{ __typename }`
    executed (never from the cache) and the floor of the Python stack (bench/floor.py)."""
    lines = ["| name | GraphQL requests/s | `{ __typename }` uncached | GraphQL / uncached | "
             "floor (bench/floor.py) | GraphQL / floor |", "|---|---|---|---|---|---|"]
    lines += [f"| {m.name} | {m.value if m.value is not None else m.missing} | "
              f"{m.uncached_baseline} | {m.uncached_ratio or '—'} | "
              f"{m.floor if m.floor is not None else f'missing: {m.floor_missing}'} | "
              f"{m.floor_ratio or '—'} |"
              for m in metrics if isinstance(m, LoadMetric)]
    return "\n".join(lines)


@click.command()
@click.option("--seconds", default=5.0, show_default=True, type=click.FloatRange(0.5, 60),
              help="Per figure and round.")
@click.option("--rounds", default=1, show_default=True, type=click.IntRange(1))
@click.option("--json", "json_file", type=click.File("w"), default=None,
              help="Write the figures as JSON to this file.")
def main(seconds: float, rounds: int, json_file: Any) -> None:
    """The read figures alone, against BEVOEGD_DATABASE_URL's database as it is (projections
    current), e.g. a large generated history kept for trials."""
    began = time.perf_counter()
    metrics = graphql_read(os.environ[DATABASE_URL_VARIABLE], rounds, seconds)
    click.echo(markdown(metrics) + "\n\n" + latency_markdown(metrics) + "\n\n"
               + baselines_markdown(metrics))
    click.echo(f"{time.perf_counter() - began:.0f} s", err=True)
    if json_file is not None:
        json.dump([m.as_json() for m in metrics], json_file, indent=2)


if __name__ == "__main__":
    main()
