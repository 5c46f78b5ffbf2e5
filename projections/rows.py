"""Keyed rows changed in memory for a whole batch, then written back in one statement.

A batch touches a record many times (a decision is registered, taken and published within
seconds); loading the touched rows once, applying the events to them in order, and upserting the
result keeps a batch to a few round trips whatever its mix of events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import asyncpg

Row = dict[str, Any]


class RowSet:
    def __init__(self, schema: str, table: str, key: Sequence[str], columns: Sequence[str],
                 group: Sequence[str] = ()):
        self.table = f"{schema}.{table}"
        self.key = tuple(key)
        self.columns = tuple(columns)
        self._values = _getter(self.columns)
        self._key_of = _getter(self.key)
        self.group = tuple(group)
        self.rows: dict[tuple[Any, ...], Row] = {}
        self.groups: dict[tuple[Any, ...], list[Row]] = {}
        self.changed: set[tuple[Any, ...]] = set()
        self.new: set[tuple[Any, ...]] = set()  # keys of rows not stored yet

    async def load(self, conn: asyncpg.Connection, where: str, *args: Any) -> None:
        """Loads the stored rows matching `where` ($1.. are `args`) that are not loaded yet."""
        await self.load_query(
            conn, f"SELECT {', '.join(self.columns)} FROM {self.table} WHERE {where}", *args)

    async def load_query(self, conn: asyncpg.Connection, query: str, *args: Any) -> None:
        """Loads the rows a whole query returns (the table's columns), not loaded yet."""
        for row in await conn.fetch(query, *args):
            key = self._key_of(row)
            if key not in self.rows:
                self._keep(key, dict(row))

    def add(self, **values: Any) -> Row:
        row = dict.fromkeys(self.columns) | values
        key = self._key_of(row)
        self._keep(key, row)
        self.new.add(key)
        return row

    def get(self, *key: Any) -> Row:
        """The row with this key, marked as changed: the caller is about to update it."""
        self.mark_key(key)
        return self.rows[key]

    def in_group(self, *values: Any) -> list[Row]:
        """The loaded rows whose `group` columns have these values."""
        return self.groups.get(values, [])

    def mark(self, row: Row) -> None:
        self.mark_key(self._key_of(row))

    def mark_key(self, key: tuple[Any, ...]) -> None:
        if key not in self.new:
            self.changed.add(key)

    async def save(self, conn: asyncpg.Connection) -> None:
        """Copies the new rows in and updates the changed stored ones."""
        schema, _, table = self.table.partition(".")
        await append(conn, schema, table, self.columns,
                     [self._values(self.rows[key]) for key in self.new])
        if self.changed:
            assignments = ", ".join(f"{c} = ${n}" for n, c in enumerate(self.columns, 1)
                                    if c not in self.key)
            match = " AND ".join(f"{c} = ${self.columns.index(c) + 1}" for c in self.key)
            await conn.executemany(
                f"UPDATE {self.table} SET {assignments} WHERE {match}",
                [self._values(self.rows[key]) for key in self.changed])
        self.new.clear()
        self.changed.clear()

    def _keep(self, key: tuple[Any, ...], row: Row) -> None:
        self.rows[key] = row
        if self.group:
            self.groups.setdefault(tuple(row[c] for c in self.group), []).append(row)


def _getter(columns: tuple[str, ...]) -> Callable[[Row | asyncpg.Record], tuple[Any, ...]]:
    """The values of these columns of a row, as a tuple (even of one column)."""
    if len(columns) == 1:
        column = columns[0]
        return lambda row: (row[column],)
    return itemgetter(*columns)


async def append(conn: asyncpg.Connection, schema: str, table: str,
                 columns: Sequence[str], records: list[tuple[Any, ...]]) -> None:
    """Rows that are only ever added (histories, notes), copied in one go."""
    if records:
        await conn.copy_records_to_table(table, schema_name=schema, columns=list(columns),
                                         records=records)
