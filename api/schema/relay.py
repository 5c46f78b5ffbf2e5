"""Relay conventions: global object ids, the Node interface, and connections over the query
layer's keyset pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from projections.errors import InvalidArgument
from projections.queries.pagination import Page, PageRequest

T = TypeVar("T")
Item = TypeVar("Item")

First = Annotated[int, strawberry.argument(description="How many items to return: 1 to 100.")]
After = Annotated[str | None, strawberry.argument(
    description="Start after this cursor: the previous page's `pageInfo.endCursor`.")]


def global_id(type_name: str, key: str) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode())


def parse_global_id(value: str) -> tuple[str, str]:
    """The type name and key inside a global id, or a clear error."""
    try:
        type_name, _, key = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        type_name, key = "", ""
    if not type_name or not key:
        raise InvalidArgument(f"'{value}' is not an id of this API.", field="id")
    return type_name, key


@strawberry.interface(description="An object with a global id (Relay's Node).")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global id, for `node(id:)`.")


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
