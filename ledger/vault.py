"""The vault for personal data of private persons, in the ledger's own database: a key of each
person's own (AES-256-GCM, from the `cryptography` package) in a table of its own, never in an
event. An event holds the person's reference and the sealed bytes; the hash chain and the
transparency log cover those, so forgetting a person (deleting the key: crypto-shredding) leaves
every hash and every proof as it was, and the data unreadable for good. Who had a person
forgotten, and why, is kept beside the keys.

Turned on with BEVOEGD_VAULT=1; without it, personal data is refused (ledger/personal_data.py)."""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore

from ledger.personal_data import SealedPersonalData

VAULT_VARIABLE = "BEVOEGD_VAULT"
KEYS_TABLE = "bevoegd_person_keys"
FORGOTTEN_TABLE = "bevoegd_forgotten_persons"
FORGOTTEN_CHANNEL = "bevoegd_forgotten"
"""Notified when a person is forgotten: answers that showed their data are out of date."""
NONCE_BYTES = 12


def vault_wanted(value: str | None) -> bool:
    """BEVOEGD_VAULT: `1` on, `0` or unset off; anything else is refused, not read as off."""
    if value in (None, "", "0"):
        return False
    if value == "1":
        return True
    raise ValueError(f"{VAULT_VARIABLE} is 1 or 0, not {value!r}.")


class DatabaseVault:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        with datastore.transaction(commit=True) as curs:
            curs.execute(f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (person text PRIMARY KEY,"
                         " key bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
            curs.execute(f"CREATE TABLE IF NOT EXISTS {FORGOTTEN_TABLE} (person text NOT NULL,"
                         " reason text NOT NULL, actor text NOT NULL,"
                         " forgotten_at timestamptz NOT NULL DEFAULT now())")

    def seal(self, person: str, data: dict[str, str]) -> SealedPersonalData:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"INSERT INTO {KEYS_TABLE} (person, key) VALUES (%s, %s)"
                         " ON CONFLICT (person) DO NOTHING", (person, AESGCM.generate_key(256)))
            curs.execute(f"SELECT key FROM {KEYS_TABLE} WHERE person = %s", (person,))
            row = curs.fetchone()
        assert row is not None
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(bytes(row["key"])).encrypt(
            nonce, json.dumps(data, sort_keys=True).encode(), person.encode())
        return SealedPersonalData(person, base64.b64encode(nonce + sealed).decode())

    def unseal(self, sealed: SealedPersonalData) -> dict[str, str] | None:
        """The data, or None once the person has been forgotten."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT key FROM {KEYS_TABLE} WHERE person = %s", (sealed.person,))
            row = curs.fetchone()
        if row is None:
            return None
        raw = base64.b64decode(sealed.sealed)
        try:
            plain = AESGCM(bytes(row["key"])).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                                      sealed.person.encode())
        except InvalidTag:  # sealed under a key since forgotten, for a person seen again
            return None
        data: dict[str, str] = json.loads(plain)
        return data

    def forget(self, person: str, reason: str, actor: str) -> bool:
        """Deletes the person's key and records who asked and why; False if there was none."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {KEYS_TABLE} WHERE person = %s RETURNING person",
                         (person,))
            deleted = curs.fetchone() is not None
            if deleted:
                curs.execute(f"INSERT INTO {FORGOTTEN_TABLE} (person, reason, actor)"
                             " VALUES (%s, %s, %s)", (person, reason, actor))
                curs.execute(f"NOTIFY {FORGOTTEN_CHANNEL}")
        return deleted
