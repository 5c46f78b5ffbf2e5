"""explorer_page_p99: how long a visitor waits for an explorer page (HTML, rendered by the
server), next to the GraphQL requests the page corresponds to: the same stored operation with the
same variables (and, where the page reads a second one, that one too), posted to /graphql by a
client without a token, as a frontend would send them. The difference is what the explorer adds
(running the operations in the process, the template); the issue allows it 10 ms.

One page after another on one keep-alive connection, each record drawn at random, once, among
those the public may see (no answer comes from the GraphQL response cache), after a few pages and
requests that are not counted (the templates compiled, the statements prepared); each page is
followed by its GraphQL requests, so that both see the same machine."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from api.explorer.reading import operation
from bench.graphql_read import Server, serving
from bench.metrics import Metric, Spread, measured, p99
from projections.tracking import SCHEMA

PAGES_PER_ROUND = 300
WARM_UP = 5
HTML = "text/html"


@dataclass(frozen=True)
class ExplorerPage:
    metric: str
    operation: str
    """The stored operation (api/explorer/operations/) the page runs."""
    candidates: str
    """SQL listing the codes of the records such a page may show the public."""
    address: Callable[[str], str]
    variables: Callable[[str], dict[str, Any]]
    then: Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | None] = lambda answer: None
    """The page's second operation, if its first answer calls for one (a regional decision's
    page also reads the region's members on the day)."""


def _members_of_region(answer: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    decision = answer["decision"]
    if decision["jurisdiction"]["kind"] != "REGION" or not decision["takenOn"]:
        return None
    return "RegionMembers", {"region": decision["jurisdiction"]["code"],
                             "on": decision["takenOn"]}


PAGES = (
    ExplorerPage(
        "explorer_decision_page_p99", "Decision",
        f"SELECT code FROM {SCHEMA}.decisions WHERE published_position IS NOT NULL",
        lambda code: f"/besluiten/{code}", lambda code: {"code": code}, _members_of_region),
    ExplorerPage(
        "explorer_municipality_page_p99", "Municipality",
        f"SELECT code FROM {SCHEMA}.jurisdictions WHERE kind = 'municipality'",
        lambda code: f"/gemeenten/{code}", lambda code: {"code": code}),
)


def _milliseconds_since(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def _post(client: httpx.Client, server: Server, name: str, variables: dict[str, Any]
          ) -> dict[str, Any]:
    answer = client.post(server.url, json={"query": operation(name), "operationName": name,
                                           "variables": variables}).json()
    if "errors" in answer:
        raise RuntimeError(f"{name} {variables}: {answer['errors']}")
    return dict(answer["data"])


def explorer_pages(url: str, rounds: int) -> list[Metric]:
    with psycopg.connect(url) as conn:
        codes = {page.metric: [row[0] for row in conn.execute(page.candidates)]
                 for page in PAGES}
    found: dict[str, list[tuple[float, float]]] = {page.metric: [] for page in PAGES}
    for number in range(rounds):
        with serving(url, None) as server, httpx.Client(timeout=30) as client:
            base = server.url.removesuffix("/graphql")
            for page in PAGES:
                rng = random.Random(f"{page.metric}-{number}")
                drawn = rng.sample(codes[page.metric], min(len(codes[page.metric]),
                                                           PAGES_PER_ROUND + WARM_UP))
                for code in drawn[:WARM_UP]:  # templates compiled, statements prepared
                    client.get(base + page.address(code), headers={"accept": HTML})
                    _post(client, server, page.operation, page.variables(code))
                ours, baseline = [], []
                for index in range(PAGES_PER_ROUND):
                    code = drawn[WARM_UP + index % (len(drawn) - WARM_UP)]
                    began = time.perf_counter()
                    shown = client.get(base + page.address(code), headers={"accept": HTML})
                    ours.append(_milliseconds_since(began))
                    began = time.perf_counter()
                    answer = _post(client, server, page.operation, page.variables(code))
                    if (second := page.then(answer)) is not None:
                        _post(client, server, *second)
                    baseline.append(_milliseconds_since(began))
                    if shown.status_code != 200:
                        raise RuntimeError(f"{page.address(code)} answered {shown.status_code}")
                found[page.metric].append((p99(ours), p99(baseline)))
    return [measured(page.metric, "ms", Spread.of_values([o for o, _ in found[page.metric]]),
                     f"the GraphQL request of its operation ({page.operation})",
                     Spread.of_values([b for _, b in found[page.metric]]), digits=2)
            for page in PAGES]
