"""What the server logs of errors: nothing for a client's mistake or a refusal (the client has
the message), and for an internal error one traceback with the request's id, the id the client
gets in the error's extensions and in the X-Request-ID header."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ledger.application import Ledger
from tests.graphql_client import Api, error_codes, load_world, serving

pytestmark = pytest.mark.database

DECISIONS = "query($first: Int!) { decisions(first: $first) { nodes { code } } }"
BODY = 'query($code: String!) { body(code: $code) { code name } }'


@pytest.fixture
def api(database_url: str, ledger: Ledger) -> Iterator[Api]:
    at = load_world(ledger)
    with serving(database_url) as served:
        served.data("query($at: Int) { decisions(first: 1, atLeast: $at) { nodes { code } } }",
                    {"at": at})
        yield served


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    return caplog


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info]


def test_user_errors_log_no_traceback(api: Api, logged: pytest.LogCaptureFixture) -> None:
    for _ in range(3):
        assert error_codes(api.post(DECISIONS, {"first": 101}).json()) == ["INVALID_ARGUMENT"]
    assert api.post("{ nothing }").status_code == 200  # a validation error, answered
    write = api.post('mutation { defineCompetence(idempotencyKey: "k", input: {code: "x", '
                     'title: "X", delegable: true, mandatable: true}) { command } }')
    assert error_codes(write.json()) == ["UNAUTHENTICATED"]
    assert tracebacks(logged) == []
    assert not [r for r in logged.records if r.levelno >= logging.WARNING], logged.text


def break_a_projection(database_url: str) -> None:
    """A broken state the server cannot have foreseen: a table the read side needs is gone."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE projections.body_names RENAME TO body_names_gone")


def test_an_internal_error_is_logged_once_with_the_id_the_client_got(
        api: Api, database_url: str, logged: pytest.LogCaptureFixture) -> None:
    break_a_projection(database_url)
    response = api.post(BODY, {"code": "raad-dordrecht"})
    body = response.json()
    (error,) = body["errors"]
    assert error["message"] == "Internal error." and error["extensions"]["code"] == "INTERNAL"
    request_id = error["extensions"]["requestId"]
    assert request_id and response.headers["x-request-id"] == request_id
    (logged_error,) = tracebacks(logged)
    assert logged_error.levelno == logging.ERROR
    assert request_id in logged_error.getMessage()


def test_a_well_formed_request_id_is_taken_from_the_client(
        api: Api, database_url: str, logged: pytest.LogCaptureFixture) -> None:
    break_a_projection(database_url)
    given = f"req-{uuid.uuid4()}"
    response = api.client.post("/graphql", json={"query": BODY, "variables": {"code": "dsb"}},
                               headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given
    assert response.json()["errors"][0]["extensions"]["requestId"] == given
    (logged_error,) = tracebacks(logged)
    assert given in logged_error.getMessage()


@pytest.mark.parametrize("offered", ["two words", "x" * 200, "line\\nbreak", ""])
def test_a_malformed_request_id_is_replaced(api: Api, offered: str) -> None:
    response = api.client.get("/healthz", headers={"X-Request-ID": offered})
    assert response.status_code == 200
    assert response.headers["x-request-id"] not in ("", offered)


def test_every_answer_has_a_request_id(api: Api) -> None:
    first = api.post(DECISIONS, {"first": 1})
    second = api.post(DECISIONS, {"first": 1})  # from the response cache
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert second.headers.get_list("x-request-id") == [second.headers["x-request-id"]]
