"""A typo must not look like an answer: every argument declared with `names(kind, …)` in
api/schema/arguments.py is checked against the records the ledger knows before its field
resolves, and an unknown code fails the field with UNKNOWN_REFERENCE naming the argument,
where it would otherwise answer as if nothing were there (`whoIsCompetent` with `[]`).

The check is attached to every field of a type that has such an argument (`checks_references`),
so a new field with one is checked without more ado. The field first waits for `atLeast`, so a
record the client just wrote is known; the checks of all the fields of a request that resolve
together go to the database in one query (Context.known_records)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.extensions import FieldExtension
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from api.schema.arguments import NAMES, WAITS
from api.schema.context import ContextInfo

T = TypeVar("T")


class NamedRecordsExist(FieldExtension):
    def apply(self, field: StrawberryField) -> None:
        self.named = [argument for argument in field.arguments if NAMES in argument.metadata]
        self.waits = next((argument.python_name for argument in field.arguments
                           if WAITS in argument.metadata), None)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any,
                            info: ContextInfo, **kwargs: Any) -> Any:
        context = info.context
        if self.waits is not None:
            await context.caught_up(kwargs.get(self.waits))
        names = info.schema.config.name_converter
        await context.check_references({
            names.from_argument(argument): (argument.metadata[NAMES], kwargs[argument.python_name])
            for argument in self.named if kwargs.get(argument.python_name) is not None})
        return await next_(source, info, **kwargs)


def checks_references(cls: type[T]) -> type[T]:
    """The strawberry type, each of whose fields with an argument naming a record checks it."""
    definition = get_object_definition(cls, strict=True)
    for field in definition.fields:
        if any(NAMES in argument.metadata for argument in field.arguments):
            field.extensions.append(NamedRecordsExist())
    return cls
