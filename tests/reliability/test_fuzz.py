"""A hypothesis-driven fuzz of GraphQL documents and variables against a real `bevoegd serve`:
documents generated from the published schema by hypothesis-graphql (valid ones, and ones with
one violation each), mutations sent with a clerk's token, and junk: random text as the document,
random JSON as the variables, random bytes as the body. No answer is a 5xx or shows internals,
and a probe asking `{ __typename }` all the while is never left waiting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import REMOVE, ArgumentNode, DocumentNode, StringValueNode, Visitor, print_ast, visit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from tests.graphql_client import LEAKS
from tests.reliability.probe import Probe, probing
from tests.reliability.processes import serving
from tests.reliability.suite import Figures, World

pytestmark = [pytest.mark.database, pytest.mark.reliability, pytest.mark.timeout(600)]

SCHEMA = (Path(__file__).resolve().parents[2] / "graphql" / "schema.graphql").read_text()
ANSWER_SECONDS = 60.0  # far beyond the server's own 10 s limit: the server answers first
EXAMPLES = 250
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Attack:
    url: str
    world: World
    client: httpx.Client
    probe: Probe
    log: Path
    tried: int = 0

    def send(self, content: bytes, content_type: str = "application/json",
             token: str | None = None) -> None:
        """Sends one input; the answer must not be a 5xx nor show anything internal."""
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.tried += 1
        response = self.client.post(self.url, content=content, headers=headers)
        assert response.status_code < 500, (content[:500], response.text[:500])
        assert not _shown_internals(response.text, content), (content[:500], response.text[:500])
        # masked, an internal error shows nothing, but it is still the server failing
        assert "Internal error" not in response.text, (content[:800], response.text[:500])

    def send_json(self, body: Any, token: str | None = None) -> None:
        self.send(json.dumps(body).encode(), token=token)


@pytest.fixture(scope="module")
def attack(world: World, tmp_path_factory: pytest.TempPathFactory,
           figures: Figures) -> Iterator[Attack]:
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    with serving(world.database_url, log) as server, probing(server.graphql) as probe, \
            httpx.Client(timeout=ANSWER_SECONDS) as client:
        attack = Attack(server.graphql, world, client, probe, log)
        yield attack
    figures["GraphQL fuzz"] = {"inputs tried": attack.tried, **probe.figures()}


@pytest.fixture(autouse=True)
def server_held(attack: Attack) -> Iterator[None]:
    """After each test: the probe was answered throughout, and the inputs, all of them the
    client's mistakes, left no traceback in the server's log."""
    logged_before = attack.log.stat().st_size
    yield
    assert attack.probe.stalls == [], attack.probe.stalls[:3]
    assert attack.probe.running, "the probe stopped asking"
    with attack.log.open("rb") as log:
        log.seek(logged_before)
        logged = log.read().decode(errors="replace")
    assert "Traceback" not in logged, logged[logged.find("Traceback"):][:1500]


# Documents from the schema ------------------------------------------------------------------


class _WithoutWaits(Visitor):
    """Drops `atLeast`: a read waiting for a position beyond the head waits 5 s by design
    (tested elsewhere), which would spend the fuzz's time on waiting."""

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        return REMOVE if node.name.value == "atLeast" else None


def printed(document: DocumentNode) -> str:
    return print_ast(visit(document, _WithoutWaits()))


def _string(values: st.SearchStrategy[str]) -> st.SearchStrategy[StringValueNode]:
    """A custom scalar's literal: mostly well-formed, sometimes any text."""
    return st.one_of(values, st.text(max_size=30)).map(lambda text: StringValueNode(value=text))


SCALARS = {
    "Date": _string(st.dates(date(1800, 1, 1), date(2100, 12, 31)).map(date.isoformat)),
    "DateTime": _string(st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)),
}


@FUZZ
@given(document=queries(SCHEMA, custom_scalars=SCALARS, print_ast=printed))
def test_valid_queries(attack: Attack, document: str) -> None:
    attack.send_json({"query": document}, token=attack.world.auditor)


@FUZZ
@given(document=queries(SCHEMA, custom_scalars=SCALARS, print_ast=printed, mode=Mode.NEGATIVE))
def test_queries_with_a_violation(attack: Attack, document: str) -> None:
    attack.send_json({"query": document})


@FUZZ
@given(document=mutations(SCHEMA, custom_scalars=SCALARS, print_ast=printed))
def test_valid_mutations(attack: Attack, document: str) -> None:
    attack.send_json({"query": document}, token=attack.world.clerk)


@FUZZ
@given(document=mutations(SCHEMA, custom_scalars=SCALARS, print_ast=printed, mode=Mode.NEGATIVE))
def test_mutations_with_a_violation(attack: Attack, document: str) -> None:
    attack.send_json({"query": document}, token=attack.world.clerk)


# Junk ---------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20)
READS = [
    "query($first: Int!, $after: String, $text: String) { decisions(first: $first, "
    "after: $after, text: $text) { nodes { code title } pageInfo { endCursor } } }",
    "query($id: ID!) { node(id: $id) { id } }",
    "query($c: String!, $j: String!, $on: Date!) { whoIsCompetent(competence: $c, "
    "jurisdiction: $j, on: $on) { body { code } } }",
]


@FUZZ
@given(document=st.text(max_size=400))
def test_random_text_as_the_document(attack: Attack, document: str) -> None:
    attack.send_json({"query": document})


@FUZZ
@given(document=st.sampled_from(READS),
       variables=st.dictionaries(st.sampled_from(["first", "after", "text", "id", "c", "j", "on",
                                                  "other"]), JSON_VALUES, max_size=6))
def test_random_variables(attack: Attack, document: str, variables: dict[str, Any]) -> None:
    attack.send_json({"query": document, "variables": variables})


@FUZZ
@given(body=JSON_VALUES)
def test_random_json_as_the_body(attack: Attack, body: Any) -> None:
    attack.send_json(body)


@FUZZ
@given(content=st.binary(max_size=400),
       content_type=st.sampled_from(["application/json", "application/graphql+json",
                                     "text/plain", "application/json; charset=latin-1"]))
def test_random_bytes_as_the_body(attack: Attack, content: bytes, content_type: str) -> None:
    attack.send(content, content_type)


def _shown_internals(answer: str, sent: bytes) -> list[str]:
    """What in the answer looks internal and did not come from the client: a message may quote
    the input back (a title `BEVOEGD_EVENTS`, say), which shows the client nothing new."""
    quoted = sent.decode("utf-8", errors="replace").lower()
    return [found.group(0) for found in LEAKS.finditer(answer)
            if found.group(0).lower() not in quoted]
