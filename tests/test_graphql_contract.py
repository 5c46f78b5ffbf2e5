"""The public GraphQL contract in graphql/: the committed schema is exactly what the code builds,
a change that can break a client fails unless it is marked in graphql/breaking-changes.md, and
every type, field, argument and enum value is described, with the Dutch term where there is one.

No database: these tests read the schema only."""

from __future__ import annotations

import difflib
import functools
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)
from graphql.utilities import BreakingChange, find_breaking_changes

from api.cli import main

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO / "graphql" / "schema.graphql"
MARKER_FILE = REPO / "graphql" / "breaking-changes.md"
REGENERATE = ".venv/bin/bevoegd schema > graphql/schema.graphql"
BASE_VARIABLE = "BEVOEGD_SCHEMA_BASE"
"""The git revision whose committed schema the code is also compared with (default HEAD; CI
sets the target branch, so that a pull request that regenerated the file is still checked)."""

MARKED = re.compile(r"^- `(?P<coordinate>[^`]+)`: *(?P<reason>.*)$")
QUALIFIED = re.compile(r"@[_A-Za-z]\w*(?:\(\w+:\))?|[_A-Za-z]\w*\.[_A-Za-z]\w*(?:\(\w+:\))?")
COORDINATE = re.compile(r"@?[_A-Za-z]\w*(?:\.[_A-Za-z]\w*)?(?:\(\w+:\))?")


# The export -----------------------------------------------------------------------------------


@functools.cache
def exported_sdl() -> str:
    """What `bevoegd schema` prints: the schema as the code builds it."""
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    return result.stdout


def committed_sdl() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")


def test_committed_schema_is_the_exported_one() -> None:
    exported, committed = exported_sdl(), committed_sdl()
    diff = "".join(list(difflib.unified_diff(
        committed.splitlines(keepends=True), exported.splitlines(keepends=True),
        "graphql/schema.graphql (committed)", "bevoegd schema (code)"))[:80])
    assert exported == committed, (
        f"graphql/schema.graphql differs from the schema the code builds. Regenerate it with\n"
        f"    {REGENERATE}\nand mark any breaking change in graphql/breaking-changes.md.\n{diff}")


# Breaking changes -----------------------------------------------------------------------------


def subject(change: BreakingChange) -> str:
    """The schema coordinate a breaking change is about (`Type`, `Type.field`,
    `Type.field(arg:)`, `Enum.VALUE`, `@directive`), read from graphql-core's message. The first
    qualified name in it is the subject ("Field Query.ledger changed type from A to B."); a
    message without one is about the type it starts with ("Decision was removed.")."""
    found = QUALIFIED.search(change.description)
    if found:
        return found.group()
    return change.description.removeprefix("Standard scalar ").split()[0].rstrip(".")


def accepted_changes(marker_text: str) -> dict[str, str]:
    """The marked changes, coordinate to reason: lines `- `Coordinate`: reason`."""
    return {found["coordinate"]: found["reason"].strip()
            for found in map(MARKED.match, marker_text.splitlines()) if found}


def unmarked_breaking_changes(old_sdl: str, new_sdl: str, accepted: dict[str, str]
                              ) -> list[BreakingChange]:
    changes = find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl))
    return [change for change in changes if subject(change) not in accepted]


def _explain(changes: list[BreakingChange], against: str) -> str:
    lines = "\n".join(f"    - `{subject(change)}`: {change.description}" for change in changes)
    return (f"The schema built from the code breaks clients of {against}:\n{lines}\n"
            f"If that is intended, add a line `- `Coordinate`: reason` for each to "
            f"graphql/breaking-changes.md (what clients should do instead), then regenerate "
            f"with {REGENERATE}.")


def test_no_unmarked_breaking_change_against_the_committed_file() -> None:
    accepted = accepted_changes(MARKER_FILE.read_text(encoding="utf-8"))
    changes = unmarked_breaking_changes(committed_sdl(), exported_sdl(), accepted)
    assert not changes, _explain(changes, "graphql/schema.graphql")


