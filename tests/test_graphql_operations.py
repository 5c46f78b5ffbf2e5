"""The documented operations in graphql/operations/: each is valid against the committed schema
and runs against the demo data set with the example variables in its header, over HTTP or, for
the subscription, over a WebSocket (graphql-transport-ws).

An operation file starts with comment lines: a description, then per example a
`# variables: {...}` line (JSON) and an optional `# expect: path, path` line naming what must be
non-empty in the answer's data (dotted, list items by index: `decision.chain`,
`auditTrail.edges.0.node.actor`); `# role: auditor` runs it with an auditor's token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from starlette.routing import Route

from api.schema import FAST_EXECUTION_VARIABLE
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from tests.databases import fresh_database
from tests.graphql_client import Api, eventually, issue_token, receive, serving
from tests.ledger_setup import import_demo

REPO = Path(__file__).resolve().parents[1]
OPERATIONS = REPO / "graphql" / "operations"
SCHEMA_FILE = REPO / "graphql" / "schema.graphql"

DOCUMENTED = {"CompetenceMap", "WhoIsCompetent", "DecisionWithChain", "DecisionHistory",
              "OpenCommissions", "AuditTrailPage", "LedgerEvents"}
"""The operations the contract promises frontends and auditors (graphql/README.md)."""

EVENTS_RECEIVED = 3
"""How many `next` messages the subscription test takes before it completes."""


@dataclass(frozen=True)
class Example:
    variables: dict[str, Any]
    expect: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    path: Path
    source: str
    description: str
    role: str
    examples: tuple[Example, ...]

    @property
    def name(self) -> str:
        return self.path.stem


def read_operation(path: Path) -> Operation:
    source = path.read_text(encoding="utf-8")
    header = [line.removeprefix("#").strip() for line in source.splitlines()
              if line.startswith("#")]
    examples: list[Example] = []
    description: list[str] = []
    role = "public"
    for line in header:
        key, _, value = line.partition(":")
        if key == "variables":
            examples.append(Example(json.loads(value)))
        elif key == "expect":
            assert examples, f"{path.name}: an `expect` line follows its `variables` line"
            paths = tuple(p.strip() for p in value.split(",") if p.strip())
            examples[-1] = Example(examples[-1].variables, examples[-1].expect + paths)
        elif key == "role":
            role = value.strip()
        else:
            description.append(line)
    return Operation(path, source, " ".join(description).strip(), role, tuple(examples))


def all_operations() -> list[Operation]:
    return [read_operation(path) for path in sorted(OPERATIONS.glob("*.graphql"))]


def kind_of(operation: Operation) -> OperationType:
    definitions = [d for d in parse(operation.source).definitions
                   if isinstance(d, OperationDefinitionNode)]
    return definitions[0].operation


def by_kind(kind: OperationType) -> list[Any]:
    return [pytest.param(op, id=op.name) for op in all_operations() if kind_of(op) is kind]


@cache
def committed_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def at(data: Any, path: str) -> Any:
    """The value at a dotted path of an answer (list items by index), None where it ends."""
    for step in path.split("."):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def empty_paths(data: Any, paths: tuple[str, ...]) -> list[str]:
    return [path for path in paths if at(data, path) in (None, [], "", {})]


# Without a database -------------------------------------------------------------------------


def test_the_documented_operations_are_there() -> None:
    assert {op.name for op in all_operations()} >= DOCUMENTED


def test_the_readme_lists_every_operation() -> None:
    readme = (REPO / "graphql" / "README.md").read_text(encoding="utf-8")
    unlisted = [op.name for op in all_operations() if f"| `{op.name}` |" not in readme]
    assert not unlisted, f"graphql/README.md does not list {unlisted}"


@pytest.mark.parametrize("operation", [pytest.param(op, id=op.name) for op in all_operations()])
def test_operation_is_valid_and_documented(operation: Operation) -> None:
    document = parse(operation.source)
    definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    # one named operation per file, so that generated clients get stable names
    assert [d.name.value if d.name else None for d in definitions] == [operation.name]
    assert validate(committed_schema(), document) == []
    assert operation.description, f"{operation.path.name} starts with comments saying its use"
    assert operation.examples, f"{operation.path.name} gives `# variables:` examples"
    assert operation.role in ("public", "auditor")
    declared = {v.variable.name.value for v in definitions[0].variable_definitions}
    for example in operation.examples:
        assert set(example.variables) <= declared, f"unknown variables in {example.variables}"
        coerced = get_variable_values(committed_schema(), definitions[0].variable_definitions,
                                      example.variables)
        assert not isinstance(coerced, list), [str(error) for error in coerced]


def test_paths_are_read_from_answers() -> None:
    data = {"a": {"edges": [{"node": {"actor": "x"}}], "none": None}}
    assert at(data, "a.edges.0.node.actor") == "x"
    assert empty_paths(data, ("a.edges", "a.none", "a.edges.1.node", "b")) == [
        "a.none", "a.edges.1.node", "b"]


# Against the demo data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(server_url: str) -> Iterator[str]:
    """A database holding the demo data set, shared by this module's tests (they only read)."""
    with fresh_database(server_url, "bevoegd_demo") as url:
        _import_demo(url)
        yield url


