"""The seam for personal data of private persons (the addressee of a decision, say).

Such data never enters a plain immutable event. A vault seals it with a key of that person's own;
the event keeps only the person's reference and the sealed bytes, and forgetting the person
deletes the key (crypto-shredding) while the event, and the hash chain over it, stay intact.
Officeholders acting in office are public and need no vault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ledger.errors import RuleViolation


@dataclass(frozen=True)
class SealedPersonalData:
    """What an event holds of a private person: an opaque reference and ciphertext."""

    person: str
    sealed: str


class PersonalDataVault(Protocol):
    def seal(self, person: str, data: dict[str, str]) -> SealedPersonalData: ...

    def unseal(self, sealed: SealedPersonalData) -> dict[str, str] | None:
        """The data, or None once the person has been forgotten."""
        ...

    def forget(self, person: str, reason: str, actor: str) -> bool:
        """Deletes the person's key for good; False if the vault held none."""
        ...


class NoVault:
    """The default until a vault is configured: personal data is refused, never stored plain."""

    def seal(self, person: str, data: dict[str, str]) -> SealedPersonalData:
        raise RuleViolation(
            "This ledger has no vault for personal data configured, and personal data of "
            "private persons is never stored in plain events. Record the decision without the "
            "addressee's details, or configure a vault (BEVOEGD_VAULT=1).",
            code="PERSONAL_DATA_NOT_ACCEPTED", field="addressee")

    def unseal(self, sealed: SealedPersonalData) -> dict[str, str] | None:
        return None

    def forget(self, person: str, reason: str, actor: str) -> bool:
        return False
