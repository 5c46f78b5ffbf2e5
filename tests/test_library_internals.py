"""The graphql-core and strawberry internals Bevoegd builds on, outside their documented API, are
still there with the parameters it passes. pyproject.toml pins both to the minor series these
tests passed on; an upgrade that changes one of them fails here, naming it and the installed
versions, rather than deep inside a request. Who uses what:
- api/schema/execution.py, the short way for plain leaf fields (off with BEVOEGD_FAST_EXECUTION=0);
- api/schema/documents.py, parsing and validating documents in a worker thread;
- api/http.py, api/websocket.py and api/schema/errors.py: the HTTP path, the WebSocket handler,
  masking and logging errors."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import cross_web
import graphql
import pytest
from graphql import GraphQLEnumType, GraphQLSchema, GraphQLString
from graphql.execution.middleware import MiddlewareManager
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.asgi import GraphQL
from strawberry.extensions import MaskErrors
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from api.schema import FAST_EXECUTION_VARIABLE, build_schema
from api.schema.execution import LeafFieldExecutor

VERSIONS = (f"graphql-core {graphql.version}, strawberry-graphql {version('strawberry-graphql')}, "
            f"cross-web {version('cross-web')}")

OVERRIDDEN: list[tuple[str, Callable[..., Any], list[str]]] = [
    # a method Bevoegd overrides (and calls with its arguments in this order)
    ("ExecutionContext.execute_field", StrawberryGraphQLCoreExecutionContext.execute_field,
     ["self", "parent_type", "source", "field_details_list", "path", "position_context"]),
    ("MaskErrors.anonymise_error", MaskErrors.anonymise_error, ["self", "error"]),
    ("Schema.process_errors", Schema.process_errors, ["self", "errors", "execution_context"]),
    ("GraphQL.run", GraphQL.run, ["self", "request", "context", "root_value"]),
    ("GraphQL.render_graphql_ide", GraphQL.render_graphql_ide, ["self", "request"]),
    ("BaseGraphQLTransportWSHandler.handle", BaseGraphQLTransportWSHandler.handle, ["self"]),
    ("BaseGraphQLTransportWSHandler.send_message", BaseGraphQLTransportWSHandler.send_message,
     ["self", "message"]),
]

CALLED: list[tuple[str, Callable[..., Any], list[str]]] = [
    # a function Bevoegd calls, with the parameters it names
    ("graphql.parse", graphql.parse, ["source", "max_tokens"]),
    ("GraphQLSchema.get_field", GraphQLSchema.get_field, ["parent_type", "field_name"]),
    ("MiddlewareManager.get_field_resolver", MiddlewareManager.get_field_resolver,
     ["field_resolver"]),
    ("strawberry.schema.schema.validate_document", validate_document,
     ["schema", "document", "validation_rules"]),
    ("Schema.execute", Schema.execute,
     ["query", "variable_values", "context_value", "operation_name", "allowed_operation_types",
      "operation_extensions"]),
    ("MaskErrors.__init__", MaskErrors.__init__, ["should_mask_error", "error_message"]),
    ("GraphQL.is_websocket_request", GraphQL.is_websocket_request, ["request"]),
    ("GraphQLRequestData", GraphQLRequestData, ["query", "variables", "operation_name", "extensions"]),
    ("InvalidOperationTypeError", InvalidOperationTypeError, ["operation_type"]),
    ("CannotGetOperationTypeError", CannotGetOperationTypeError, ["operation_name"]),
]

ATTRIBUTES: list[tuple[str, object, str]] = [
    ("GraphQLCoreConverter", GraphQLCoreConverter, "DEFINITION_BACKREF"),
    ("StrawberryField", StrawberryField, "python_name"),
    ("StrawberryField", StrawberryField, "default_resolver"),
    ("the String scalar", GraphQLString, "coerce_output_value"),
    ("GraphQLEnumType", GraphQLEnumType, "coerce_output_value"),
    ("overlapping_fields_can_be_merged", overlapping_fields_can_be_merged, "MAX_COMPLEXITY_BUDGET"),
    ("GraphQL (strawberry's ASGI view)", GraphQL, "request_adapter_class"),
    ("GraphQL (strawberry's ASGI view)", GraphQL, "graphql_transport_ws_handler_class"),
    ("cross_web.AsyncHTTPRequestAdapter", cross_web.AsyncHTTPRequestAdapter, "method"),
    ("cross_web.AsyncHTTPRequestAdapter", cross_web.AsyncHTTPRequestAdapter, "query_params"),
    ("cross_web.AsyncHTTPRequestAdapter", cross_web.AsyncHTTPRequestAdapter, "content_type"),
    ("cross_web.AsyncHTTPRequestAdapter", cross_web.AsyncHTTPRequestAdapter, "get_body"),
]

EXECUTION_CONTEXT_FIELDS = {"query", "schema", "context", "validation_rules", "graphql_document",
                            "pre_execution_errors"}
"""What api/schema/documents.py and errors.py read or set on strawberry's ExecutionContext."""


