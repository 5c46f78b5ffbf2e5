"""`bevoegd replay`: the state as the ledger knew it at a moment, from the events replayed in
memory through the domain, agrees with what the projections answer for the same moment (two
ways to the same answer: the aggregates, and the read side's bitemporal tables)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.application import Ledger
from ledger.database import DATABASE_URL_VARIABLE
from projections.queries.competences import competence_map
from projections.queries.pagination import PageRequest
from projections.queries.structure import jurisdictions
from tests.ledger_setup import build_world
from tests.read_models import import_history, pool_on, project, write_fresh_event

pytestmark = pytest.mark.database


def replayed(database_url: str, *arguments: str) -> dict:
    result = CliRunner().invoke(main, ["replay", *arguments],
                                env={DATABASE_URL_VARIABLE: database_url})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("on", [date(2005, 6, 1), date(2013, 3, 5), date(2020, 1, 1)])
async def test_the_replayed_map_is_the_projected_map(ledger: Ledger, database_url: str,
                                                     on: date) -> None:
    build_world(ledger)
    half = import_history(ledger, events=1200) // 2
    write_fresh_event(ledger)
    async with pool_on(database_url) as pool:
        await project(pool)
        for known_at in (half, ledger.position()):
            state = replayed(database_url, "--until", str(known_at), "--on", on.isoformat())
            assert state["until"]["position"] == known_at and state["on"] == on.isoformat()
            found = {(e["competence"], e["jurisdiction"], e["body"], e["capacity"])
                     for e in state["competence_map"]}
            codes = await jurisdictions(pool, PageRequest(100), known_at=known_at)
            projected = {(c.competence, c.jurisdiction, c.entry.body, c.entry.via)
                         for j in codes.items
                         for c in await competence_map(pool, j["code"], on, known_at)
                         if c.entry.covers(None)}
            assert found == projected
            assert found  # the world has competences on every date asked
            assert all(d["chain_held"] for d in state["decisions"])


def test_an_until_that_is_no_moment_is_refused(ledger: Ledger, database_url: str) -> None:
    result = CliRunner().invoke(main, ["replay", "--until", "gisteren"],
                                env={DATABASE_URL_VARIABLE: database_url})
    assert result.exit_code == 2 and "neither a position nor a date" in result.output
