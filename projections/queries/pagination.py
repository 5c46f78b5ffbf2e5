"""Keyset pages (Relay connections underneath): a page is the `first` rows after a cursor in the
order of a unique, ever-growing key, so a cursor keeps its place while new events arrive."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from projections.errors import InvalidArgument

MAX_PAGE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: str | None = None
    newest_first: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.first <= MAX_PAGE:
            raise InvalidArgument(f"`first` must be between 1 and {MAX_PAGE}, not {self.first}.",
                              field="first")

    def key_after(self, kind: str) -> int | None:
        """The position the cursor stands on (lists ordered by ledger position)."""
        if self.after is None:
            return None
        key = decode_cursor(kind, self.after)
        if not is_position(key):
            raise InvalidArgument(f"'{self.after}' is not a cursor of this list.", field="after")
        return int(key)


@dataclass(frozen=True)
class Page(Generic[T]):
    edges: list[tuple[str, T]]  # (cursor, item)
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1][0] if self.edges else None

    @property
    def items(self) -> list[T]:
        return [item for _, item in self.edges]


def is_position(text: str) -> bool:
    """Whether the text is a ledger position (ASCII digits that fit a PostgreSQL bigint)."""
    return text.isascii() and text.isdigit() and int(text) < 2**63


def encode_cursor(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    try:
        found, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if found == kind:
            return key
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidArgument(f"'{cursor}' is not a cursor of this list.", field="after")


def page_of(page: PageRequest, kind: str, rows: Sequence[T], key: Callable[[T], object]
            ) -> Page[T]:
    edges = [(encode_cursor(kind, key(row)), row) for row in rows[: page.first]]
    return Page(edges, has_next_page=len(rows) > page.first)
