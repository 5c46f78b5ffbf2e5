"""Relay conventions: global object ids, the Node interface, and connections over the query
layer's keyset pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from api.schema.context import ContextInfo
from projections.errors import InvalidArgument
from projections.queries.pagination import Page, PageRequest

T = TypeVar("T")
Item = TypeVar("Item")

First = Annotated[int, strawberry.argument(description="How many items to return: 1 to 100.")]
After = Annotated[str | None, strawberry.argument(
    description="Start after this cursor: the previous page's `pageInfo.endCursor`.")]


@dataclass(frozen=True)
class GlobalId:
    """A global id as given, and what it holds: the name of the object's type and the key that
    type finds the object by."""

    text: str
    type_name: str
    key: str

    @staticmethod
    def parse(text: str) -> GlobalId:
        try:
            type_name, _, key = base64.urlsafe_b64decode(text.encode()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            type_name, key = "", ""
        found = GlobalId(text, type_name, key)
        if not type_name or not key:
            raise found.not_ours()
        return found

    def not_ours(self) -> InvalidArgument:
        """The error for an id that no object of this API has or had."""
        return InvalidArgument(f"'{self.text}' is not an id of this API.", field="id")


@strawberry.interface(description="An object with a global id (Relay's Node).")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global id, for `node(id:)`.")

    @classmethod
    def global_id(cls, key: str) -> strawberry.ID:
        """The global id of the object of this type with this key."""
        return strawberry.ID(base64.urlsafe_b64encode(f"{cls.__name__}:{key}".encode()).decode())

    @classmethod
    async def resolve_node(cls, info: ContextInfo, id: GlobalId) -> Node | None:
        """The object of this type with this id as it is today, or None if there is none (for
        `node(id:)`); raises `id.not_ours()` for a key this type never gives out."""
        raise NotImplementedError


@strawberry.type(description="Where a page of a list starts and ends (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (true when `after` was given).")
    start_cursor: str | None = strawberry.field(description="The cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item: pass it as `after` for the next page.")


@strawberry.type(description="An item of a list with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="The item's place in the list, for `after`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection). Cursors stay valid while new "
                             "events arrive: new items only ever come after the existing ones.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page starts and ends.")

    @strawberry.field(description="The items of this page without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(page: Page[Item], request: PageRequest, convert: Callable[[Item], Any]
               ) -> Connection[Any]:
    edges = [Edge(cursor=cursor, node=convert(item)) for cursor, item in page.edges]
    return Connection(edges=edges, page_info=PageInfo(
        has_next_page=page.has_next_page, has_previous_page=request.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))
