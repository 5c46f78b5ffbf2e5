"""Writing clients for the reliability suite: griffies, each the clerk of a college of its own,
recording decisions over HTTP with idempotency keys as a careful client does (a write that got no
answer, or a 503, is sent again with the same key until it is acknowledged), and counting what
the server answered. Afterwards the ledger itself is asked whether every acknowledged write is in
it exactly once, at the position the server acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg

from ledger import commands as c
from ledger.application import EVENTS_TABLE, Ledger
from tests.graphql_client import LEAKS, camel, graphql_input, issue_token, mutation_document
from tests.ledger_setup import run

CLIENTS = 32
COMPETENCE = "bestuursbesluiten"
EVENTS_PER_DECISION = 3  # Registered, Taken, and Exercised on the holding
COMMANDS_TABLE = f"{EVENTS_TABLE}_commands"
REQUEST_SECONDS = 30.0
"""Longer than the server's own limit per request (10 s): the server answers first."""
RETRY_PAUSE_SECONDS = 0.1
"""A client's pause before it sends an unanswered write again; it waits for a 503's Retry-After
too, but at most a second, which keeps the test short."""
WRITE_DEADLINE = 120.0
"""The most the writes may take, outages included, before the test fails; never a timing."""


def jurisdiction(client: int) -> str:
    return f"gemeente-{client:02}"


def college(client: int) -> str:
    return f"college-{client:02}"


def world(clients: int) -> list[c.Command]:
    """A municipality per client, its college, and the college's own competence there: every
    client writes on a holding of its own, so no write is refused for another's."""
    commands: list[c.Command] = [c.DefineCompetence(
        code=COMPETENCE, title="Besluiten over de eigen organisatie", delegable=False,
        mandatable=False)]
    for n in range(clients):
        commands += [
            c.EstablishJurisdiction(code=jurisdiction(n), title=f"Gemeente {n}",
                                    kind="municipality"),
            c.EstablishBody(code=college(n), title=f"College van B&W {n}", kind="executive",
                            jurisdiction=jurisdiction(n), established_on=date(1851, 1, 1)),
            c.AttributeCompetence(competence=COMPETENCE, jurisdiction=jurisdiction(n),
                                  body=college(n), legal_basis="Gemeentewet art. 160",
                                  valid_from=date(1851, 1, 1)),
        ]
    return commands


def decision(client: int, n: int) -> c.TakeDecision:
    return c.TakeDecision(code=f"besluit-{client:02}-{n:04}", title=f"Organisatiebesluit {n}",
                          competence=COMPETENCE, jurisdiction=jurisdiction(client),
                          body=college(client), taken_on=date(2013, 1, 1) + timedelta(days=n),
                          outcome="adopted")


