"""The transparency log as plain files (`bevoegd publish-tiles`, projections/tile_files.py): the
folder holds byte for byte what the server serves at /log; publishing again writes only what is
new and never changes a file; and a verifier that reads only through a caching proxy in front of
a plain web server (nginx, serving the folder) proves every entry, with Go's tlog, while the
checkpoint it reads is never a stale one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from api.app import create_app
from api.cli import main
from ledger.application import Ledger
from ledger.database import DATABASE_URL_VARIABLE
from ledger.transparency.keys import SIGNING_KEY_VARIABLE
from ledger.transparency.note import Signer
from projections.tile_files import CHECKPOINT
from tests.graphql_client import eventually
from tests.ledger_setup import build_world, run
from tests.read_models import import_history
from tests.servers import free_port
from tests.test_log_http import tile_paths
from tests.tlogcheck import built_tlogcheck
from tests.tlogcheck import run as run_go
from tests.world import decision_under_mandate

pytestmark = pytest.mark.database

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def client(ledger: Ledger, database_url: str) -> Iterator[TestClient]:
    """A server of a ledger of some 1,500 events, signing checkpoints as the log grows."""
    build_world(ledger)
    import_history(ledger, events=1200)
    with TestClient(create_app(database_url, ledger=ledger,
                               signer=Signer.generate("bevoegd.test/log"))) as client:
        signed_up_to(client, ledger.position())
        yield client


def signed_up_to(client: TestClient, position: int) -> bytes:
    """The checkpoint, once the server has signed one of every event up to `position`."""
    def signed() -> bool:
        answer = client.get("/log/checkpoint")
        return answer.status_code == 200 and int(answer.text.split("\n")[1]) >= position
    eventually(signed, "a checkpoint of every event", seconds=30)
    return client.get("/log/checkpoint").content


def size_of(checkpoint: bytes) -> int:
    return int(checkpoint.split(b"\n")[1])


def published(cli: CliRunner, folder: Path) -> str:
    result = cli.invoke(main, ["publish-tiles", str(folder)])
    assert result.exit_code == 0, result.output
    return result.stdout


def files_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under the folder, by path, with its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_the_folder_holds_what_the_server_serves(client: TestClient, cli: CliRunner,
                                                 tmp_path: Path) -> None:
    checkpoint = client.get("/log/checkpoint").content
    out = published(cli, tmp_path)
    paths = tile_paths(size_of(checkpoint))
    assert out.startswith(f"Published the tree of {size_of(checkpoint)} events")
    assert sorted(files_of(tmp_path)) == sorted([*paths, CHECKPOINT])
    assert (tmp_path / CHECKPOINT).read_bytes() == checkpoint
    for path in paths:
        assert (tmp_path / path).read_bytes() == client.get(f"/log/{path}").content, path


def test_publishing_again_writes_only_what_is_new(client: TestClient, cli: CliRunner,
                                                  ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "log"
    first_checkpoint = client.get("/log/checkpoint").content
    published(cli, folder)
    before = files_of(folder)
    assert "1 files written" in published(cli, folder)  # the checkpoint only
    for number in range(300):  # the log grows past its right edge
        run(ledger, decision_under_mandate(f"meer-{number}",
                                           date(2014, 1, 1) + timedelta(days=number)))
    later_checkpoint = signed_up_to(client, ledger.position())
    published(cli, folder)
    after = files_of(folder)
    for path, (data, modified) in before.items():
        if path != CHECKPOINT:
            assert after[path] == (data, modified), f"{path} was rewritten"
    assert sorted(after) == sorted({*tile_paths(size_of(first_checkpoint)),
                                    *tile_paths(size_of(later_checkpoint)), CHECKPOINT})
    assert (folder / CHECKPOINT).read_bytes() == later_checkpoint


def test_publishing_without_a_checkpoint_says_so(cli: CliRunner, ledger: Ledger,
                                                 tmp_path: Path) -> None:
    result = cli.invoke(main, ["publish-tiles", str(tmp_path)])
    assert result.exit_code == 1
    assert "No checkpoint has been signed yet" in result.stderr


NGINX = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists()
                                  else None)

NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  proxy_cache_path {work}/cache keys_zone=log:1m;
  server {{  # the plain web server, serving the folder as publish-tiles documents it
    listen 127.0.0.1:{origin};
    root {folder};
    location /tile/ {{ add_header Cache-Control "{immutable}"; }}
    location = /checkpoint {{ add_header Cache-Control "no-cache"; }}
  }}
  server {{  # the caching proxy in front of it, which the verifier reads through
    listen 127.0.0.1:{proxy};
    location / {{
      proxy_pass http://127.0.0.1:{origin};
      proxy_cache log;
      add_header X-Cache-Status $upstream_cache_status;
    }}
  }}
}}
"""


