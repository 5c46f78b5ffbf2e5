"""Refreshes static/vendor/ from the npm registry: `python -m api.graphiql.refresh` (needs npm).

Each package in VENDORED is fetched with `npm pack` at its pinned version (npm checks the
tarball against the registry's integrity hash), and the files it lists, with its package.json,
are copied unchanged into its folder; folders of packages or versions no longer listed are
removed. To move to another release, change its version in vendored.py and run this."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from api.graphiql.vendored import STATIC, VENDOR, VENDORED, Package

VENDOR_DIR = Path(__file__).resolve().parent / STATIC / VENDOR


def fetch(package: Package, into: Path) -> Path:
    """The package's tarball, packed by npm into the folder `into`."""
    packed = subprocess.run(["npm", "pack", "--json", "--pack-destination", str(into), package.spec],
                            check=True, capture_output=True, text=True)
    return into / json.loads(packed.stdout)[0]["filename"]


def copy(package: Package, tarball: Path) -> None:
    folder = VENDOR_DIR / package.folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        for path in (*package.files, "package.json"):
            member = archive.extractfile(f"package/{path}")
            if member is None:
                raise RuntimeError(f"{package.spec} has no file {path}")
            (folder / Path(path).name).write_bytes(member.read())
    print(f"{package.spec}: {', '.join(sorted(p.name for p in folder.iterdir()))}")


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        for package in VENDORED:
            copy(package, fetch(package, Path(work)))
    listed = {package.folder for package in VENDORED}
    for stale in VENDOR_DIR.iterdir():
        if stale.name not in listed:
            shutil.rmtree(stale)
            print(f"removed {stale.name}")


if __name__ == "__main__":
    main()
