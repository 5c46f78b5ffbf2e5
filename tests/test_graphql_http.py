"""GraphQL over HTTP, to the letter: the rules of the graphql-http server audit (each test names
the audit ids it stands for) and the specification's status codes for both response media types,
checked in-process so CI needs no npm; the last test runs the real audit wherever node is
installed, installing graphql-http at the version tests/package.json pins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.negotiation import negotiate
from tests.databases import fresh_database
from tests.servers import live

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
BOTH = [JSON, GRAPHQL_RESPONSE]
TYPENAME = {"query": "{ __typename }"}
NAMED_TYPE = "query Type($name: String!) { __type(name: $name) { name } }"
REPOSITORY = Path(__file__).resolve().parent.parent
AUDIT_SCRIPT = REPOSITORY / "tests" / "graphql_http_audit.mjs"
AUDIT_DIR = Path(os.environ.get("GRAPHQL_HTTP_DIR", REPOSITORY / "tests"))
"""Where graphql-http is installed for the real audit: tests/package.json pins it, and the audit
installs it there (`npm ci`) on its first run."""


@pytest.fixture(scope="module")
def module_database(server_url: str) -> Iterator[str]:
    """One database for the module: every test here only reads, and starting the app per
    parametrised case would take most of the run."""
    with fresh_database(server_url, "bevoegd_test") as url:
        yield url


@pytest.fixture(scope="module")
def client(module_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(module_database, run_projector=False)) as test_client:
        del test_client.headers["accept"]  # httpx sends `*/*` by default; the tests say what
        yield test_client


def post(client: TestClient, body: Any, accept: str | None = None, *,
         content_type: str | None = JSON, **headers: str) -> httpx.Response:
    """POSTs `body` (JSON unless it is already text or bytes) with exactly the headers given:
    no Accept header when `accept` is None."""
    sent = {"content-type": content_type, "accept": accept, **headers}
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/graphql", content=content,
                       headers={k: v for k, v in sent.items() if v is not None})


def get(client: TestClient, params: dict[str, str], accept: str | None = None) -> httpx.Response:
    return client.get("/graphql", params=params, headers={"accept": accept} if accept else {})


def assert_answer(response: httpx.Response, status: int, media_type: str) -> dict[str, Any]:
    """The response has `status` and is a GraphQL response in `media_type`, in UTF-8."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    body = json.loads(response.content.decode("utf-8"))
    assert isinstance(body, dict) and ("data" in body or body.get("errors")), body
    return body


def assert_refused(response: httpx.Response, status: int, media_type: str) -> dict[str, Any]:
    """Refused before execution: a GraphQL error, and no `data` entry."""
    body = assert_answer(response, status, media_type)
    assert "data" not in body and body["errors"][0]["message"], body
    return body