def _import_demo(url: str) -> None:
    ledger = Ledger(env=eventsourcing_env(url))
    try:
        import_demo(ledger)
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def demo_api(demo_url: str) -> Iterator[Api]:
    """The app on the demo data, once its projections have caught up with the whole ledger."""
    with serving(demo_url) as api:
        eventually(lambda: _caught_up(api), "the projections to apply the demo data")
        yield api


@pytest.fixture(scope="module")
def auditor_token(demo_url: str) -> str:
    return issue_token(demo_url, "auditor", name="auditor:operations")


def _caught_up(api: Api) -> bool:
    ledger = api.data("{ ledger { position projectedPosition } }")["ledger"]
    return ledger["position"] > 0 and ledger["projectedPosition"] == ledger["position"]


def _authorization(operation: Operation, auditor_token: str) -> dict[str, str]:
    """The header (or connection_init payload) the operation's role needs."""
    return {"Authorization": f"Bearer {auditor_token}"} if operation.role == "auditor" else {}


@pytest.mark.database
@pytest.mark.parametrize("operation", by_kind(OperationType.QUERY))
def test_query_runs_on_the_demo_data(operation: Operation, demo_api: Api,
                                     auditor_token: str) -> None:
    for example in operation.examples:
        response = demo_api.client.post(
            "/graphql", json={"query": operation.source, "operationName": operation.name,
                              "variables": example.variables},
            headers=_authorization(operation, auditor_token))
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), (example, body)
        assert body["data"], example
        empty = empty_paths(body["data"], example.expect)
        assert not empty, f"{operation.name} with {example.variables}: empty {empty}"


@pytest.mark.database
@pytest.mark.parametrize("operation", by_kind(OperationType.SUBSCRIPTION))
def test_subscription_streams_the_demo_events(operation: Operation, demo_api: Api,
                                              auditor_token: str) -> None:
    init = _authorization(operation, auditor_token)
    for number, example in enumerate(operation.examples):
        with demo_api.client.websocket_connect(
                "/graphql", subprotocols=["graphql-transport-ws"]) as socket:
            socket.send_json({"type": "connection_init", "payload": init})
            assert receive(socket)["type"] == "connection_ack"
            subscription = f"example-{number}"
            socket.send_json({"id": subscription, "type": "subscribe", "payload": {
                "query": operation.source, "operationName": operation.name,
                "variables": example.variables}})
            for _ in range(EVENTS_RECEIVED):
                message = receive(socket)  # with a deadline: a silent stream fails, not hangs
                assert message["type"] == "next" and message["id"] == subscription, message
                payload = message["payload"]
                assert not payload.get("errors") and payload["data"], payload
                empty = empty_paths(payload["data"], example.expect)
                assert not empty, f"{operation.name} with {example.variables}: empty {empty}"
            socket.send_json({"id": subscription, "type": "complete"})



def _executor(api: Api) -> type:
    """How the app's GraphQL schema executes fields."""
    view = next(route.endpoint for route in api.client.app.routes  # type: ignore[attr-defined]
                if isinstance(route, Route) and route.path == "/graphql")
    return view.schema.execution_context_class


@pytest.mark.database
def test_answers_are_the_same_with_fast_execution_off(demo_api: Api, demo_url: str,
                                                      auditor_token: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """BEVOEGD_FAST_EXECUTION=0 (api/schema/__init__.py) changes how fields are executed, not
    what any documented query answers."""
    queries = [operation for operation in all_operations()
               if kind_of(operation) is OperationType.QUERY]

    def answers(api: Api) -> list[Any]:
        return [api.client.post("/graphql", json={
                    "query": operation.source, "operationName": operation.name,
                    "variables": example.variables},
                    headers=_authorization(operation, auditor_token)).json()
                for operation in queries for example in operation.examples]

    monkeypatch.setenv(FAST_EXECUTION_VARIABLE, "0")
    with serving(demo_url, run_projector=False) as general:
        assert _executor(general) is not _executor(demo_api)
        fast, slow = answers(demo_api), answers(general)
        assert all(answer.get("data") and not answer.get("errors") for answer in fast), fast
        assert slow == fast
