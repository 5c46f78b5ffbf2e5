"""The explorer's proof check vectors (docs/vectors/explorer/) held to their generator, and their
verdicts to an implementation that is none of Bevoegd's: Go's golang.org/x/mod/sumdb/tlog and
note (tests/interop/tlogcheck.go) verify every leaf of a case against its checkpoint, and each
checkpoint kept from earlier against it, and must agree with the verdict of each check. The
browser's own verdicts are tested in test_proofs.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.transparency.merkle import HASH_SIZE
from ledger.transparency.tiles import edge_of, tile_path, tiles_of
from tests.explorer_vectors import CASE_FILE, FOLDER, cases, written
from tests.test_verification_vectors import VECTORS
from tests.tlogcheck import built_tlogcheck, run

CASES = cases()


def test_the_committed_vectors_are_what_the_generator_makes() -> None:
    found = {f"{case}/{path}": data for case, files in written().items()
             for path, data in files.items()}
    made = {f"{case}/{path}": data for case, files in CASES.items() for path, data in files.items()}
    differing = sorted(path for path in found.keys() | made.keys()
                       if found.get(path) != made.get(path))
    assert differing == [], (
        f"{FOLDER} differs from tests/explorer_vectors.py: rewrite it with "
        "`python -m tests.explorer_vectors` if the change is meant")


def test_the_log_grew_from_the_ledger_vectors() -> None:
    """The valid case's earliest kept checkpoint is docs/vectors/ledger.json's: the explorer's
    log is that one, grown."""
    earliest = json.loads(CASES["valid"][CASE_FILE])["checks"][1]
    assert earliest["earlier"] == json.loads(VECTORS.read_text())["checkpoint"]
    assert earliest["verdict"] == "geverifieerd"


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_tlogcheck(tmp_path_factory.mktemp("tlogcheck"))


def _mirror(case: Path, sizes: list[int], into: Path) -> Path:
    """The case's files with the partial tiles of the earlier trees of `sizes` cut from its own
    (a partial tile is a prefix of every wider one): Go's check proves each earlier tree's
    leaves in that tree as well, where the browser reads the current tree's tiles only."""
    shutil.copytree(case, into)
    size = int((case / "checkpoint").read_text().split("\n")[1])
    current = {(level, index): width for level, index, width in tiles_of(size)}
    for earlier in sizes:
        for level, index, width in edge_of(earlier):
            wider = (into / tile_path(level, index, current[level, index])).read_bytes()
            (into / tile_path(level, index, width)).parent.mkdir(parents=True, exist_ok=True)
            (into / tile_path(level, index, width)).write_bytes(wider[:width * HASH_SIZE])
    return into


@pytest.mark.parametrize("name", CASES)
def test_go_s_tlog_agrees_with_every_verdict(tlogcheck: Path, tmp_path: Path, name: str) -> None:
    case = json.loads(CASES[name][CASE_FILE])
    (tmp_path / "vkey").write_text(case["key"])
    for number, check in enumerate(case["checks"]):
        earlier: list[Path] = []
        if check["check"] == "consistency":
            (tmp_path / f"earlier-{number}").write_text(check["earlier"])
            earlier = [tmp_path / f"earlier-{number}"]
        size = int(check.get("earlier", "\n0").split("\n")[1])
        mirror = _mirror(FOLDER / name, [size] if size else [], tmp_path / f"mirror-{number}")
        result = run(tlogcheck, "verify", mirror, tmp_path / "vkey", *earlier,
                     mirror / "checkpoint")
        verdict = "geverifieerd" if result.returncode == 0 else "ongeldig"
        assert verdict == check["verdict"], (check, result.stderr.decode())