@pytest.mark.parametrize(("accept", "expected"), [
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),  # 22EB
    (JSON, JSON),  # 4655
    ("*/*", JSON),  # 47DE
    (None, JSON),  # 80D8
    ("application/*", JSON),
    (f"{GRAPHQL_RESPONSE}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE),
    (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
    (f"{JSON}; q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"*/*, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    (f"text/html, {GRAPHQL_RESPONSE}; q=0.5", GRAPHQL_RESPONSE),
])
def test_the_response_has_the_media_type_the_client_prefers(
        client: TestClient, accept: str | None, expected: str) -> None:
    """22EB 4655 47DE 80D8 82A3 2C94 03D4 34A2 13EE: a query over POST answers in UTF-8 with
    the preferred media type (application/json for `*/*` and no Accept, as the audit wants)."""
    response = post(client, TYPENAME, accept)
    body = assert_answer(response, 200, expected)
    assert body["data"] == {"__typename": "Query"} and "errors" not in body
    # for caches: a GET's answer depends on it (and on Origin, for the CORS headers)
    assert [v.strip() for v in response.headers["vary"].split(",")] == ["Accept", "Origin"]


@pytest.mark.parametrize("accept", [
    "text/plain", "text/html", f"{JSON}; q=0, {GRAPHQL_RESPONSE}; q=0",
    f"{JSON}; charset=iso-8859-1", "image/*", "nonsense",
])
def test_a_client_accepting_neither_media_type_gets_406(client: TestClient, accept: str) -> None:
    """The spec's recommended answer; the error itself is in application/json."""
    assert_refused(post(client, TYPENAME, accept), 406, JSON)


@pytest.mark.parametrize("content_type", [JSON, f"{JSON}; charset=utf-8", f"{JSON};charset=UTF-8"])
def test_requests_are_utf8(client: TestClient, content_type: str) -> None:
    """BF61 78D5: UTF-8 with or without the charset named."""
    body = {"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}
    answer = assert_answer(post(client, body, content_type=content_type), 200, JSON)
    assert answer["data"] == {"__type": None}


@pytest.mark.parametrize("content_type", [
    None, "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data",
    "application/graphql", f"{JSON}; charset=utf-16", "application/jsonx",
])
@pytest.mark.parametrize("accept", BOTH)
def test_a_post_body_that_is_not_utf8_json_gets_415(
        client: TestClient, content_type: str | None, accept: str) -> None:
    """9ABE: a POST without Content-Type (fetch then sends text/plain) is refused with a 4xx."""
    assert_refused(post(client, TYPENAME, accept, content_type=content_type), 415, accept)


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("params", [
    {"query": "{ __typename }"},
    {"query": NAMED_TYPE, "variables": json.dumps({"name": "sometype"})},
    {"query": "query Q { __typename }", "operationName": "Q", "extensions": "{}"},
    {"query": "{ __typename }", "operationName": ""},
])
def test_queries_run_over_get(client: TestClient, params: dict[str, str], accept: str) -> None:
    """5A70 D6D5 6A70: parameters in the query string, variables as JSON text."""
    body = assert_answer(get(client, params, accept), 200, accept)
    assert "errors" not in body, body


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("params", [
    {"query": "mutation { __typename }"},
    {"query": "query Q { __typename } mutation M { __typename }", "operationName": "M"},
])
def test_a_mutation_over_get_gets_405(client: TestClient, params: dict[str, str],
                                      accept: str) -> None:
    """9C48, and the spec's MUST: 405 with Allow, whatever the media type."""
    response = get(client, params, accept)
    assert_refused(response, 405, accept)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("accept", BOTH)
def test_other_methods_get_405(client: TestClient, accept: str) -> None:
    response = client.head("/graphql", params=TYPENAME, headers={"accept": accept})
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"


MALFORMED = {
    "no body": b"",  # A5BF
    "not JSON": '{ "not a JSON',  # B6DC BCF8 B7N8
    "not UTF-8": b'\xff\xfe{"query": "{ __typename }"}',
    "not an object": "[]",
    "a batch": json.dumps([TYPENAME, TYPENAME]),
    "no query": {"notquery": "{ __typename }"},  # 423L 8764 3E3A
    "query null": {"query": None},
    **{f"query {name}": {"query": value}  # LKJ0-3
       for name, value in [("object", {"obj": "ect"}), ("number", 0), ("boolean", False),
                           ("array", ["array"])]},
    **{f"{parameter} {name}": {**TYPENAME, parameter: value}  # 6C00-3 4760-3 58B0-3
       for parameter, invalid in [("operationName", [{"obj": "ect"}, 0, False, ["array"]]),
                                  ("variables", ["string", 0, False, ["array"]]),
                                  ("extensions", ["string", 0, False, ["array"]])]
       for name, value in zip(["a", "b", "c", "d"], invalid, strict=True)},
}


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_request_that_is_not_well_formed_gets_400(client: TestClient, body: Any,
                                                    accept: str) -> None:
    """With either media type: it is not a GraphQL-over-HTTP request at all."""
    assert_refused(post(client, body, accept), 400, accept)


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("params", [
    {"query": "{ __typename }", "variables": "{ not JSON"},
    {"query": "{ __typename }", "variables": "[]"},
    {"query": "{ __typename }", "extensions": ""},
    {"notquery": "{ __typename }"},
])
def test_a_get_that_is_not_well_formed_gets_400(client: TestClient, params: dict[str, str],
                                                accept: str) -> None:
    assert_refused(get(client, params, accept), 400, accept)


WELL_FORMED = {
    "operationName": {"operationName": "Query", "query": "query Query { __typename }"},  # 8161 B8B3
    **{f"{parameter} null": {**TYPENAME, parameter: None}  # 94B0-2 0220-2
       for parameter in ("variables", "operationName", "extensions")},
    "variables": {"query": NAMED_TYPE, "variables": {"name": "sometype"}},  # 2EA1 28B9
    "extensions": {**TYPENAME, "extensions": {"some": "value"}},  # 428F 1B7A
    "unknown member": {**TYPENAME, "reserved": True},
}


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("body", WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_well_formed_parameters_are_accepted(client: TestClient, body: dict[str, Any],
                                             accept: str) -> None:
    answer = assert_answer(post(client, body, accept), 200, accept)
    assert "errors" not in answer, answer


REQUEST_ERRORS = {
    "document parsing": {"query": "{"},  # 572B 865D 556A D586
    "empty document": {"query": ""},
    "document validation": {"query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }"},  # FDE2 51FE 74FF 5E5B
    "query cost": {"query": "{ jurisdictions(first: 100000) { edges { node { code } } } }"},
    "variable coercion": {"query": "query CoerceFailure($id: ID!){ __typename }",  # 7B9B 86EE
                          "variables": {"id": None}},
    "unknown operation": {"query": "query Q { __typename }", "operationName": "R"},
    "several operations, none named": {"query": "query A { __typename } query B { __typename }"},
    "no operation": {"query": "fragment F on Query { __typename }"},
    "subscription over HTTP": {"query": "subscription { ledgerEvents { position } }"},
}


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
@pytest.mark.parametrize("body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_a_graphql_request_error_is_400_only_with_the_new_media_type(
        client: TestClient, body: dict[str, Any], accept: str, status: int) -> None:
    """Nothing was executed, so there is no `data`; an application/json client keeps its 200."""
    assert_refused(post(client, body, accept), status, accept)


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize(("query", "data"), [
    ('{ node(id: "garbage") { id } }', {"node": None}),  # a field error: partial data
    ("{ jurisdictions(first: -1) { edges { cursor } } }", None),  # a non-null root field failed
])
def test_once_execution_began_the_answer_is_200(client: TestClient, query: str,
                                                data: dict[str, Any] | None, accept: str) -> None:
    body = assert_answer(post(client, {"query": query}, accept), 200, accept)
    assert body["data"] == data and body["errors"][0]["path"], body


@pytest.mark.parametrize("accept", BOTH)
@pytest.mark.parametrize("authorization", ["Bearer bvg_unknown", "Basic dXNlcjpwYXNz", "Bearer "])
def test_an_invalid_token_gets_401(client: TestClient, authorization: str, accept: str) -> None:
    response = post(client, TYPENAME, accept, authorization=authorization)
    body = assert_refused(response, 401, accept)
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_websocket_with_an_invalid_token_is_closed(client: TestClient) -> None:
    """As graphql-transport-ws refuses a connection: 4403, with the reason."""
    connecting = client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                          headers={"authorization": "Bearer bvg_unknown"})
    with connecting as session, pytest.raises(WebSocketDisconnect) as closed:
        session.receive_json()
    assert closed.value.code == 4403 and "token" in closed.value.reason


@pytest.mark.parametrize("accept", BOTH)
def test_an_internal_error_before_execution_is_masked(
        client: TestClient, monkeypatch: pytest.MonkeyPatch, accept: str) -> None:
    def fail(*args: Any) -> int:
        raise RuntimeError("relation bevoegd_events is gone")

    monkeypatch.setattr("api.schema.limits.measure", fail)
    uncached = {"query": "{ uncached: __typename }"}  # no other test asks it: no cached answer
    response = post(client, uncached, accept)
    body = assert_refused(response, 500 if accept == GRAPHQL_RESPONSE else 200, accept)
    assert body["errors"] == [{"message": "Internal error.", "extensions": {
        "code": "INTERNAL", "requestId": response.headers["x-request-id"]}}]


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_graphiql_is_served_to_browsers(client: TestClient, accept: str) -> None:
    response = client.get("/graphql", headers={"accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize(("accept", "status", "media_type"), [
    ("*/*", 400, JSON), (GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE), (None, 400, JSON),
])
def test_a_get_without_query_from_a_program_is_a_graphql_error(
        client: TestClient, accept: str | None, status: int, media_type: str) -> None:
    assert_refused(get(client, {}, accept), status, media_type)


def test_production_serves_no_graphiql(module_database: str) -> None:
    with TestClient(create_app(module_database, run_projector=False, production=True)) as c:
        assert_refused(c.get("/graphql", headers={"accept": "text/html"}), 406, JSON)
        browser = "text/html,application/xhtml+xml,*/*;q=0.8"
        assert_refused(c.get("/graphql", headers={"accept": browser}), 400, JSON)


@pytest.mark.parametrize(("accept", "expected"), [
    ("application/json;q=abc", None),  # a malformed range is ignored
    ("application/json;q=2", None),
    ("application/json;q=0.001", JSON),
    ("text/plain;q=1, application/json;q=0.1;level=1", JSON),
    ("application/json;charset=latin1;q=0.5", None),
    ("application/json;q=0.5;charset=latin1", JSON),  # after q: an accept-extension, ignored
    ("application/json;charset=\"UTF-8\"", JSON),
    ("*/*;q=0.1, application/json;q=0", GRAPHQL_RESPONSE),  # the most exact range decides
    ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE),
    ("", JSON),
])
def test_negotiation_follows_rfc_9110(accept: str, expected: str | None) -> None:
    assert negotiate(accept, [JSON, GRAPHQL_RESPONSE]) == expected


# The real audit -----------------------------------------------------------------------------


def _audit_unavailable() -> str | None:
    """Why the audit cannot run, after installing graphql-http if it is missing."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm) for the graphql-http audit"
    if _resolves_graphql_http():
        return None
    if shutil.which("npm") is None:
        return f"graphql-http is not installed in {AUDIT_DIR}, and there is no npm to install it"
    installed = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=AUDIT_DIR,
                               capture_output=True, text=True, timeout=300, check=False)
    if installed.returncode != 0 or not _resolves_graphql_http():
        return (f"`npm ci` in {AUDIT_DIR} could not install graphql-http for the audit: "
                f"{installed.stderr.strip()[-500:]}")
    return None


def _resolves_graphql_http() -> bool:
    found = subprocess.run(["node", "-e", "require.resolve('graphql-http')"], cwd=AUDIT_DIR,
                           capture_output=True, check=False)
    return found.returncode == 0


@pytest.fixture
def audit_dir() -> Path:
    reason = _audit_unavailable()
    if reason:
        pytest.skip(reason)
    return AUDIT_DIR


@pytest.fixture
def live_url(module_database: str) -> Iterator[str]:
    """The app on a real socket, as the audit speaks plain HTTP to a URL."""
    with live(create_app(module_database, run_projector=False)) as url:
        yield f"{url}/graphql"


def test_the_graphql_http_audit_passes(audit_dir: Path, live_url: str) -> None:
    """Every MUST and SHOULD of graphql-http's serverAudits."""
    audit = subprocess.run(["node", str(AUDIT_SCRIPT), live_url], cwd=audit_dir,
                           capture_output=True, text=True, timeout=120, check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
