"""The floor of the read figures (bench/floor.py) does the GraphQL reads' work: for every
documented operation it has an endpoint for, it answers what the API's `data` holds, for
variables drawn as the benchmark draws them (the documented examples where it draws none), on a
small generated history."""

from __future__ import annotations

import asyncio

from starlette.testclient import TestClient

from bench.floor import ENDPOINTS, create_floor_app
from bench.graphql_read import DRAWS, Catalogue, distinct_variables, documented_operations
from ledger.application import Ledger
from tests.graphql_client import issue_token, serving
from tests.read_models import import_history, pool_on, project

DRAWN_PER_OPERATION = 10


def test_the_floor_answers_what_graphql_answers(database_url: str, ledger: Ledger) -> None:
    import_history(ledger)

    async def projected() -> None:
        async with pool_on(database_url) as pool:
            await project(pool)

    asyncio.run(projected())
    catalogue = Catalogue.read(database_url)
    operations = [op for op in documented_operations() if op.name in ENDPOINTS]
    assert operations, "the floor has no endpoint for any documented operation"
    auditor = issue_token(database_url, "auditor")
    with serving(database_url, ledger, run_projector=False) as api, \
            TestClient(create_floor_app(database_url)) as floor:
        for op in operations:
            # the documented examples name the demo's records; the generated history has others
            variables_sets = distinct_variables(DRAWS[op.name], catalogue, DRAWN_PER_OPERATION,
                                                seed=7) if op.name in DRAWS else op.examples
            assert variables_sets, op.name
            source = op.path.read_text(encoding="utf-8")
            for variables in variables_sets:
                answer = floor.post(f"/{op.name}", json={"query": source,
                                                         "variables": variables})
                assert answer.status_code == 200, (op.name, variables, answer.text)
                token = auditor if op.role == "auditor" else None
                assert answer.json()["data"] == api.data(source, variables, token=token), \
                    (op.name, variables)
