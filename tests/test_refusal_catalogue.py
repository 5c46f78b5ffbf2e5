"""The catalogue of refusal codes (ledger/refusals.py) against the source and the README: every
code the ledger gives is written as a literal where it is given and is in the catalogue, every
catalogued code is given somewhere, and the README's table "The rules and their refusal codes"
lists exactly the catalogue's codes of each rule L1–L12."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from ledger.errors import LedgerError
from ledger.refusals import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
RULES = [f"L{n}" for n in range(1, 13)]


def error_classes() -> dict[str, type[LedgerError]]:
    found: dict[str, type[LedgerError]] = {}
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending += cls.__subclasses__()
    return found


def literals(node: ast.expr) -> list[str] | None:
    """The codes a `code=` argument can take, if it is written as literals (a string, or a
    choice between strings); None if it is built any other way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = literals(node.body), literals(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def given_codes() -> tuple[dict[str, list[str]], list[str]]:
    """Each refusal code written in ledger/ with where it is given, and the refusals whose code
    is not a literal (or missing, where the error class has no code of its own)."""
    classes = error_classes()
    codes: dict[str, list[str]] = {}
    unfindable: list[str] = []
    for path in sorted((ROOT / "ledger").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            # LedgerError's own code is a fallback no refusal reaches: each construction names
            # a code or uses a class that has one (the first test checks that).
            if isinstance(node, ast.ClassDef) and node.name in classes.keys() - {"LedgerError"}:
                for statement in node.body:
                    if (isinstance(statement, ast.Assign)
                            and [getattr(t, "id", None) for t in statement.targets] == ["code"]):
                        for code in literals(statement.value) or []:
                            codes.setdefault(code, []).append(where)
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in classes:
                continue
            argument = next((k.value for k in node.keywords if k.arg == "code"), None)
            if argument is None:
                if "code" not in vars(classes[name]):
                    unfindable.append(f"{where}: {name} without a code")
                continue
            found = literals(argument)
            if found is None:
                unfindable.append(f"{where}: {ast.unparse(argument)}")
            for code in found or []:
                codes.setdefault(code, []).append(where)
    return codes, unfindable


def readme_table() -> dict[str, set[str]]:
    """The codes of each rule in the README's table of rules."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### The rules and their refusal codes", 1)[1]
    table: dict[str, set[str]] = {}
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rule = re.match(r"(L\d+)\b", cells[0])
        if len(cells) == 2 and rule:
            table[rule.group(1)] = set(re.findall(r"`([A-Z_]+)`", cells[1]))
    return table


def catalogue_of(rule: str) -> set[str]:
    return {refusal.code for refusal in CATALOGUE if refusal.rule == rule}


def test_every_refusal_code_is_a_literal_where_it_is_given() -> None:
    _, unfindable = given_codes()
    assert not unfindable, "codes a search cannot find:\n" + "\n".join(unfindable)


def test_the_catalogue_lists_exactly_the_codes_the_ledger_gives() -> None:
    codes, _ = given_codes()
    catalogued = {refusal.code for refusal in CATALOGUE}
    missing = {code: codes[code] for code in codes.keys() - catalogued}
    assert not missing, f"given but not catalogued: {missing}"
    assert not catalogued - codes.keys(), "catalogued but never given"


def test_each_code_is_catalogued_once_under_a_rule() -> None:
    counts = Counter(refusal.code for refusal in CATALOGUE)
    assert [code for code, n in counts.items() if n > 1] == []
    assert {refusal.rule for refusal in CATALOGUE} <= {*RULES, "other"}
    assert all(refusal.meaning.strip() for refusal in CATALOGUE)


def test_the_readme_table_lists_the_catalogue_per_rule() -> None:
    table = readme_table()
    assert set(table) == set(RULES)
    for rule in RULES:
        expected = catalogue_of(rule)
        assert table[rule] == expected, rule

