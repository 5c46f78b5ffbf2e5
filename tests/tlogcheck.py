"""An independent verifier of the log's formats: tests/interop/tlogcheck.go, built on
golang.org/x/mod/sumdb/tlog and .../note (the Go checksum database's), none of Bevoegd's code.

Needs Go and golang.org/x/mod in a GOPATH (Debian: golang-go, golang-golang-x-mod-dev); the tests
that use it are skipped without them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

GOPATH = Path("/usr/share/gocode")
SOURCE = Path(__file__).parent / "interop" / "tlogcheck.go"


def built_tlogcheck(folder: Path) -> Path:
    """The program, built into `folder`; skips the test where Go or x/mod is missing."""
    if shutil.which("go") is None:
        pytest.skip("Go is not installed, so the log formats are not checked against Go's tlog")
    if not (GOPATH / "src" / "golang.org" / "x" / "mod" / "sumdb" / "tlog").is_dir():
        pytest.skip(f"golang.org/x/mod is not in {GOPATH} (Debian: golang-golang-x-mod-dev)")
    binary = folder / "tlogcheck"
    subprocess.run(["go", "build", "-o", str(binary), str(SOURCE)], check=True, capture_output=True,
                   env={**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH), "GOFLAGS": "",
                        "GOCACHE": str(folder / "gocache")})
    return binary


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(arg) for arg in args], input=stdin, capture_output=True, timeout=60)
