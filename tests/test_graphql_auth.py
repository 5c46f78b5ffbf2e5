"""Who may do what over GraphQL: every mutation against every kind of caller, what the public
and auditors may read, revoked tokens, and the `bevoegd tokens` command line."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from api.auth import TOKENS_TABLE, TRUSTED_SECONDS, InvalidToken, TrustedTokens
from api.availability import DatabaseAvailability
from api.cli import main
from ledger import commands as c
from ledger.application import Ledger
from ledger.commands import COMMANDS
from ledger.history import history_entries
from ledger.values import record_id
from projections.connection import create_pool
from tests.graphql_client import (
    COMMISSION,
    CONSULTATION,
    SEAT,
    SECOND_COMMISSION,
    UNPUBLISHED,
    Api,
    assert_no_leak,
    decision_record,
    error_codes,
    issue_token,
    load_world,
    refusal,
    revoke,
    serving,
)

pytestmark = pytest.mark.database


@dataclass(frozen=True)
class Sample:
    """A command valid in the world of graphql_client.load_world, and the body a clerk must
    belong to for it (None: the structure of government, which no clerk records)."""

    command: c.Command
    acting_body: str | None


SAMPLES: dict[str, Sample] = {s.command.name: s for s in [
    Sample(c.EstablishJurisdiction(code="zwijndrecht", title="Zwijndrecht", kind="municipality"),
           None),
    Sample(c.AdmitMember(region="drechtsteden", member="papendrecht", on=date(2010, 1, 1)), None),
    Sample(c.ReleaseMember(region="drechtsteden", member="dordrecht", on=date(2030, 1, 1)), None),
    Sample(c.EstablishBody(code="rekenkamer-dordrecht", title="Rekenkamer Dordrecht",
                           kind="committee", jurisdiction="dordrecht",
                           established_on=date(2003, 1, 1)), None),
    Sample(c.RenameBody(body="college-dordrecht", title="College van burgemeester en wethouders",
                        on=date(2014, 1, 1)), "college-dordrecht"),
    Sample(c.AbolishBody(body="directeur-sdd", on=date(2030, 1, 1), reason="Taken naar de SDD"),
           "directeur-sdd"),
    Sample(c.FillSeat(body="raad-dordrecht", seat="voorzitter", holder="A. Kolff",
                      on=date(2013, 1, 1)), "raad-dordrecht"),
    Sample(c.VacateSeat(body="college-dordrecht", seat=SEAT, on=date(2014, 4, 1),
                        reason="Einde zittingsperiode"), "college-dordrecht"),
    Sample(c.DefineCompetence(code="afvalstoffenheffing", title="Afvalstoffenheffing",
                              delegable=True, mandatable=True), None),
    Sample(c.AttributeCompetence(competence="belastingen", jurisdiction="dordrecht",
                                 body="raad-dordrecht", legal_basis="Gemeentewet art. 216",
                                 valid_from=date(1851, 1, 1)), None),
    Sample(c.EndAttribution(competence="bestuursbesluiten", jurisdiction="drechtsteden",
                            body="dsb", on=date(2030, 1, 1), reason="Regeling opgeheven"), None),
    Sample(c.GrantDelegation(competence="wmo", jurisdiction="dordrecht", code="delegatie-wmo",
                             grantor="college-dordrecht", grantee="dsb",
                             legal_basis="Wgr art. 30", source_decision="college-delegeert",
                             valid_from=date(2007, 1, 1)), "college-dordrecht"),
    Sample(c.GrantMandate(competence="participatiewet", jurisdiction="dordrecht",
                          code="mandaat-sdd-2", grantor="dsb", grantee="directeur-sdd",
                          legal_basis="Awb 10:3", source_decision="dsb-mandateert",
                          valid_from=date(2010, 1, 1)), "dsb"),
    Sample(c.RevokeGrant(competence="participatiewet", jurisdiction="dordrecht",
                         grant="mandaat-sdd", on=date(2020, 1, 1), reason="Nieuw mandaatbesluit"),
           "dsb"),
    Sample(c.OpenDossier(code="netwerkorganisatie", title="Netwerkorganisatie"), None),
    Sample(c.ProposeDecision(code="voorstel-1", proposed_by="college-dordrecht",
                             title="Voorstel organisatie", competence="bestuursbesluiten",
                             jurisdiction="dordrecht", proposed_on=date(2013, 3, 1)),
           "college-dordrecht"),
    Sample(c.TakeDecision(code="besluit-1", title="Organisatiebesluit",
                          competence="bestuursbesluiten", jurisdiction="dordrecht",
                          body="college-dordrecht", taken_on=date(2013, 3, 5), outcome="adopted"),
           "college-dordrecht"),
    Sample(c.PublishDecision(decision=UNPUBLISHED, on=date(2013, 2, 20),
                             publication="Gemeenteblad Dordrecht 2013, 12"), "college-dordrecht"),
    Sample(c.BringIntoForce(decision="college-delegeert", on=date(2006, 2, 1)),
           "college-dordrecht"),
    Sample(c.RepealDecision(decision=UNPUBLISHED, on=date(2014, 1, 1),
                            repealed_by="college-delegeert", reason="Vervangen"),
           "college-dordrecht"),
    Sample(c.AnnulDecision(decision=UNPUBLISHED, on=date(2014, 1, 1),
                           annulled_by="Raad van State", reason="Strijd met de wet"), None),
    Sample(c.CorrectDecision(decision=UNPUBLISHED, reason="Typefout in de titel",
                             title="Concept organisatiebesluit 2013"), "college-dordrecht"),
    Sample(c.IssueCommission(code="opdracht-2", subject="Uitwerking agenda",
                             issued_by="raad-dordrecht", issued_to="college-dordrecht",
                             issued_on=date(2013, 3, 1), binding=False), "raad-dordrecht"),
    Sample(c.AcceptCommission(commission=COMMISSION, on=date(2013, 1, 20)), "college-dordrecht"),
    Sample(c.ReportCommissionProgress(commission=COMMISSION, on=date(2013, 6, 1),
                                      note="Halverwege"), "college-dordrecht"),
    Sample(c.FulfilCommission(commission=COMMISSION, on=date(2013, 11, 1)), "college-dordrecht"),
    Sample(c.WithdrawCommission(commission=SECOND_COMMISSION, on=date(2013, 5, 1),
                                reason="Niet meer nodig"), "raad-dordrecht"),
    Sample(c.OpenConsultation(code="zienswijze-2", subject="Jaarrekening", opened_by="dsb",
                              consulted=["raad-dordrecht"], opened_on=date(2013, 4, 1),
                              respond_by=date(2013, 6, 1)), "dsb"),
    Sample(c.SubmitView(consultation=CONSULTATION, council="raad-dordrecht",
                        on=date(2013, 5, 1), position="Akkoord"), "raad-dordrecht"),
    Sample(c.CloseConsultation(consultation=CONSULTATION, on=date(2013, 6, 2)), "dsb"),
]}


def test_every_command_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(COMMANDS)


# Mutations: who may write --------------------------------------------------------------------

ADMIN = "beheerder"
AUDITOR = "rekenkamer"
WORLD_BODIES = ("raad-dordrecht", "college-dordrecht", "dsb", "directeur-sdd")


def other_body(acting: str | None) -> str:
    return "dsb" if acting == "raad-dordrecht" else "raad-dordrecht"


def events_of_command(api: Api, auditor: str, key: str, position: int) -> list[dict[str, Any]]:
    """The events a command recorded, with their metadata, as an auditor reads them."""
    data = api.data("query($key: String!, $at: Int!) { auditTrail(first: 100, commandId: $key, "
                    "atLeast: $at) { nodes { position actor commandId correlationId } } }",
                    {"key": key, "at": position}, token=auditor)
    return data["auditTrail"]["nodes"]


def assert_refused(api: Api, ledger: Ledger, command: c.Command, token: str | None,
                   code: str) -> None:
    before = ledger.position()
    body = api.mutate(command, f"refused-{code}-{token}", token=token).json()
    assert error_codes(body) == [code], body
    assert body["data"] is None
    assert_no_leak(body)
    assert ledger.position() == before


def assert_bad_token(api: Api, ledger: Ledger, command: c.Command, token: str) -> None:
    before = ledger.position()
    response = api.mutate(command, "bad-token", token=token)
    assert response.status_code == 401, response.text
    codes, text = refusal(response)
    assert codes in ([], ["UNAUTHENTICATED"])
    assert "token" in text.lower()
    assert ledger.position() == before


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_who_may_record_each_command(name: str, database_url: str, ledger: Ledger) -> None:
    """No token: unauthenticated; an unknown token: 401; auditors and clerks of other bodies:
    forbidden; the clerk of the acting body (an admin for the structure of government): accepted,
    and recorded as the actor; an admin always passes authorisation."""
    sample = SAMPLES[name]
    load_world(ledger)
    acting = sample.acting_body
    auditor = issue_token(database_url, "auditor", name=AUDITOR)
    admin = issue_token(database_url, "admin", name=ADMIN)
    stranger = issue_token(database_url, "clerk", (other_body(acting),), name="griffie-elders")
    with serving(database_url) as api:
        assert_refused(api, ledger, sample.command, None, "UNAUTHENTICATED")
        assert_bad_token(api, ledger, sample.command, "bvg_not-a-token-of-ours")
        assert_refused(api, ledger, sample.command, auditor, "FORBIDDEN")
        assert_refused(api, ledger, sample.command, stranger, "FORBIDDEN")
        if acting is None:
            every_body = issue_token(database_url, "clerk", WORLD_BODIES, name="griffie-alles")
            assert_refused(api, ledger, sample.command, every_body, "FORBIDDEN")
            writer, writer_name = admin, ADMIN
        else:
            writer_name = f"griffie-{acting}"
            writer = issue_token(database_url, "clerk", (acting,), name=writer_name)

        key = f"{name}-first"
        payload = api.payload(sample.command, key, token=writer, correlation_id="dossier-42")
        assert payload["userErrors"] == [] and payload["position"] is not None, payload
        events = events_of_command(api, auditor, key, payload["position"])
        assert events and {e["actor"] for e in events} == {writer_name}
        assert {e["correlationId"] for e in events} == {"dossier-42"}
        assert max(e["position"] for e in events) == payload["position"]

        # The same command again under a new key: the rules may refuse it now (it exists
        # already), but the admin is never refused for who they are.
        again = api.payload(sample.command, f"{name}-admin", token=admin)
        assert_no_leak(again)


def test_admin_may_record_every_command(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    admin = issue_token(database_url, "admin", name=ADMIN)
    with serving(database_url) as api:
        for name, sample in SAMPLES.items():
            payload = api.payload(sample.command, f"admin-{name}", token=admin)
            assert payload["userErrors"] == [], (name, payload)
            assert payload["replayed"] is False


def test_a_clerk_may_act_for_each_of_its_bodies_only(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    clerk = issue_token(database_url, "clerk", ("raad-dordrecht", "dsb"), name="griffie-regio")
    with serving(database_url) as api:
        api.accepted(SAMPLES["fill_seat"].command, "seat", token=clerk)  # raad-dordrecht
        api.accepted(SAMPLES["open_consultation"].command, "consult", token=clerk)  # dsb
        assert_refused(api, ledger, SAMPLES["take_decision"].command, clerk, "FORBIDDEN")


def test_a_malformed_authorization_header_is_refused(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    token = issue_token(database_url, "admin", name=ADMIN)
    with serving(database_url) as api:
        before = ledger.position()
        for header in (f"Basic {token}", "Bearer", "Bearer   ", token):
            response = api.post("{ ledger { position } }", authorization=header)
            assert response.status_code == 401, (header, response.text)
            assert "Bearer" in refusal(response)[1]
        assert ledger.position() == before


# Reads: what the public and auditors see -----------------------------------------------------

DECISION_CODES = "query($at: Int) { decisions(first: 100, atLeast: $at) { nodes { code } } }"
TRAIL = ("query($at: Int) { auditTrail(first: 100, atLeast: $at) { nodes { id position "
         "recordCode actor commandId correlationId } } }")
ONE_DECISION = ("query($code: String!) { decision(code: $code) { code history(first: 20) "
                "{ nodes { type actor commandId correlationId } } } }")
NODE = "query($id: ID!) { node(id: $id) { id ... on LedgerEvent { recordCode actor } } }"


def decision_codes(api: Api, token: str | None, position: int) -> set[str]:
    nodes = api.data(DECISION_CODES, {"at": position}, token=token)["decisions"]["nodes"]
    return {node["code"] for node in nodes}


def trail(api: Api, token: str | None, position: int) -> list[dict[str, Any]]:
    return api.data(TRAIL, {"at": position}, token=token)["auditTrail"]["nodes"]


METADATA = ("actor", "commandId", "correlationId")


def test_the_public_sees_published_decisions_only(database_url: str, ledger: Ledger) -> None:
    position = load_world(ledger)
    auditor = issue_token(database_url, "auditor", name=AUDITOR)
    own_clerk = issue_token(database_url, "clerk", ("college-dordrecht",), name="griffie-dordrecht")
    other_clerk = issue_token(database_url, "clerk", ("raad-dordrecht",), name="griffie-raad")
    with serving(database_url) as api:
        published = {"college-delegeert", "dsb-mandateert"}
        assert decision_codes(api, None, position) == published
        # a clerk sees what the public sees, and the unpublished decisions of its own bodies
        assert decision_codes(api, other_clerk, position) == published
        assert decision_codes(api, own_clerk, position) == published | {UNPUBLISHED}
        assert decision_codes(api, auditor, position) == published | {UNPUBLISHED}
        # to the public it is unknown, exactly as a code never recorded
        hidden = api.post(ONE_DECISION, {"code": UNPUBLISHED}).json()
        assert hidden == api.post(ONE_DECISION, {"code": "nooit-genomen"}).json()
        assert [e["extensions"]["code"] for e in hidden["errors"]] == ["UNKNOWN_REFERENCE"]
        assert api.data(ONE_DECISION, {"code": UNPUBLISHED},
                        token=own_clerk)["decision"]["code"] == UNPUBLISHED
        assert api.data(ONE_DECISION, {"code": UNPUBLISHED},
                        token=auditor)["decision"]["code"] == UNPUBLISHED


def test_event_metadata_is_for_auditors_only(database_url: str, ledger: Ledger) -> None:
    position = load_world(ledger)
    auditor = issue_token(database_url, "auditor", name=AUDITOR)
    admin = issue_token(database_url, "admin", name=ADMIN)
    with serving(database_url) as api:
        public = trail(api, None, position)
        audited = trail(api, auditor, position)
        assert trail(api, admin, position) == audited
        assert len(audited) == position
        assert all(event[field] is None for event in public for field in METADATA)
        assert all(event["actor"] == "griffie" and event["commandId"] for event in audited)
        assert UNPUBLISHED not in {event["recordCode"] for event in public}
        assert {e["position"] for e in public} < {e["position"] for e in audited}

        hidden = next(e for e in audited if e["recordCode"] == UNPUBLISHED)
        assert api.data(NODE, {"id": hidden["id"]})["node"] is None
        assert api.data(NODE, {"id": hidden["id"]}, token=auditor)["node"]["actor"] == "griffie"

        history = api.data(ONE_DECISION, {"code": "college-delegeert"})["decision"]["history"]
        assert history["nodes"] and all(
            event[field] is None for event in history["nodes"] for field in METADATA)
        history = api.data(ONE_DECISION, {"code": "college-delegeert"},
                           token=auditor)["decision"]["history"]
        assert {event["actor"] for event in history["nodes"]} == {"griffie"}


def test_the_public_sees_no_event_of_a_decision_before_its_publication(
        database_url: str, ledger: Ledger) -> None:
    """Neither the decision's own events nor the exercise its taking records on its
    competence's holding (which names it): the audit trail gives them once it is published."""
    position = load_world(ledger)
    concept = str(record_id("decision", UNPUBLISHED))
    hidden = {e["position"] for e in history_entries(ledger, None, 0, position)
              if decision_record(e) == concept}
    assert len(hidden) > 1  # the decision's events and its exercise of the competence
    auditor = issue_token(database_url, "auditor", name=AUDITOR)
    admin = issue_token(database_url, "admin", name=ADMIN)
    with serving(database_url) as api:
        public = {e["position"] for e in trail(api, None, position)}
        assert public == set(range(1, position + 1)) - hidden
        for event in trail(api, auditor, position):
            found = api.data(NODE, {"id": event["id"]})["node"]
            assert (found is not None) == (event["position"] in public), event
        published = api.accepted(c.PublishDecision(decision=UNPUBLISHED, on=date(2013, 3, 1),
                                                   publication="Gemeenteblad 2013-12"),
                                 "publish", token=admin)
        assert {e["position"] for e in trail(api, None, published)} == set(
            range(1, published + 1))


