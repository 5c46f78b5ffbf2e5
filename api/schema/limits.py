"""Query cost, in the manner of GitHub's node limit: every list field's `first` multiplies the
cost of what is selected under it, so a query's cost is the most rows it could ask for. A query
above the limit is refused before it runs; every answer reports its cost in `extensions`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

LIST_COST = 1
"""What a list field costs before its items: one query."""


class QueryCost(SchemaExtension):
    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.cost: int | None = None

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            fragments = {d.name.value: d for d in document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            operations = [d for d in document.definitions
                          if isinstance(d, OperationDefinitionNode)
                          and (context.operation_name is None or d.name is None
                               or d.name.value == context.operation_name)]
            variables = context.variables or {}
            self.cost = max((_cost(op.selection_set, fragments, variables, set())
                             for op in operations), default=0)
            if self.cost > self.limit:
                # set before validation runs: errors here stop the operation before execution
                context.pre_execution_errors = [*(context.pre_execution_errors or []), GraphQLError(
                    f"The query could return up to {self.cost} objects; the limit is "
                    f"{self.limit}. Ask for smaller pages (`first`) or fewer nested lists.",
                    extensions={"code": "QUERY_TOO_COSTLY"})]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"requested": self.cost, "limit": self.limit}}


def _cost(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
          variables: dict[str, Any], seen: set[str]) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            first = _first(selection, variables)
            inner = _cost(selection.selection_set, fragments, variables, seen)
            total += (LIST_COST + first * inner) if first is not None else inner
            total += 1 if first is None and selection.selection_set is not None else 0
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                total += _cost(fragments[name].selection_set, fragments, variables, seen | {name})
    return total


def _first(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = (variables.get(argument.value.name.value)
                     if isinstance(argument.value, VariableNode)
                     else value_from_ast_untyped(argument.value))
            return value if isinstance(value, int) and value > 0 else 1
    return None
