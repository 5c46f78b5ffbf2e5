"""The limits no request can pass: cost, depth and aliases counted through fragments as the
operation runs (and measured in time linear in the document), introspection included; the token
limit applied by the parser itself; a request body or query string over the size limit refused
before it is read. And the server keeps answering while hostile documents are being sent: a
server on a real socket, in a process of its own, shows a blocked event loop as unanswered
health checks."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, get_operation_ast, parse
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from api.app import create_app
from api.schema.limits import measure
from tests.databases import fresh_database
from tests.graphql_client import WAIT_SECONDS, error_codes

pytestmark = pytest.mark.database

MAX_DEPTH = 14
MAX_ALIASES = 20
MAX_TOKENS = 3000
MAX_COST = 5000
MAX_BODY_BYTES = 1024 * 1024
REPOSITORY = Path(__file__).resolve().parent.parent


def doubling(levels: int, bottom: str = "__typename") -> str:
    """Each fragment spreads the next twice: `bottom` is selected 2**levels times."""
    return "query { ...F0 } " + " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)) \
        + f" fragment F{levels} on Query {{ {bottom} }}"


def nested_types(levels: int) -> str:
    """Introspection `levels` deep: `ofType` within `ofType`."""
    return '{ __type(name: "Query") { ' + "ofType { " * (levels - 1) + "name" \
        + " }" * levels + " }"


# What the limits count, against a naive count of the expanded operation ------------------------


@dataclass(frozen=True)
class Field:
    name: str
    alias: str | None
    first: int | str | None  # a literal, "$n", or no `first`
    selections: tuple[Any, ...] | None


@dataclass(frozen=True)
class Inline:
    selections: tuple[Any, ...]


@dataclass(frozen=True)
class Spread:
    fragment: int


def selections(spreadable: range, depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(selection(spreadable, depth), min_size=1, max_size=3).map(tuple)


def selection(spreadable: range, depth: int) -> st.SearchStrategy[Any]:
    inner = selections(spreadable, depth - 1) if depth > 0 else st.nothing()
    options: list[st.SearchStrategy[Any]] = [st.builds(Field, name=st.sampled_from(["a", "b"]),
                         alias=st.none() | st.sampled_from(["x", "y"]),
                         first=st.none() | st.integers(-1, 4) | st.just("$n"),
                         selections=st.none() | inner)]
    if spreadable:
        options.append(st.sampled_from(spreadable).map(Spread))
    if depth > 0:
        options.append(inner.map(Inline))
    return st.one_of(options)


@st.composite
def operations(draw: st.DrawFn) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """An operation's selections and fragments, each fragment spreading only later ones."""
    count = draw(st.integers(0, 4))
    fragments: list[tuple[Any, ...]] = []
    for index in reversed(range(count)):
        fragments.insert(0, draw(selections(range(index + 1, count), depth=2)))
    return draw(selections(range(count), depth=3)), fragments


def text(items: tuple[Any, ...]) -> str:
    parts = []
    for item in items:
        if isinstance(item, Spread):
            parts.append(f"...F{item.fragment}")
        elif isinstance(item, Inline):
            parts.append(f"... {text(item.selections)}")
        else:
            parts.append((f"{item.alias}: " if item.alias else "") + item.name
                         + (f"(first: {item.first})" if item.first is not None else "")
                         + (f" {text(item.selections)}" if item.selections else ""))
    return "{ " + " ".join(parts) + " }"


def expanded(items: tuple[Any, ...], fragments: list[tuple[Any, ...]]) -> list[Field]:
    """The fields selected, with every fragment written out where it is spread."""
    fields: list[Field] = []
    for item in items:
        if isinstance(item, Spread):
            fields += expanded(fragments[item.fragment], fragments)
        elif isinstance(item, Inline):
            fields += expanded(item.selections, fragments)
        else:
            inner = None if item.selections is None \
                else tuple(expanded(item.selections, fragments))
            fields.append(Field(item.name, item.alias, item.first, inner))
    return fields


def naive_cost(fields: tuple[Field, ...] | list[Field], n: int) -> int:
    total = 0
    for field in fields:
        total += 1
        if field.selections is not None:
            page = n if field.first == "$n" else field.first
            total += (max(page, 1) if isinstance(page, int) else 1) \
                * naive_cost(field.selections, n)
    return total


def naive_depth(fields: tuple[Field, ...] | list[Field]) -> int:
    return max((1 + naive_depth(f.selections) for f in fields if f.selections is not None),
               default=0)


def naive_aliases(fields: tuple[Field, ...] | list[Field]) -> int:
    return sum((f.alias is not None) + naive_aliases(f.selections or ()) for f in fields)