@pytest.fixture
def caching_proxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx serving a folder, behind nginx as a caching proxy: the proxy's address and the
    folder."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: nginx-light)")
    folder, work = tmp_path / "site", Path(tempfile.mkdtemp(prefix="nginx-"))
    folder.mkdir()
    origin, proxy = free_port(), free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, folder=folder, origin=origin, proxy=proxy,
                                      immutable=IMMUTABLE))
    process = subprocess.Popen([str(NGINX), "-p", str(work), "-c", str(conf), "-g",
                                "daemon off; user root;"], stderr=subprocess.PIPE)
    try:
        eventually(lambda: _answers(f"http://127.0.0.1:{proxy}/"), "nginx answers", seconds=10)
        yield f"http://127.0.0.1:{proxy}", folder
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


def test_a_verifier_reading_through_a_caching_proxy_proves_every_entry(
        client: TestClient, cli: CliRunner, ledger: Ledger, caching_proxy: tuple[str, Path],
        tmp_path: Path) -> None:
    proxy, folder = caching_proxy
    tlogcheck = built_tlogcheck(tmp_path)
    published(cli, folder)
    mirror = tmp_path / "mirror"
    with httpx.Client(base_url=proxy) as through:
        checkpoint = through.get(f"/{CHECKPOINT}")
        assert checkpoint.headers["cache-control"] == "no-cache"
        for path in tile_paths(size_of(checkpoint.content)):
            answer = through.get(f"/{path}")
            assert answer.status_code == 200, path
            assert answer.headers["cache-control"] == IMMUTABLE, path
            assert through.get(f"/{path}").headers["x-cache-status"] == "HIT", path
            (mirror / path).parent.mkdir(parents=True, exist_ok=True)
            (mirror / path).write_bytes(answer.content)
        (tmp_path / "vkey").write_text(client.get("/log/verifier-key").text)
        (tmp_path / "checkpoint").write_bytes(checkpoint.content)
        proved = run_go(tlogcheck, "verify", mirror, tmp_path / "vkey", tmp_path / "checkpoint")
        assert proved.returncode == 0, proved.stderr.decode()
        assert proved.stdout.decode().startswith(
            f"1 checkpoints, {size_of(checkpoint.content)} entries")
        # the log grows: the proxy never answers with the checkpoint it saw before
        run(ledger, decision_under_mandate("na-de-proxy", date(2015, 3, 1)))
        signed_up_to(client, ledger.position())
        published(cli, folder)
        assert through.get(f"/{CHECKPOINT}").content == (folder / CHECKPOINT).read_bytes()
        assert size_of((folder / CHECKPOINT).read_bytes()) > size_of(checkpoint.content)


def test_the_worker_keeps_the_folder_current(ledger: Ledger, database_url: str,
                                             tmp_path: Path) -> None:
    """`bevoegd project --publish-tiles DIR`: the tree builder's process publishes each checkpoint
    it signs."""
    build_world(ledger)
    folder = tmp_path / "log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "project", "--publish-tiles", str(folder)],
        env=os.environ | {DATABASE_URL_VARIABLE: database_url,
                          SIGNING_KEY_VARIABLE: Signer.generate("bevoegd.test/log").text()},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def published_up_to(position: int) -> bool:
            note = folder / CHECKPOINT
            return note.exists() and size_of(note.read_bytes()) >= position
        eventually(lambda: published_up_to(ledger.position()), "the folder's checkpoint",
                   seconds=60)
        run(ledger, decision_under_mandate("gevolgd", date(2015, 4, 1)))
        eventually(lambda: published_up_to(ledger.position()), "the next checkpoint", seconds=60)
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0, worker.stderr.read().decode() if worker.stderr else ""
    # with the partial tiles of each checkpoint published before (their paths stay valid)
    assert {*tile_paths(size_of((folder / CHECKPOINT).read_bytes())), CHECKPOINT} <= set(
        files_of(folder))
