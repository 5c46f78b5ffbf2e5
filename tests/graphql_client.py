"""Helpers for the GraphQL tests: posting operations to the app in-process, issuing tokens,
turning typed commands into mutation variables, and a small world with one record of every
kind a command can act on.

The helpers build their own camelCase names and enum values instead of importing the API's, so
the tests check the published contract rather than re-use the code under test."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import anyio
import asyncpg
import httpx
from pydantic import BaseModel
from starlette.testclient import TestClient, WebSocketTestSession

from api.app import create_app
from api.auth import Principal, Role, create_token, revoke_tokens
from ledger import commands as c
from ledger.application import Ledger
from ledger.database import eventsourcing_env
from ledger.transparency.note import Signer
from ledger.values import record_id
from projections.connection import connect_kwargs
from tests.databases import fresh_database
from tests.ledger_setup import build_world, run

WAIT_SECONDS = 10.0
"""The most a test waits for something to happen before it fails (a deadline, not a timing)."""

PAYLOAD = "command result position replayed userErrors { code message field }"

LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|asyncpg|psycopg|SELECT |INSERT |UPDATE |DELETE |DROP |"
    r"syntax error at|relation \"|bevoegd_events|projections\.|pydantic|strawberry",
    re.IGNORECASE)
"""What a message must never show: stack traces, SQL, table and module names."""


# Names of the contract ----------------------------------------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def graphql_input(model: BaseModel) -> dict[str, Any]:
    """A command (or nested input) as the JSON of its GraphQL input: camelCase names, enum
    values in upper case, dates in ISO form; fields left at their default stay out."""
    fields = type(model).model_fields
    return {camel(name): _graphql_value(fields[name].annotation, getattr(model, name))
            for name in fields if name in model.model_fields_set}


def _graphql_value(annotation: Any, value: Any) -> Any:
    origin = get_origin(annotation)
    if value is None:
        return None
    if origin is Annotated:
        return _graphql_value(get_args(annotation)[0], value)
    if origin in (Union, UnionType):
        member = next(a for a in get_args(annotation) if a is not NoneType)
        return _graphql_value(member, value)
    if origin is list:
        return [_graphql_value(get_args(annotation)[0], item) for item in value]
    if origin is Literal:
        return str(value).upper()
    if isinstance(value, BaseModel):
        return graphql_input(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def input_type_name(command_name: str) -> str:
    return "".join(part.title() for part in command_name.split("_")) + "Input"


def mutation_document(command_name: str) -> str:
    field = camel(command_name)
    return (f"mutation Run($key: String!, $input: {input_type_name(command_name)}!, "
            f"$correlation: String) {{ {field}(idempotencyKey: $key, input: $input, "
            f"correlationId: $correlation) {{ {PAYLOAD} }} }}")


# Talking to the app -------------------------------------------------------------------------


class Api:
    """The app behind a TestClient, spoken to as a GraphQL client would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def post(self, query: str, variables: dict[str, Any] | None = None, *,
             token: str | None = None, authorization: str | None = None) -> httpx.Response:
        headers = {"Authorization": authorization or f"Bearer {token}"} \
            if (token or authorization) else {}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.client.post("/graphql", json=body, headers=headers)

    def answer(self, query: str, variables: dict[str, Any] | None = None, *,
               token: str | None = None) -> dict[str, Any]:
        """The JSON answer of an operation that must succeed, without errors."""
        response = self.post(query, variables, token=token)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None, *,
             token: str | None = None) -> dict[str, Any]:
        return self.answer(query, variables, token=token)["data"]

    def mutate(self, command: c.Command, key: str, *, token: str | None = None,
               correlation_id: str | None = None,
               raw_input: dict[str, Any] | None = None) -> httpx.Response:
        """Sends `command` as its mutation; `raw_input` replaces its input (for bad input)."""
        variables = {"key": key, "input": raw_input if raw_input is not None
                     else graphql_input(command), "correlation": correlation_id}
        return self.post(mutation_document(command.name), variables, token=token)

    def payload(self, command: c.Command, key: str, *, token: str | None = None,
                correlation_id: str | None = None) -> dict[str, Any]:
        """The payload of a mutation that passed authorisation (accepted or refused by rules)."""
        body = self.answer(mutation_document(command.name),
                           {"key": key, "input": graphql_input(command),
                            "correlation": correlation_id}, token=token)
        return body["data"][camel(command.name)]

    def accepted(self, command: c.Command, key: str, *, token: str | None = None) -> int:
        """The position of a mutation that must be accepted."""
        payload = self.payload(command, key, token=token)
        assert payload["userErrors"] == [] and payload["position"], payload
        return int(payload["position"])

    def subscribe(self, token: str | None = None,
                  protocol: str = "graphql-transport-ws") -> WebSocketTestSession:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.websocket_connect("/graphql", subprotocols=[protocol],
                                             headers=headers)


@contextmanager
def serving(database_url: str, ledger: Ledger | None = None, *,
            run_projector: bool = True, signer: Signer | None = None) -> Iterator[Api]:
    """The app, by default with its in-process projection runner, for the duration of the
    block; with a signing key, it signs checkpoints."""
    with TestClient(create_app(database_url, ledger=ledger, run_projector=run_projector,
                               signer=signer)) as client:
        yield Api(client)