@settings(max_examples=300, deadline=None)
@given(operations(), st.none() | st.integers(-2, 5), st.none() | st.integers(-2, 5))
def test_what_the_limits_count_equals_a_count_of_the_expanded_operation(
        drawn: tuple[tuple[Any, ...], list[tuple[Any, ...]]], given_n: int | None,
        default_n: int | None) -> None:
    top, fragments = drawn
    default = f" = {default_n}" if default_n is not None else ""
    document = parse(f"query Q($n: Int{default}) {text(top)} " + " ".join(
        f"fragment F{i} on Query {text(selected)}" for i, selected in enumerate(fragments)))
    variables = {"n": given_n} if given_n is not None else {}
    n = given_n if given_n is not None else default_n if default_n is not None else 1
    fields = expanded(top, fragments)
    operation = get_operation_ast(document)
    assert operation is not None
    found = measure(document, operation, variables)
    assert (found.cost, found.depth, found.aliases) == \
        (naive_cost(fields, n), naive_depth(fields), naive_aliases(fields))


def test_a_fragment_cycle_is_measured_without_end() -> None:
    document = parse("{ ...A } fragment A on Query { ledger { ...B } } "
                     "fragment B on LedgerInfo { ...A }")
    operation = get_operation_ast(document)
    assert operation is not None
    assert measure(document, operation, {}).depth == 1


# Served in-process --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_database(server_url: str) -> Iterator[str]:
    """One database for the module: every test here only reads, and most are refused."""
    with fresh_database(server_url, "bevoegd_test") as url:
        yield url


@pytest.fixture(scope="module")
def client(module_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(module_database, run_projector=False)) as test_client:
        yield test_client


def refused(client: TestClient, query: str, **extra: Any) -> dict[str, Any]:
    """The answer to a document refused before it ran."""
    response = client.post("/graphql", json={"query": query, **extra})
    body = response.json()
    assert body.get("errors") and body.get("data") is None, body
    return body


def test_fragments_spread_twice_at_each_level_are_refused_as_too_costly(
        client: TestClient) -> None:
    body = refused(client, doubling(22))  # 4,194,304 fields once spread out
    assert error_codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["extensions"]["cost"] == {"requested": 2**22, "limit": MAX_COST}
    # so many levels that the count passes what JSON numbers hold: reported, not failed
    assert error_codes(refused(client, doubling(120))) == ["QUERY_TOO_COSTLY"]


def test_aliases_are_counted_as_often_as_their_fragment_is_spread(client: TestClient) -> None:
    body = refused(client, doubling(5, "one: __typename"))  # one alias, selected 32 times
    assert error_codes(body) == ["TOO_MANY_ALIASES"]
    assert "32 aliases" in body["errors"][0]["message"]


def test_depth_is_counted_through_fragments(client: TestClient) -> None:
    chain = " ".join(f"fragment T{i} on __Type {{ ofType {{ ...T{i + 1} }} }}"
                     for i in range(MAX_DEPTH)) + f" fragment T{MAX_DEPTH} on __Type {{ name }}"
    body = refused(client, '{ __type(name: "Query") { ...T0 } } ' + chain)
    assert error_codes(body) == ["QUERY_TOO_DEEP"]


def test_introspection_is_held_to_the_depth_limit(client: TestClient) -> None:
    assert client.post("/graphql", json={"query": nested_types(MAX_DEPTH)}).json()["data"]
    body = refused(client, nested_types(50))
    assert error_codes(body) == ["QUERY_TOO_DEEP"]
    assert f"limit is {MAX_DEPTH}" in body["errors"][0]["message"]


@pytest.mark.parametrize("query", [
    get_introspection_query(),
    get_introspection_query(descriptions=True, specified_by_url=True,
                            directive_is_repeatable=True, schema_description=True,
                            input_value_deprecation=True, one_of=True),
], ids=["graphql-core's", "with every option"])
def test_the_standard_introspection_query_is_answered(client: TestClient, query: str) -> None:
    body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Subscription", "Decision"} <= names


def test_introspection_lists_within_lists_are_refused(client: TestClient) -> None:
    """Within the depth limit, but every `fields` multiplies by the size of the schema:
    graphql-core's own rule (among its specified rules) refuses it."""
    body = refused(client, "{ __schema { types { fields { type { fields { type { fields { "
                           "type { fields { name } } } } } } } } } }")
    assert "introspection depth" in body["errors"][0]["message"]


def test_a_fragment_cycle_is_refused(client: TestClient) -> None:
    body = refused(client, "{ ...A } fragment A on Query { ledger { ...B } } "
                           "fragment B on LedgerInfo { ...C } fragment C on LedgerInfo { ...B }")
    assert any("within itself" in e["message"] for e in body["errors"]), body


def test_the_parser_stops_at_the_token_limit(client: TestClient) -> None:
    # two unnamed operations would be a request error of their own; the parser never gets
    # that far
    operations = "query { " + "__typename " * MAX_TOKENS + "} query { __typename }"
    body = refused(client, operations)
    assert "more than 3000 tokens" in body["errors"][0]["message"], body
    # comments are tokens too: a document of comments is refused as soon as they count up
    body = refused(client, "{ __typename }\n" + "#\n" * MAX_TOKENS)
    assert "more than 3000 tokens" in body["errors"][0]["message"], body


