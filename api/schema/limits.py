"""The limits on what one GraphQL operation may ask for, measured on its document before it runs:
- cost, in the manner of GitHub's node limit: every field selected counts one and a list field's
  `first` multiplies what is selected under it, so the cost is the most values it could return;
- depth: how deeply selection sets nest (`{ ledger { position } }` is 1);
- aliases: how many aliased fields it selects.

Each counts the operation as it runs, a fragment as often as it is spread (the spreads of a
fragment that spreads another twice multiply), yet each fragment is measured once: the work is
linear in the document however much its fragments multiply. Introspection counts like any other
selection. An operation over a limit is refused with the limit's code and nothing runs; every
answer reports its cost in `extensions`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

MAX_DEPTH = 14
"""Deep enough for the standard introspection query (graphql-core's nests types 9 deep: 14)."""
MAX_ALIASES = 20
MAX_COST = 5000


@dataclass(frozen=True)
class Measure:
    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def beside(self, other: Measure) -> Measure:
        """The measure of two selections made side by side."""
        return Measure(self.cost + other.cost, max(self.depth, other.depth),
                       self.aliases + other.aliases)


NOTHING = Measure()


def measure(document: DocumentNode, operation: OperationDefinitionNode,
            variables: Mapping[str, Any]) -> Measure:
    """The measure of `operation` with its fragments spread out, found without spreading them.

    A spread of an unknown fragment, or one that closes a cycle, counts nothing: validation
    refuses both."""
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
                if d.default_value is not None}
    pages = _PageSizes(variables, defaults)
    measured: dict[str, Measure] = {}
    for name in _spread_ones_first(fragments):
        measured[name] = _measure(fragments[name].selection_set, measured, pages)
    return _measure(operation.selection_set, measured, pages)


def _measure(selection_set: SelectionSetNode, fragments: Mapping[str, Measure],
             pages: _PageSizes) -> Measure:
    total = NOTHING
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total = total.beside(_field(selection, fragments, pages))
        elif isinstance(selection, InlineFragmentNode):
            total = total.beside(_measure(selection.selection_set, fragments, pages))
        elif isinstance(selection, FragmentSpreadNode):
            total = total.beside(fragments.get(selection.name.value, NOTHING))
    return total


def _field(field: FieldNode, fragments: Mapping[str, Measure], pages: _PageSizes) -> Measure:
    alias = 1 if field.alias is not None else 0
    if field.selection_set is None:
        return Measure(cost=1, aliases=alias)
    inner = _measure(field.selection_set, fragments, pages)
    return Measure(cost=1 + pages.of(field) * inner.cost, depth=1 + inner.depth,
                   aliases=alias + inner.aliases)


def _spread_ones_first(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments' names, each after those it spreads: depth-first with a stack of its own,
    as a chain of fragments may be longer than Python's recursion allows. A spread closing a
    cycle is passed over."""
    order: list[str] = []
    entered: set[str] = set()
    for root in fragments:
        if root in entered:
            continue
        entered.add(root)
        stack = [(root, _spreads(fragments[root].selection_set))]
        while stack:
            name, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                order.append(name)
            elif spread in fragments and spread not in entered:
                entered.add(spread)
                stack.append((spread, _spreads(fragments[spread].selection_set)))
    return order


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The names of the fragments spread in a selection set, at any depth within it."""
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        elif isinstance(selection, FieldNode | InlineFragmentNode) \
                and selection.selection_set is not None:
            yield from _spreads(selection.selection_set)


@dataclass(frozen=True)
class _PageSizes:
    variables: Mapping[str, Any]
    defaults: Mapping[str, ValueNode]

    def of(self, field: FieldNode) -> int:
        """What a field's `first` multiplies by: 1 without one, or for a value that is not an
        Int (the request then fails on it anyway)."""
        first = next((a.value for a in field.arguments or () if a.name.value == "first"), None)
        size = self._int(first) if first is not None else None
        return max(size, 1) if isinstance(size, int) else 1

    def _int(self, value: ValueNode) -> int | None:
        try:
            if not isinstance(value, VariableNode):
                return GraphQLInt.parse_literal(value)
            name = value.name.value
            if name in self.variables:
                return GraphQLInt.parse_value(self.variables[name])
            return self._int(self.defaults[name]) if name in self.defaults else None
        except GraphQLError:
            return None


class OperationLimits(SchemaExtension):
    """Refuses an operation over a limit, after validation (whose errors it adds to)."""

    def __init__(self) -> None:
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            found = measure(document, operation, context.variables or {})
            self.cost = found.cost
            # set before strawberry looks at them: errors here stop the operation before it runs
            context.pre_execution_errors = [*(context.pre_execution_errors or []),
                                            *refusals(found)]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": _reported(self.cost), "limit": MAX_COST}}


def refusals(found: Measure) -> list[GraphQLError]:
    errors = []
    if found.cost > MAX_COST:
        errors.append(GraphQLError(
            f"The query could return up to {_reported(found.cost)} values; the limit is "
            f"{MAX_COST}. Ask for smaller pages (`first`), fewer fields or fewer nested lists.",
            extensions={"code": "QUERY_TOO_COSTLY"}))
    if found.depth > MAX_DEPTH:
        errors.append(GraphQLError(
            f"The query nests {found.depth} levels deep; the limit is {MAX_DEPTH}.",
            extensions={"code": "QUERY_TOO_DEEP"}))
    if found.aliases > MAX_ALIASES:
        errors.append(GraphQLError(
            f"The query uses {_reported(found.aliases)} aliases; the limit is {MAX_ALIASES}.",
            extensions={"code": "TOO_MANY_ALIASES"}))
    return errors


REPORTED_AT_MOST = 2**53 - 1
"""Spreads and pages can multiply a count past what JSON numbers hold exactly (and past the
64 bits orjson writes): a larger count is reported as this, still far over any limit."""


def _reported(count: int) -> int:
    return min(count, REPORTED_AT_MOST)
