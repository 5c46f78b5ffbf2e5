"""Execution with a short way for plain leaf fields.

graphql-core executes every field of every object the same way: resolve info, arguments, the
resolver, awaitable checks, then value completion through the type's wrappers. Most fields of
Bevoegd's answers are plain attributes holding a scalar, an enum or a list of them (a page of
the competence map is some 800 fields, nearly all such), and that general path cost most of a
request's time. Such a field is here read and serialised directly; anything else about it (a
null where the schema forbids one, a value the scalar refuses) goes the general way, which
reports it as graphql-core would."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

LeafField = Callable[[Any], Any]
"""Reads a plain leaf field of a source object and returns its serialised value, or raises
`_GeneralPath` when the field's value needs the general path."""


class _GeneralPath(Exception):
    pass


DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF  # the strawberry field of a field


_leaf_fields: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], LeafField | None]] = \
    WeakKeyDictionary()
"""Per schema, by (type name, field name): how to read the field the short way, if it can be."""


class LeafFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # an extension's `resolve` hook wraps every resolver: then no field is plain
        plain = manager is None or manager.get_field_resolver(_probe) is _probe
        self.leaf_fields = _leaf_fields.setdefault(self.schema, {}) if plain else None

    def execute_field(self, parent_type: GraphQLObjectType, source: Any,
                      field_details_list: Any, path: Any, position_context: Any) -> Any:
        if self.leaf_fields is not None:
            key = (parent_type.name, field_details_list[0].node.name.value)
            read = self.leaf_fields.get(key, _UNKNOWN)
            if read is _UNKNOWN:
                read = self.leaf_fields[key] = _leaf_field(self.schema, parent_type, key[1])
            if read is not None:
                try:
                    return read(source)
                except _GeneralPath:
                    pass
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)


_UNKNOWN: Any = object()


def _probe(source: Any, info: Any) -> None:
    return None


def _leaf_field(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str
                ) -> LeafField | None:
    """The short way for this field, or None if it takes the general one: it has a resolver
    of its own, or it is not a leaf or list of leaves."""
    field = schema.get_field(parent_type, name)
    if field is None or not getattr(field.resolve, "_is_default", False):
        return None
    definition = field.extensions.get(DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.default_resolver is not getattr:
        return None
    return _reader(attrgetter(definition.python_name), field.type)


def _reader(resolve: Callable[[Any], Any], field_type: GraphQLOutputType) -> LeafField | None:
    required = isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if required else field_type
    convert: Callable[[Any], Any]
    if is_leaf_type(inner):
        convert = _serializer(inner)
    elif isinstance(inner, GraphQLList):
        item_required = isinstance(inner.of_type, GraphQLNonNull)
        item = inner.of_type.of_type if item_required else inner.of_type
        if not is_leaf_type(item):
            return None
        serialize = _serializer(item)

        def convert(value: Any) -> Any:
            if type(value) is not list:
                raise _GeneralPath
            return [None if v is None and not item_required else serialize(v) for v in value]
    else:
        return None

    def read(source: Any) -> Any:
        value = resolve(source)
        if value is None:
            if required:
                raise _GeneralPath
            return None
        return convert(value)

    return read


def _serializer(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    coerce = leaf.coerce_output_value

    def serialize(value: Any) -> Any:
        if value is None:
            raise _GeneralPath
        try:
            serialized = coerce(value)
        except Exception:
            raise _GeneralPath from None
        if serialized is None or serialized is Undefined:
            raise _GeneralPath
        return serialized

    return serialize
