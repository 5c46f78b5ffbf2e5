"""Fixtures of the explorer's tests, one of each per module, so that each module has the demo data
set to itself: its database, the app on it in-process, and `bevoegd serve` on it with chromium.
A module whose app signs checkpoints names its key as `signer`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from starlette.testclient import TestClient

from api.app import create_app
from ledger.transparency.keys import SIGNING_KEY_VARIABLE
from ledger.transparency.note import Signer
from tests.explorer_site import browser, demo_database
from tests.test_serve import serving


@pytest.fixture(scope="module")
def demo_url(server_url: str) -> Iterator[str]:
    yield from demo_database(server_url)


@pytest.fixture(scope="module")
def signer() -> Signer | None:
    """The key the app signs the log's checkpoints with: none."""
    return None


@pytest.fixture(scope="module")
def client(demo_url: str, signer: Signer | None) -> Iterator[TestClient]:
    with TestClient(create_app(demo_url, run_projector=False, signer=signer)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def site(demo_url: str, signer: Signer | None) -> Iterator[tuple[str, Browser]]:
    """The origin of `bevoegd serve` on the demo data set, and chromium."""
    with pytest.MonkeyPatch.context() as patch:
        if signer is not None:
            patch.setenv(SIGNING_KEY_VARIABLE, signer.text())
        with serving(demo_url) as served, browser() as chromium:
            yield f"http://127.0.0.1:{served.port}", chromium
