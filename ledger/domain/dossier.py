"""Dossiers: the themes that group decisions and commissions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.values import Meta, record_id


class Dossier(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return record_id("dossier", code)

    @event("Opened")
    def __init__(self, code: str, title: str, description: str | None, meta: Meta) -> None:
        self.code = code
        self.title = title
        self.description = description
