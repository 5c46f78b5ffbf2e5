"""GraphQL input types made from the ledger's typed commands (ledger/commands.py), so there is one
definition of every command's shape: pydantic validates what GraphQL lets through."""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel

from ledger.domain.body import BodyKind
from ledger.domain.decision import Outcome
from ledger.domain.jurisdiction import JurisdictionKind

ENUM_NAMES = {
    get_args(Outcome): "Outcome",
    get_args(BodyKind): "BodyKind",
    get_args(JurisdictionKind): "JurisdictionKind",
    ("for", "against", "abstain"): "VoteCast",
    ("simple", "two_thirds", "unanimous"): "MajorityRule",
}
"""Names for the literal choices of the commands; others are named after their field."""

_inputs: dict[type[BaseModel], type] = {}
_enums: dict[tuple[str, ...], type[Enum]] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def input_type(model: type[BaseModel], name: str | None = None) -> type:
    """The strawberry input type of a pydantic model (made once per model)."""
    if model in _inputs:
        return _inputs[model]
    name = name or model.__name__
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field_name, info in model.model_fields.items():
        graphql_type = _graphql_type(info.annotation, f"{name}_{field_name}")
        if info.is_required():
            annotations[field_name] = graphql_type
        else:  # left out, the command's default applies
            annotations[field_name] = graphql_type | None
            namespace[field_name] = strawberry.UNSET
    cls = type(name, (), namespace)
    doc = (model.__doc__ or "").strip()
    _inputs[model] = strawberry.input(cls, name=name, description=doc or None)
    return _inputs[model]


def plain(value: Any) -> Any:
    """A strawberry input value as the JSON-like value pydantic validates; fields left out stay
    out, so the command's defaults apply."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not strawberry.UNSET}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _graphql_type(annotation: Any, context: str) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _graphql_type(get_args(annotation)[0], context)
    if origin in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        return _graphql_type(members[0], context) | None
    if origin is list:
        return list[_graphql_type(get_args(annotation)[0], context)]  # type: ignore[misc]
    if origin is Literal:
        return _enum(tuple(get_args(annotation)), context)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return input_type(annotation)
    if annotation in (str, int, bool, date):
        return annotation
    raise TypeError(f"No GraphQL type for {annotation!r} ({context}).")


def _enum(values: tuple[str, ...], context: str) -> type[Enum]:
    if values not in _enums:
        name = ENUM_NAMES.get(values) or pascal(context)
        _enums[values] = strawberry.enum(
            Enum(name, {value.upper(): value for value in values}),  # type: ignore[misc]
            description=f"One of: {', '.join(values)}.")
    return _enums[values]