def _schema_at(revision: str) -> str | None:
    try:
        shown = subprocess.run(["git", "show", f"{revision}:graphql/schema.graphql"], cwd=REPO,
                               capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return shown.stdout if shown.returncode == 0 else None


def test_no_unmarked_breaking_change_against_the_base_revision() -> None:
    # Regenerating the file makes the test above pass trivially; the version in git does not
    # move until the change is committed (or merged, with the CI's base branch).
    revision = os.environ.get(BASE_VARIABLE, "HEAD")
    base = _schema_at(revision)
    if base is None:
        pytest.skip(f"no graphql/schema.graphql at git revision {revision}")
    accepted = accepted_changes(MARKER_FILE.read_text(encoding="utf-8"))
    changes = unmarked_breaking_changes(base, exported_sdl(), accepted)
    assert not changes, _explain(changes, f"graphql/schema.graphql at {revision}")


def test_marker_file_entries_name_a_coordinate_and_a_reason() -> None:
    entries = [line for line in MARKER_FILE.read_text(encoding="utf-8").splitlines()
               if line.startswith("- `")]
    malformed = [line for line in entries
                 if not (found := MARKED.match(line)) or not found["reason"].strip()
                 or not COORDINATE.fullmatch(found["coordinate"])]
    assert not malformed, f"entries of graphql/breaking-changes.md without the form " \
                          f"- `Coordinate`: reason: {malformed}"


# The detector itself: the committed file equals the code now, so it is shown changes.

RETIRED_FIELD = "\nextend type LedgerInfo {\n  retired: String\n}\n"


def test_a_removed_field_is_reported_unless_marked() -> None:
    old = committed_sdl() + RETIRED_FIELD  # the field existed, the code no longer has it
    found = unmarked_breaking_changes(old, exported_sdl(), {})
    assert [subject(change) for change in found] == ["LedgerInfo.retired"]
    assert unmarked_breaking_changes(old, exported_sdl(), {"LedgerInfo.retired": "gone"}) == []


@pytest.mark.parametrize(("old", "new", "subjects"), [
    ("type Query { a: Int b: Int }", "type Query { a: Int }", {"Query.b"}),
    ("type Query { a(x: Int, y: Int): Int }", "type Query { a(x: Int): Int }", {"Query.a(y:)"}),
    ("type Query { a: Int }", "type Query { a(x: Int!): Int }", {"Query.a(x:)"}),
    ("type Query { a: Int! b: Int }", "type Query { a: String! b: Int }", {"Query.a"}),
    ("type Query { a: Int! }", "type Query { a: Int }", {"Query.a"}),
    ("enum S { A B } type Query { s: S }", "enum S { A } type Query { s: S }", {"S.B"}),
    ("input I { a: Int } type Query { q(i: I): Int }",
     "input I { a: Int b: Int! } type Query { q(i: I): Int }", {"I.b"}),
    ("type Gone { a: Int } type Query { a: Int }", "type Query { a: Int }", {"Gone"}),
    ("interface N { id: ID } type T implements N { id: ID } type Query { t: T }",
     "interface N { id: ID } type T { id: ID } type Query { t: T }", {"T"}),
    ("directive @d on FIELD type Query { a: Int }", "type Query { a: Int }", {"@d"}),
])
def test_breaking_changes_are_named_by_their_coordinate(old: str, new: str,
                                                        subjects: set[str]) -> None:
    assert {subject(change) for change in unmarked_breaking_changes(old, new, {})} == subjects
    assert unmarked_breaking_changes(old, new, dict.fromkeys(subjects, "accepted")) == []


def test_a_mark_accepts_its_coordinate_only() -> None:
    old = "type Query { decision: Int decisions(text: String): [Int] }"
    new = "type Query { decisions: [Int] }"
    left = unmarked_breaking_changes(old, new, {"Query.decision": "renamed"})
    assert [subject(change) for change in left] == ["Query.decisions(text:)"]


def test_additions_are_not_breaking() -> None:
    old = "enum S { A } type Query { a(x: Int): Int }"
    new = "enum S { A B } type Query { a(x: Int, y: Int): Int b: S }"
    assert unmarked_breaking_changes(old, new, {}) == []


def test_marker_lines_are_read_with_their_reason() -> None:
    text = ("# Accepted\n\n    - `Indented.example`: not an entry\n"
            "- `Query.ledger`: replaced by `head`\n- `Query.decisions(text:)`: use `search`\n")
    assert accepted_changes(text) == {"Query.ledger": "replaced by `head`",
                                      "Query.decisions(text:)": "use `search`"}


# Descriptions ---------------------------------------------------------------------------------


def _own_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    # introspection types and graphql-core's own scalars are described by the library
    builtin = {"String", "Int", "Float", "Boolean", "ID"}
    return [t for name, t in sorted(schema.type_map.items())
            if not name.startswith("__") and name not in builtin]


def _field_gaps(type_name: str, name: str, field: GraphQLField) -> list[str]:
    gaps = [] if field.description else [f"{type_name}.{name}"]
    return gaps + [f"{type_name}.{name}({arg}:)" for arg, argument in field.args.items()
                   if not argument.description]


def missing_descriptions(schema: GraphQLSchema) -> list[str]:
    """The coordinates of every type, field, argument, input field and enum value without a
    description."""
    missing: list[str] = []
    for named in _own_types(schema):
        if not named.description:
            missing.append(named.name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in named.fields.items():
                missing += _field_gaps(named.name, name, field)
        elif isinstance(named, GraphQLInputObjectType):
            missing += [f"{named.name}.{name}" for name, field in named.fields.items()
                        if not field.description]
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{named.name}.{name}" for name, value in named.values.items()
                        if not value.description]
    return missing


def test_everything_in_the_schema_is_described() -> None:
    missing = missing_descriptions(build_schema(exported_sdl()))
    assert not missing, (f"{len(missing)} parts of the schema have no description (types and "
                         f"queries in api/schema/, command inputs in api/schema/inputs.py):\n"
                         + "\n".join(f"    {coordinate}" for coordinate in missing))


DUTCH_TERMS = {
    "Body": "bestuursorgaan",
    "Competent": "bevoegdheid",
    "ChainLink": "attributie",
    "ChainLink.legalBasis": "wettelijke grondslag",
    "Grant": "mandaatregister",
    "Decision": "besluit",
    "Decision.inForceFrom": "inwerkingtreding",
    "Decision.publishedOn": "bekendmaking",
    "Commission": "opdracht",
    "Consultation": "zienswijze",
    "Jurisdiction": "gemeente",
    "Query.competenceMap": "bevoegdhedenkaart",
    "Query.decisions": "besluitenregister",
    "EstablishBodyInput": "bestuursorgaan",
    "DefineCompetenceInput": "bevoegdheid",
    "AttributeCompetenceInput": "attributie",
    "AttributeCompetenceInput.legalBasis": "wettelijke grondslag",
    "GrantDelegationInput": "delegatie",
    "GrantDelegationInput.grantor": "delegans",
    "GrantMandateInput": "mandaat",
    "GrantMandateInput.parent": "ondermandaat",
    "TakeDecisionInput": "besluit",
    "TakeDecisionInput.body": "bestuursorgaan",
    "TakeDecisionInput.competence": "bevoegdheid",
    "PublishDecisionInput.on": "bekendmaking",
    "IssueCommissionInput": "opdracht",
    "OpenConsultationInput": "zienswijze",
    "BodyKind.COUNCIL": "gemeenteraad",
}
"""Where the glossary of docs/architecture.md has a Dutch term, the description carries it."""


def _description(schema: GraphQLSchema, coordinate: str) -> str:
    type_name, _, member = coordinate.partition(".")
    named = schema.type_map[type_name]
    if not member:
        return named.description or ""
    if isinstance(named, GraphQLEnumType):
        return named.values[member].description or ""
    assert isinstance(named, GraphQLObjectType | GraphQLInputObjectType), coordinate
    return named.fields[member].description or ""


@pytest.mark.parametrize(("coordinate", "term"), DUTCH_TERMS.items())
def test_descriptions_carry_the_dutch_term(coordinate: str, term: str) -> None:
    description = _description(build_schema(exported_sdl()), coordinate)
    assert term in description.lower(), f"{coordinate}: {description!r} lacks '{term}'"