def test_a_body_over_the_limit_is_refused(client: TestClient) -> None:
    padded = json.dumps({"query": "{ __typename }" + " " * (MAX_BODY_BYTES - 40)}).encode()
    assert len(padded) <= MAX_BODY_BYTES
    assert client.post("/graphql", content=padded,
                       headers={"content-type": "application/json"}).status_code == 200
    oversized = padded + b" " * (MAX_BODY_BYTES - len(padded) + 1)
    announced = client.post("/graphql", content=oversized,
                            headers={"content-type": "application/json"})
    chunked = client.post("/graphql", content=iter([oversized[:1000], oversized[1000:]]),
                          headers={"content-type": "application/json"})
    assert "content-length" not in chunked.request.headers
    for response in announced, chunked:
        assert response.status_code == 413
        assert error_codes(response.json()) == ["REQUEST_TOO_LARGE"]


def test_the_size_limit_is_configured_in_the_environment(
        module_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """And holds for a GET's query string too (a megabyte of URL no HTTP client sends)."""
    monkeypatch.setenv("BEVOEGD_MAX_BODY_BYTES", "200")
    with TestClient(create_app(module_database, run_projector=False)) as small:
        body = {"query": "{ __typename }"}
        assert small.post("/graphql", json=body).status_code == 200
        assert small.get("/graphql", params=body).status_code == 200
        body["padding"] = "x" * 200
        for response in small.post("/graphql", json=body), small.get("/graphql", params=body):
            assert response.status_code == 413
            assert error_codes(response.json()) == ["REQUEST_TOO_LARGE"]
    monkeypatch.setenv("BEVOEGD_MAX_BODY_BYTES", "a megabyte")
    with pytest.raises(ValueError, match="BEVOEGD_MAX_BODY_BYTES"):
        create_app(module_database)


# Served on a real socket --------------------------------------------------------------------

SERVE = ("import sys, uvicorn; from api.app import create_app; "
         "uvicorn.run(create_app(sys.argv[1], run_projector=False), host='127.0.0.1', "
         "port=int(sys.argv[2]), log_level='warning')")


@pytest.fixture(scope="module")
def live(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The app under uvicorn in a process of its own; its port. A process and not a thread:
    a server whose event loop is stuck can still be stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("live") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "-c", SERVE, module_database, str(port)],
                                  cwd=REPOSITORY, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield port
    finally:
        server.kill()
        server.wait()


def test_the_server_keeps_answering_while_hostile_documents_arrive(live: int) -> None:
    """Each hostile document is refused, and health checks sent meanwhile are answered: every
    request within the deadline, past which the server counts as stalled."""
    url = f"http://127.0.0.1:{live}"
    hostile = [doubling(30 + i) for i in range(8)]  # each 2**30 fields and more spread out
    # graphql-core meters these and aborts at its budget: work of its own, off the loop
    hostile += [f"{{ {'ledger { position } ' * 740} a{i}: __typename }}" for i in range(2)]

    def send(query: str) -> list[str | None]:
        response = httpx.post(f"{url}/graphql", json={"query": query}, timeout=WAIT_SECONDS)
        return error_codes(response.json())

    def check_health() -> int:
        return httpx.get(f"{url}/healthz", timeout=WAIT_SECONDS).status_code

    with ThreadPoolExecutor(max_workers=len(hostile) + 1) as pool:
        refusals = [pool.submit(send, query) for query in hostile]
        health = [check_health() for _ in range(20)]
        codes = [refusal.result(timeout=WAIT_SECONDS) for refusal in refusals]
    assert health == [200] * 20
    assert all(c == ["QUERY_TOO_COSTLY"] for c in codes[:8]), codes
    assert all(codes[8:]), codes


def test_an_announced_body_over_the_limit_is_refused_unread(live: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", live, timeout=WAIT_SECONDS)
    connection.putrequest("POST", "/graphql")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(50 * MAX_BODY_BYTES))
    connection.endheaders()  # and not one byte of the body: the answer cannot wait for it
    response = connection.getresponse()
    assert response.status == 413
    assert error_codes(json.loads(response.read())) == ["REQUEST_TOO_LARGE"]
    connection.close()


def test_a_chunked_body_is_refused_once_past_the_limit(live: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", live, timeout=WAIT_SECONDS)
    connection.putrequest("POST", "/graphql")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    chunk = b" " * 65536
    for _ in range(MAX_BODY_BYTES // len(chunk)):
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.send(b"1\r\n \r\n")  # one byte past the limit, and the body never ends
    response = connection.getresponse()
    assert response.status == 413
    assert error_codes(json.loads(response.read())) == ["REQUEST_TOO_LARGE"]
    connection.close()
