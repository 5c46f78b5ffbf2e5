"""The short way for plain leaf fields (api/schema/execution.py) answers exactly as
graphql-core's general path does: the same data and the same errors, for any values the source
objects hold, fitting the schema or not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql.execution.executor import Executor
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.schema.execution import LeafFieldExecutor


@strawberry.enum
class Kind(Enum):
    DELEGATION = "delegation"
    MANDATE = "mandate"


@strawberry.type
class Link:
    grantee: str
    grantor: str | None
    kind: Kind
    valid_from: date
    valid_until: date | None
    subjects: list[str] | None
    votes: list[int | None]

    @strawberry.field
    def label(self) -> str:
        return f"{self.grantor}->{self.grantee}"


@strawberry.type
class Entry:
    body: str
    chain: list[Link]
    first: Link | None


@dataclass
class Source:
    """A source object as a resolver might hand it over: any values, right or wrong."""

    body: Any
    chain: Any
    first: Any


@strawberry.type
class Query:
    entries: list[Entry]


QUERY = """
query($withKind: Boolean!) {
  entries {
    body
    who: body
    chain { grantee grantor kind @include(if: $withKind) validFrom validUntil subjects votes
            label __typename }
    first { grantee kind }
  }
}"""

text = st.one_of(st.none(), st.text(max_size=5), st.integers(), st.booleans())
days = st.one_of(st.none(), st.dates(), st.text(max_size=3))
kinds = st.one_of(st.none(), st.sampled_from(list(Kind)), st.sampled_from(["mandate", "x"]))
string_lists = st.one_of(st.none(), st.lists(text, max_size=3), text)
int_lists = st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-5, 5),
                                                    st.text(max_size=2)), max_size=3))


@st.composite
def links(draw: st.DrawFn) -> Any:
    return Link(grantee=draw(text), grantor=draw(text), kind=draw(kinds),
                valid_from=draw(days), valid_until=draw(days), subjects=draw(string_lists),
                votes=draw(int_lists))


entries = st.builds(Source, body=text, chain=st.one_of(st.none(), st.lists(links(), max_size=3)),
                    first=st.one_of(st.none(), links()))


def _schema(executor: type[StrawberryGraphQLCoreExecutionContext],
            extensions: list[Any] | None = None) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=executor,
                             extensions=extensions or [])


GENERAL = _schema(StrawberryGraphQLCoreExecutionContext)
SHORT = _schema(LeafFieldExecutor)


def _answer(schema: strawberry.Schema, sources: list[Source], with_kind: bool) -> Any:
    result = asyncio.run(schema.execute(QUERY, variable_values={"withKind": with_kind},
                                        root_value=Query(entries=sources)))  # type: ignore[arg-type]
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


@settings(max_examples=300, deadline=None)
@given(sources=st.lists(entries, max_size=3), with_kind=st.booleans())
def test_leaf_fields_are_answered_as_by_the_general_path(sources: list[Source],
                                                         with_kind: bool) -> None:
    assert _answer(SHORT, sources, with_kind) == _answer(GENERAL, sources, with_kind)


def test_good_values_take_the_short_way_and_bad_ones_the_general_one() -> None:
    good = Link(grantee="college", grantor=None, kind=Kind.MANDATE, valid_from=date(2013, 1, 1),
                valid_until=None, subjects=["a"], votes=[1, None])
    bad = Link(grantee="raad", grantor=None, kind="nonsense", valid_from=date(2013, 1, 1),  # type: ignore[arg-type]
               valid_until=None, subjects=None, votes=[])
    data, errors = _answer(SHORT, [Source("b", [good, bad], None)], True)
    assert data is None  # a null in a non-null list item voids the list, up to the root
    assert errors == [("Enum 'Kind' cannot represent value: 'nonsense'",
                       ("entries", 0, "chain", 1, "kind"))]
    data, errors = _answer(SHORT, [Source("b", [good], good)], True)
    assert errors == []
    assert data == {"entries": [{
        "body": "b", "who": "b",
        "chain": [{"grantee": "college", "grantor": None, "kind": "MANDATE",
                   "validFrom": "2013-01-01", "validUntil": None, "subjects": ["a"],
                   "votes": [1, None], "label": "None->college", "__typename": "Link"}],
        "first": {"grantee": "college", "kind": "MANDATE"}}]}


class Counting(SchemaExtension):
    """An extension with a `resolve` hook, which must see every field, plain ones too."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Counting.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


def test_an_extension_resolving_fields_sees_every_field() -> None:
    Counting.seen = []
    link = Link(grantee="college", grantor=None, kind=Kind.MANDATE, valid_from=date(2013, 1, 1),
                valid_until=None, subjects=None, votes=[])
    schema = _schema(LeafFieldExecutor, [Counting])
    asyncio.run(schema.execute("{ entries { body first { grantee kind } } }",
                               root_value=Query(entries=[Source("b", [], link)])))  # type: ignore[arg-type]
    assert sorted(Counting.seen) == ["body", "entries", "first", "grantee", "kind"]


def test_only_fields_that_are_not_plain_leaves_take_the_general_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    general: list[str] = []
    execute_field = Executor.execute_field

    def counted(self: Executor, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        general.append(f"{parent_type.name}.{details[0].node.name.value}")
        return execute_field(self, parent_type, source, details, *rest)

    monkeypatch.setattr(Executor, "execute_field", counted)
    link = Link(grantee="college", grantor=None, kind=Kind.MANDATE, valid_from=date(2013, 1, 1),
                valid_until=None, subjects=["a"], votes=[2])
    _answer(SHORT, [Source("b", [link, link], link)], True)
    assert sorted(general) == ["Entry.chain", "Entry.first", "Link.__typename", "Link.__typename",
                               "Link.label", "Link.label", "Query.entries"]
