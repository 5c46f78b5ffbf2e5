"""Personal data of private persons, with a vault configured: sealed with the person's own key
before any event holds it, readable by auditors through the API, and erased for good by
`bevoegd forget`, while every stored byte, hash and proof stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import main
from ledger import commands as c
from ledger.application import EVENTS_TABLE, Ledger
from ledger.database import DATABASE_URL_VARIABLE, eventsourcing_env
from ledger.vault import FORGOTTEN_TABLE, VAULT_VARIABLE
from tests.graphql_client import eventually, issue_token, serving
from tests.ledger_setup import build_world, run
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database

PERSON = c.PrivatePersonInput(person="persoon-17", name="J. Jansen",
                              address="Voorstraat 1, Dordrecht")
ADDRESSEE = """query($code: String!) {
  decision(code: $code) { code addressee { person erased name address } } }"""


@pytest.fixture
def vaulted(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.setenv(VAULT_VARIABLE, "1")
    ledger = Ledger(env=eventsourcing_env(database_url))
    try:
        yield ledger
    finally:
        ledger.close()


def stored_bytes(database_url: str) -> list[tuple[int, bytes, bytes]]:
    with psycopg.connect(database_url) as conn:
        return [(position, bytes(state), bytes(hashed)) for position, state, hashed in conn.execute(
            f"SELECT notification_id, state, event_hash FROM {EVENTS_TABLE}"
            " ORDER BY notification_id").fetchall()]


def test_personal_data_is_sealed_read_by_auditors_and_forgotten(vaulted: Ledger,
                                                                database_url: str) -> None:
    build_world(vaulted)
    command = decision_under_mandate("beschikking-pd", date(2014, 5, 1)).model_copy(
        update={"addressee": PERSON})
    position = run(vaulted, command).position
    before = stored_bytes(database_url)
    assert not any(b"Jansen" in state or b"Voorstraat" in state for _, state, _ in before)

    auditor = issue_token(database_url, "auditor", name="rekenkamer")
    with serving(database_url, vaulted) as api:
        eventually(lambda: api.data("{ ledger { projectedPosition } }")["ledger"][
            "projectedPosition"] >= position, "the decision projected")
        seen = api.data(ADDRESSEE, {"code": "beschikking-pd"}, token=auditor)["decision"]
        assert seen["addressee"] == {"person": "persoon-17", "erased": False,
                                     "name": "J. Jansen", "address": "Voorstraat 1, Dordrecht"}
        public = api.post(ADDRESSEE, {"code": "beschikking-pd"}).json()  # not published yet
        assert public["data"]["decision"] is None and "Jansen" not in str(public)
        assert [e["extensions"]["code"] for e in public["errors"]] == ["UNKNOWN_REFERENCE"]

        forgot = CliRunner().invoke(main, ["forget", "persoon-17", "--reason", "AVG art. 17",
                                           "--actor", "fg-dordrecht"],
                                    env={DATABASE_URL_VARIABLE: database_url,
                                         VAULT_VARIABLE: "1"})
        assert forgot.exit_code == 0, forgot.output
        # the forgetting reaches the server as a notification; answers kept before it go
        eventually(lambda: api.data(ADDRESSEE, {"code": "beschikking-pd"}, token=auditor)[
            "decision"]["addressee"] == {"person": "persoon-17", "erased": True, "name": None,
                                         "address": None}, "the addressee erased")
    assert stored_bytes(database_url) == before  # the events and their hashes are untouched
    with psycopg.connect(database_url) as conn:
        assert conn.execute(f"SELECT person, reason, actor FROM {FORGOTTEN_TABLE}").fetchall() \
            == [("persoon-17", "AVG art. 17", "fg-dordrecht")]
    again = CliRunner().invoke(main, ["forget", "persoon-17", "--reason", "twice"],
                               env={DATABASE_URL_VARIABLE: database_url, VAULT_VARIABLE: "1"})
    assert again.exit_code == 1


def test_forget_without_a_vault_is_a_usage_error(database_url: str) -> None:
    result = CliRunner().invoke(main, ["forget", "persoon-17", "--reason", "x"],
                                env={DATABASE_URL_VARIABLE: database_url, VAULT_VARIABLE: "0"})
    assert result.exit_code == 2 and "No vault" in result.output


def test_the_vault_switch_refuses_what_it_does_not_understand(database_url: str,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv(VAULT_VARIABLE, "yes")
    with pytest.raises(ValueError, match=VAULT_VARIABLE):
        Ledger(env=eventsourcing_env(database_url))
