"""Text no record can hold, refused at the door: a NUL character (which PostgreSQL text cannot
store) or a lone surrogate (which UTF-8 cannot encode), in any string a request gives, whether
written in the document or sent as a variable. Every string argument and input field of every
operation passes through here, before anything runs; an argument added later is covered
without more ado, and no resolver or query needs a check of its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from ledger.commands import UNSTORABLE

REFUSED = "contains a NUL character or a lone surrogate; no record holds those."


class RefuseUnstorableText(SchemaExtension):
    """Refuses, after validation (whose errors it adds to), a request with unstorable text in
    an argument written in the document or in a variable, naming each such argument."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            found = [*_in_document(document), *_in_variables(context.variables or {})]
            # set before strawberry looks at them: errors here stop the operation before it runs
            if found:
                context.pre_execution_errors = [*(context.pre_execution_errors or []), *found]
        yield


def _in_document(document: DocumentNode) -> list[GraphQLError]:
    finder = _LiteralFinder()
    visit(document, finder)
    return finder.found


class _LiteralFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[GraphQLError] = []

    def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
        if _unstorable(node.value):
            self.found.append(GraphQLError(
                f"The argument `{node.name.value}` {REFUSED}", nodes=[node],
                extensions={"code": "INVALID_ARGUMENT", "argument": node.name.value}))
        return self.SKIP

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> Any:
        if node.default_value is not None and _unstorable(node.default_value):
            name = node.variable.name.value
            self.found.append(GraphQLError(
                f"The default value of `${name}` {REFUSED}", nodes=[node],
                extensions={"code": "INVALID_ARGUMENT", "variable": name}))
        return self.SKIP


def _unstorable(value: ValueNode) -> bool:
    if isinstance(value, StringValueNode):
        return UNSTORABLE.search(value.value) is not None
    if isinstance(value, ListValueNode):
        return any(_unstorable(item) for item in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_unstorable(field.value) for field in value.fields)
    return False


def _in_variables(variables: Mapping[str, Any]) -> list[GraphQLError]:
    return [GraphQLError(f"The variable `${name}` {REFUSED}",
                         extensions={"code": "INVALID_ARGUMENT", "variable": name})
            for name, value in variables.items() if _unstorable_json(value)]


def _unstorable_json(value: Any) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, list):
        return any(_unstorable_json(item) for item in value)
    if isinstance(value, dict):
        return any(_unstorable_json(item) for item in value.values())
    return False