# Answers ------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What one request got: `position` when the write was acknowledged; `unexpected` when the
    answer is none a careful client may get; otherwise (no answer, or an honest 503) the client
    sends the write again, after `retry_after` seconds."""

    position: int | None = None
    replayed: bool = False
    retry_after: float | None = None
    unexpected: str | None = None
    status: int | None = None


def answer_of(response: httpx.Response) -> Answer:
    text = response.text
    if LEAKS.search(text):
        return Answer(unexpected=f"{response.status_code} shows internals: {text[:300]}",
                      status=response.status_code)
    if response.status_code == 503:
        return unavailable(response)
    try:
        body = response.json()
        payload = body["data"][camel("take_decision")]
    except (ValueError, KeyError, TypeError):
        return Answer(unexpected=f"{response.status_code}: {text[:300]}",
                      status=response.status_code)
    if response.status_code != 200 or payload["userErrors"] or not payload["position"]:
        return Answer(unexpected=f"{response.status_code}: {text[:300]}",
                      status=response.status_code)
    return Answer(position=int(payload["position"]), replayed=payload["replayed"], status=200)


def unavailable(response: httpx.Response) -> Answer:
    """A 503 is honest only with Retry-After (in seconds) and the GraphQL error code
    UNAVAILABLE."""
    retry_after = response.headers.get("retry-after", "")
    try:
        codes = [(e.get("extensions") or {}).get("code") for e in response.json()["errors"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        codes = []
    if not retry_after.isdigit() or codes != ["UNAVAILABLE"]:
        return Answer(unexpected=f"503 without Retry-After and UNAVAILABLE (Retry-After "
                                 f"{retry_after!r}): {response.text[:300]}", status=503)
    return Answer(retry_after=float(retry_after), status=503)


# The clients --------------------------------------------------------------------------------


@dataclass
class Write:
    key: str
    command: c.TakeDecision
    position: int | None = None
    """Where the server said the write stands, once it acknowledged it."""
    unanswered: int = 0
    """Attempts that got no acknowledgement (no answer, or a 503)."""
    replayed_on_retry: bool = False
    """The first acknowledgement was a replay: an earlier attempt was stored, unacknowledged."""


@dataclass
class Tally:
    """What the clients saw, for the test's assertions and the suite's figures."""

    answers: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return self.answers["acknowledged"]


@dataclass
class Griffie:
    """A clerk writing for one college, with its token and its decisions to record."""

    token: str
    writes: list[Write]

    async def send(self, client: httpx.AsyncClient, url: str, write: Write) -> Answer:
        variables = {"key": write.key, "input": graphql_input(write.command)}
        try:
            response = await client.post(url, json={"query": mutation_document("take_decision"),
                                                    "variables": variables},
                                         headers={"Authorization": f"Bearer {self.token}"})
        except httpx.TimeoutException:
            return Answer(unexpected=f"no answer within {REQUEST_SECONDS:g} s")
        except httpx.TransportError:
            return Answer(retry_after=0.0)  # no server there (yet): send it again
        return answer_of(response)

    async def write_all(self, client: httpx.AsyncClient, url: str, tally: Tally) -> None:
        """Sends each write until it is acknowledged, in order, as one griffie would."""
        deadline = time.monotonic() + WRITE_DEADLINE
        for write in self.writes:
            while write.position is None:
                answer = await self.send(client, url, write)
                if answer.unexpected is not None:
                    tally.unexpected.append(f"{write.key}: {answer.unexpected}")
                    return
                if answer.position is None:
                    write.unanswered += 1
                    tally.answers["503" if answer.status == 503 else "no answer"] += 1
                    if time.monotonic() > deadline:
                        tally.unexpected.append(f"{write.key}: not acknowledged within "
                                                f"{WRITE_DEADLINE:g} s")
                        return
                    await asyncio.sleep(min(answer.retry_after or 0.0, 1.0)
                                        + RETRY_PAUSE_SECONDS)
                    continue
                write.position = answer.position
                write.replayed_on_retry = answer.replayed and write.unanswered > 0
                tally.answers["acknowledged"] += 1
                if answer.replayed and write.unanswered == 0:
                    tally.unexpected.append(f"{write.key}: replayed on its first attempt")

    async def replay_all(self, client: httpx.AsyncClient, url: str, tally: Tally) -> None:
        """Sends every acknowledged write again: each must be answered as a replay of the
        first answer, at the same position, and store nothing. One that reached no server (a
        kept-alive connection the server had just closed) or found it unavailable is sent again,
        as a client would."""
        deadline = time.monotonic() + WRITE_DEADLINE
        for write in self.writes:
            answer = await self.send(client, url, write)
            while (answer.position is None and answer.unexpected is None
                   and time.monotonic() < deadline):
                await asyncio.sleep(min(answer.retry_after or 0.0, 1.0) + RETRY_PAUSE_SECONDS)
                answer = await self.send(client, url, write)
            if answer.position != write.position or not answer.replayed:
                tally.unexpected.append(f"{write.key}: acknowledged at {write.position}, "
                                        f"sent again: {answer}")
            tally.answers["replayed"] += 1


async def griffies(ledger: Ledger, database_url: str, writes: int,
                   clients: int = CLIENTS) -> list[Griffie]:
    """The world of the writing clients recorded in the ledger, a clerk's token per college,
    and each client's decisions to come."""
    for command in world(clients):
        run(ledger, command)
    tokens = [await asyncio.to_thread(issue_token, database_url, "clerk", (college(n),))
              for n in range(clients)]
    return [Griffie(tokens[n],
                    [Write(f"griffie-{n:02}-{i:04}", decision(n, i)) for i in range(writes)])
            for n in range(clients)]


def http_client(clients: int = CLIENTS) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=REQUEST_SECONDS,
                             limits=httpx.Limits(max_connections=clients))


async def write_all(url: str, writing: list[Griffie], tally: Tally) -> None:
    async with http_client(len(writing)) as client:
        await asyncio.gather(*(g.write_all(client, url, tally) for g in writing))


async def replay_all(url: str, writing: list[Griffie], tally: Tally) -> None:
    async with http_client(len(writing)) as client:
        await asyncio.gather(*(g.replay_all(client, url, tally) for g in writing))


# The ledger's side --------------------------------------------------------------------------


def assert_each_acknowledged_write_once(database_url: str, writing: list[Griffie],
                                        events_before: int) -> None:
    """Every acknowledged write is in the command log once, at the acknowledged position, and
    its events are in the log once, ending there; the log holds nothing else."""
    writes = every_write(writing)
    assert all(w.position is not None for w in writes)
    with psycopg.connect(database_url) as conn:
        logged = dict(conn.execute(
            f"SELECT idempotency_key, position FROM {COMMANDS_TABLE}"
            " WHERE idempotency_key = ANY(%s)", ([w.key for w in writes],)).fetchall())
        events: dict[str, tuple[int, int]] = {
            key: (count, last) for key, count, last in conn.execute(
                "SELECT convert_from(state, 'UTF8')::jsonb #>> '{meta,_data_,command_id}',"
                f" count(*), max(notification_id) FROM {EVENTS_TABLE} GROUP BY 1").fetchall()}
        total = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
    wrong = [(w.key, w.position, logged.get(w.key), events.get(w.key)) for w in writes
             if logged.get(w.key) != w.position
             or events.get(w.key) != (EVENTS_PER_DECISION, w.position)]
    assert wrong == [], f"acknowledged writes not in the ledger exactly once: {wrong[:10]}"
    assert total == (events_before + EVENTS_PER_DECISION * len(writes),)


def every_write(writing: list[Griffie]) -> list[Write]:
    return [w for g in writing for w in g.writes]


def summary(writing: list[Griffie], tally: Tally) -> dict[str, Any]:
    writes = every_write(writing)
    return {"writing clients": len(writing), "writes acknowledged": len(writes),
            "attempts unanswered (no answer or 503)": sum(w.unanswered for w in writes),
            "stored but unacknowledged, replayed on retry":
                sum(w.replayed_on_retry for w in writes),
            "acknowledged writes sent again and replayed": tally.answers["replayed"]}