def _parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize(("name", "function", "expected"), OVERRIDDEN, ids=[o[0] for o in OVERRIDDEN])
def test_overridden_methods_keep_their_parameters(name: str, function: Callable[..., Any],
                                                  expected: list[str]) -> None:
    assert _parameters(function) == expected, (
        f"{name} now takes {_parameters(function)}, not {expected}, in {VERSIONS}")


@pytest.mark.parametrize(("name", "function", "expected"), CALLED, ids=[c[0] for c in CALLED])
def test_called_functions_take_the_parameters_passed(name: str, function: Callable[..., Any],
                                                     expected: list[str]) -> None:
    missing = [p for p in expected if p not in _parameters(function)]
    assert not missing, f"{name} no longer takes {missing}, in {VERSIONS}"


@pytest.mark.parametrize(("owner", "holder", "attribute"), ATTRIBUTES,
                         ids=[f"{a[0]}.{a[2]}" for a in ATTRIBUTES])
def test_attributes_used_are_there(owner: str, holder: object, attribute: str) -> None:
    assert hasattr(holder, attribute), f"{owner} has no `{attribute}` in {VERSIONS}"


def test_strawberry_execution_context_has_the_fields_used() -> None:
    fields = {field.name for field in dataclasses.fields(ExecutionContext)}
    missing = EXECUTION_CONTEXT_FIELDS - fields
    assert not missing, f"strawberry's ExecutionContext lacks {sorted(missing)} in {VERSIONS}"


def test_the_schema_is_strawberrys_with_its_graphql_core_schema_inside() -> None:
    schema = build_schema()
    assert isinstance(getattr(schema, "_schema", None), GraphQLSchema), (
        f"strawberry's Schema keeps no graphql-core schema in `_schema` in {VERSIONS}")


def test_plain_fields_have_strawberrys_default_resolver_and_their_definition() -> None:
    """What the short way recognises a plain leaf field by (api/schema/execution.py)."""
    schema = build_schema()
    field = schema._schema.get_field(schema._schema.get_type("Body"), "code")  # type: ignore[arg-type]
    assert field is not None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    assert getattr(field.resolve, "_is_default", False), (
        f"strawberry's default resolver no longer carries `_is_default` in {VERSIONS}")
    assert isinstance(definition, StrawberryField) and definition.default_resolver is getattr, (
        f"a field's definition is not under DEFINITION_BACKREF, reading with getattr, in {VERSIONS}")


def test_fast_execution_is_on_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAST_EXECUTION_VARIABLE, raising=False)
    assert build_schema().execution_context_class is LeafFieldExecutor
    monkeypatch.setenv(FAST_EXECUTION_VARIABLE, "0")
    assert build_schema().execution_context_class is StrawberryGraphQLCoreExecutionContext
    monkeypatch.setenv(FAST_EXECUTION_VARIABLE, "off")
    with pytest.raises(RuntimeError, match=FAST_EXECUTION_VARIABLE):
        build_schema()