# Token life -----------------------------------------------------------------------------------


def test_a_revoked_token_is_refused(database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    token = issue_token(database_url, "clerk", ("dsb",), name="griffie-dsb")
    other = issue_token(database_url, "auditor", name=AUDITOR)
    with serving(database_url) as api:
        api.accepted(SAMPLES["open_consultation"].command, "before-revocation", token=token)
        assert revoke(database_url, "griffie-dsb") == 1
        before = ledger.position()
        assert_bad_token(api, ledger, SAMPLES["grant_mandate"].command, token)
        assert api.post("{ ledger { position } }", token=token).status_code == 401
        assert ledger.position() == before
        assert api.data("{ ledger { position } }", token=other)  # others keep their access
    assert revoke(database_url, "griffie-dsb") == 0


def test_a_revoked_token_gets_no_remembered_answer(database_url: str, ledger: Ledger) -> None:
    position = load_world(ledger)
    token = issue_token(database_url, "auditor", name=AUDITOR)
    with serving(database_url) as api:
        decision_codes(api, None, position)  # projects the world
    # without a runner the projections stand still, so whether an answer is remembered does
    # not depend on when the runner's last notification comes in
    with serving(database_url, run_projector=False) as api:
        assert UNPUBLISHED in decision_codes(api, token, position)
        assert revoke(database_url, AUDITOR) == 1
        response = api.post(DECISION_CODES, {"at": position}, token=token)
        assert response.status_code == 401, response.text


def test_a_checked_token_is_trusted_for_a_second_only(database_url: str) -> None:
    """Within TRUSTED_SECONDS a server goes by its last lookup; after that it looks again.
    (Revoking waits out that second, see test_a_revoked_token_is_refused.)"""
    token = f"Bearer {issue_token(database_url, 'auditor', name=AUDITOR)}"

    async def check() -> None:
        pool = await create_pool(database_url, max_size=1)
        try:
            tokens = TrustedTokens(pool, DatabaseAvailability(lambda: pool.fetchval("SELECT 1")))
            principal = await tokens.principal_for(token)
            await pool.execute(f"UPDATE {TOKENS_TABLE} SET revoked_at = now()")  # no waiting
            assert await tokens.principal_for(token) == principal
            await asyncio.sleep(TRUSTED_SECONDS)
            with pytest.raises(InvalidToken):
                await tokens.principal_for(token)
        finally:
            await pool.close()

    asyncio.run(check())


# The command line -----------------------------------------------------------------------------


TOKEN = re.compile(r"\bbvg_[A-Za-z0-9_-]{20,}")


def created_token(cli: CliRunner, *arguments: str) -> str:
    result = cli.invoke(main, ["tokens", "create", *arguments])
    assert result.exit_code == 0, result.output
    found = TOKEN.findall(result.stdout)
    assert len(found) == 1, result.stdout  # printed once, on stdout, for scripts to capture
    return found[0]


def stored_tokens(database_url: str) -> list[dict[str, Any]]:
    """The rows of the token table, as raw text; none if the table was never made."""
    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT to_regclass('bevoegd_tokens')").fetchone()[0] is None:
            return []
        cursor = conn.execute("SELECT encode(token_hash, 'hex') AS hash, principal, role, "
                              "bodies, revoked_at FROM bevoegd_tokens")
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_cli_tokens_create_and_revoke(cli: CliRunner, database_url: str, ledger: Ledger) -> None:
    load_world(ledger)
    clerk = created_token(cli, "--role", "clerk", "--body", "dsb", "--body", "raad-dordrecht",
                          "--name", "griffie-regio")
    auditor = created_token(cli, "--role", "auditor")
    rows = stored_tokens(database_url)
    assert {(r["principal"], r["role"]) for r in rows} == {("griffie-regio", "clerk"),
                                                           ("auditor", "auditor")}
    assert not any(clerk in str(row) or auditor in str(row) for row in rows)  # hashes only

    with serving(database_url) as api:
        position = api.accepted(SAMPLES["open_consultation"].command, "cli-1", token=clerk)
        assert_refused(api, ledger, SAMPLES["take_decision"].command, clerk, "FORBIDDEN")
        events = events_of_command(api, auditor, "cli-1", position)
        assert {event["actor"] for event in events} == {"griffie-regio"}

    revoked = cli.invoke(main, ["tokens", "revoke", "griffie-regio"])
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked 1 token(s) of griffie-regio" in revoked.output
    with serving(database_url) as api:
        assert_bad_token(api, ledger, SAMPLES["submit_view"].command, clerk)
        assert api.data("{ ledger { position } }", token=auditor)

    again = cli.invoke(main, ["tokens", "revoke", "griffie-regio"])
    assert again.exit_code == 1  # nothing left to revoke
    assert "Revoked 0 token(s)" in again.output


def test_cli_default_token_name_is_role_and_bodies(cli: CliRunner, database_url: str) -> None:
    created_token(cli, "--role", "clerk", "--body", "dsb")
    created_token(cli, "--role", "admin")
    assert {row["principal"] for row in stored_tokens(database_url)} == {"clerk:dsb", "admin"}


@pytest.mark.parametrize("arguments", [
    ["create", "--role", "clerk"],
    ["create", "--role", "clerk", "--name", "griffie"],
    ["create", "--role", "auditor", "--body", "dsb"],
    ["create", "--role", "admin", "--body", "dsb"],
    ["create", "--role", "public"],
    ["create", "--role", "superuser"],
    ["create"],
    ["revoke"],
], ids=" ".join)
def test_cli_tokens_usage_errors(cli: CliRunner, database_url: str,
                                 arguments: list[str]) -> None:
    result = cli.invoke(main, ["tokens", *arguments])
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output or "Error:" in result.output
    assert not TOKEN.search(result.output)
    assert stored_tokens(database_url) == []
