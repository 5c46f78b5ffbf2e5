"""Front-end files taken from npm releases, pinned and served by the server itself (no request
leaves the host): GraphiQL's (api/graphiql) and the explorer's style sheets (api/explorer).

`python -m api.vendoring` (needs npm) fetches each pinned package with `npm pack` (npm checks the
tarball against the registry's integrity hash) and copies the files it lists, with its
package.json, unchanged into a folder named after its version; folders of packages or versions no
longer listed are removed. To move to another release, change its version and run this."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

VENDOR = "vendor"
"""The folder, in a static folder, that holds the packages' folders."""
VENDORED_FOR = "public, max-age=31536000, immutable"
OWN_FOR = "no-cache"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: tuple[str, ...]
    """Paths in the package: the scripts and style sheets a page loads, in the order it loads
    them, and the package's licence. Its package.json (name, version, licence, repository) is
    copied too."""

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        """Named after the version: a file in it never changes, so browsers may keep it."""
        return self.spec.removeprefix("@").replace("/", "-")

    def served(self, path: str) -> str:
        """Where the package's file at `path` is, relative to its static folder."""
        return f"{VENDOR}/{self.folder}/{PurePosixPath(path).name}"


def loaded(packages: Sequence[Package], suffix: str) -> list[str]:
    """The packages' files a page loads that end in `suffix` (.js, .css), in loading order,
    relative to their static folder."""
    return [package.served(path) for package in packages for path in package.files
            if path.endswith(suffix)]


class Assets(StaticFiles):
    """A static folder's files, with the caching each may have: the vendored ones sit in folders
    named after their versions and may be kept by a browser for a year; the pages' own are
    checked again (ETag) on every load, since an upgrade of Bevoegd may change them under the
    same name."""

    def __init__(self, static: Path) -> None:
        super().__init__(directory=static)
        self.vendor = static / VENDOR

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).is_relative_to(self.vendor)
        response.headers["Cache-Control"] = VENDORED_FOR if vendored else OWN_FOR
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _fetch(package: Package, into: Path) -> Path:
    """The package's tarball, packed by npm into the folder `into`."""
    packed = subprocess.run(["npm", "pack", "--json", "--pack-destination", str(into), package.spec],
                            check=True, capture_output=True, text=True)
    return into / json.loads(packed.stdout)[0]["filename"]


def _copy(package: Package, tarball: Path, vendor: Path) -> None:
    folder = vendor / package.folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        for path in (*package.files, "package.json"):
            member = archive.extractfile(f"package/{path}")
            if member is None:
                raise RuntimeError(f"{package.spec} has no file {path}")
            (folder / PurePosixPath(path).name).write_bytes(member.read())
    print(f"{package.spec}: {', '.join(sorted(p.name for p in folder.iterdir()))}")


def refresh(packages: Sequence[Package], static: Path) -> None:
    """Makes static/vendor/ hold exactly the packages' listed files."""
    vendor = static / VENDOR
    vendor.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for package in packages:
            _copy(package, _fetch(package, Path(work)), vendor)
    listed = {package.folder for package in packages}
    for stale in vendor.iterdir():
        if stale.name not in listed:
            shutil.rmtree(stale)
            print(f"removed {stale.name}")


def main() -> None:
    from api.explorer import vendored as explorer
    from api.graphiql import vendored as graphiql

    for front_end in (graphiql, explorer):
        refresh(front_end.VENDORED, front_end.STATIC_DIR)


if __name__ == "__main__":
    main()