def eventually(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    """Polls until `condition` holds; fails naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:g} s for {what}")
        time.sleep(0.05)


def error_codes(body: dict[str, Any]) -> list[str | None]:
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


def refusal(response: httpx.Response) -> tuple[list[str | None], str]:
    """The error codes and the readable text of a refused request, whether the server answered
    with a GraphQL error body or with plain text."""
    try:
        body = response.json()
    except ValueError:
        return [], response.text
    if not isinstance(body, dict):
        return [], response.text
    assert_no_leak(body)
    return error_codes(body), " ".join(messages(body))


def messages(body: Any) -> list[str]:
    """Every string in an answer that is meant to be read: error and userError messages."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "message" and isinstance(value, str):
                found.append(value)
            else:
                found += messages(value)
    elif isinstance(body, list):
        for item in body:
            found += messages(item)
    return found


def assert_no_leak(body: Any) -> None:
    for message in messages(body):
        assert not LEAKS.search(message), f"internal detail in a message: {message!r}"
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        assert "stacktrace" not in str(error.get("extensions") or {}).lower(), error


# WebSockets with deadlines ------------------------------------------------------------------


async def _receive_within(session: WebSocketTestSession, seconds: float) -> Any:
    with anyio.fail_after(seconds):
        return await session._send_rx.receive()  # the session's own stream, with a deadline


def receive(session: WebSocketTestSession, seconds: float = WAIT_SECONDS) -> dict[str, Any]:
    """The next message from the server; fails after `seconds` instead of hanging the test
    (TestClient's own receive waits forever)."""
    message = session.portal.call(_receive_within, session, seconds)
    if message["type"] == "websocket.close":
        return {"type": "closed", "code": message.get("code")}
    return json.loads(message["text"])


# Tokens -------------------------------------------------------------------------------------


def issue_token(database_url: str, role: Role, bodies: tuple[str, ...] = (),
                name: str | None = None) -> str:
    """A new token, stored as the API stores it (hashed); named like the CLI names it."""
    principal = Principal(name or f"{role}:{','.join(bodies)}".rstrip(":"), role,
                          frozenset(bodies))
    return asyncio.run(_with_connection(database_url,
                                        lambda conn: create_token(conn, principal))).token


def revoke(database_url: str, name: str) -> int:
    return asyncio.run(_with_connection(database_url, lambda conn: revoke_tokens(conn, name)))


async def _with_connection(database_url: str, use: Callable[[asyncpg.Connection], Any]) -> Any:
    conn = await asyncpg.connect(**connect_kwargs(database_url))
    try:
        return await use(conn)
    finally:
        await conn.close()


# The world ----------------------------------------------------------------------------------

UNPUBLISHED = "college-concept"
"""A decision taken by college-dordrecht but not published: only auditors and its own clerks
may see it."""
COMMISSION = "opdracht-evaluatie"
SECOND_COMMISSION = "opdracht-agenda"
"""A commission of its own for the withdrawal, so that every sample command can run in turn."""
CONSULTATION = "zienswijze-begroting"
SEAT = "wethouder sociaal domein"
DOSSIER = "strategische-agenda"


def world_extras() -> list[c.Command]:
    """Beyond tests/world.py: one record of each kind a later command acts on."""
    return [
        c.EstablishJurisdiction(code="papendrecht", title="Papendrecht", kind="municipality"),
        c.DefineCompetence(code="wmo", title="Uitvoering Wmo", delegable=True, mandatable=True),
        c.DefineCompetence(code="belastingen", title="Heffen van belastingen",
                           delegable=False, mandatable=False),
        c.AttributeCompetence(competence="wmo", jurisdiction="dordrecht",
                              body="college-dordrecht", legal_basis="Wmo 2015 art. 2.1.1",
                              valid_from=date(2007, 1, 1)),
        c.FillSeat(body="college-dordrecht", seat=SEAT, holder="R. van der Linden",
                   on=date(2010, 4, 1)),
        c.TakeDecision(code=UNPUBLISHED, title="Concept organisatiebesluit",
                       summary="Herinrichting van de afdeling", competence="bestuursbesluiten",
                       jurisdiction="dordrecht", body="college-dordrecht",
                       taken_on=date(2013, 2, 12), outcome="adopted"),
        c.IssueCommission(code=COMMISSION, subject="Evaluatie van de samenwerking",
                          issued_by="raad-dordrecht", issued_to="college-dordrecht",
                          issued_on=date(2013, 1, 15), due_on=date(2013, 12, 31), binding=False),
        c.IssueCommission(code=SECOND_COMMISSION, subject="Regionale agenda uitwerken",
                          issued_by="raad-dordrecht", issued_to="college-dordrecht",
                          issued_on=date(2013, 2, 1), binding=False),
        c.OpenConsultation(code=CONSULTATION, subject="Begroting 2014", opened_by="dsb",
                           consulted=["raad-dordrecht"], opened_on=date(2013, 4, 1),
                           respond_by=date(2013, 6, 1)),
        c.OpenDossier(code=DOSSIER, title="Regionale strategische agenda"),
    ]


def decision_record(event: dict[str, Any]) -> str | None:
    """The id of the decision an event of the ledger's own record (ledger.history) belongs to:
    its own events, and the exercise its taking records on its competence's holding, which
    names it. The public sees none of them before the decision is published."""
    if event["type"] == "CompetenceHolding.Exercised":
        return str(record_id("decision", event["data"]["decision"]))
    return event["record"] if event["type"].startswith("Decision.") else None


def load_world(ledger: Ledger) -> int:
    """The small world plus its extras; returns the ledger position after it."""
    build_world(ledger)
    for command in world_extras():
        run(ledger, command)
    return ledger.position()


@contextmanager
def world_database(server_url: str) -> Iterator[tuple[str, int]]:
    """A database of its own on the server holding the small world and its extras (for a
    module whose tests only read): its URL, and the ledger position after the world."""
    with fresh_database(server_url, "bevoegd_test") as url:
        ledger = Ledger(env=eventsourcing_env(url))
        try:
            position = load_world(ledger)
        finally:
            ledger.close()
        yield url, position
