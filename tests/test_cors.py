"""Browser apps on other origins: preflights and cross-origin reads against the app on a real
socket, with every origin allowed (the default) and with BEVOEGD_CORS_ORIGINS naming some."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from api.cors import CORS_ORIGINS_VARIABLE, cors_origins
from tests.databases import fresh_database
from tests.servers import live

pytestmark = pytest.mark.database

COUNCIL_SITE = "https://raad.example.nl"
NEWSPAPER = "https://krant.example.nl"
QUERY = {"query": "{ __typename }"}


@pytest.fixture(scope="module")
def module_database(server_url: str) -> Iterator[str]:
    with fresh_database(server_url, "bevoegd_test") as url:
        yield url


@pytest.fixture(scope="module")
def open_url(module_database: str) -> Iterator[str]:
    """The app as configured by default: every origin may read."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv(CORS_ORIGINS_VARIABLE, raising=False)
        app = create_app(module_database, run_projector=False)
    with live(app) as url:
        yield url


@pytest.fixture(scope="module")
def narrowed_url(module_database: str) -> Iterator[str]:
    """The app allowing only the council's site (and a second origin)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(CORS_ORIGINS_VARIABLE, f"{COUNCIL_SITE}, https://griffie.example.nl")
        app = create_app(module_database, run_projector=False)
    with live(app) as url:
        yield url


def preflight(url: str, origin: str, method: str = "POST",
              headers: str = "authorization, content-type") -> httpx.Response:
    return httpx.options(url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                       "Access-Control-Request-Headers": headers})


def allowed_headers(response: httpx.Response) -> set[str]:
    return {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_any_origin_passes_the_preflight_with_a_token(open_url: str, method: str) -> None:
    response = preflight(f"{open_url}/graphql", NEWSPAPER, method)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    assert {"authorization", "content-type"} <= allowed_headers(response)
    # a bearer token, never cookies: no credentials, so no page can ride on a user's session
    assert "access-control-allow-credentials" not in response.headers


def test_any_origin_reads_graphql_and_the_log(open_url: str) -> None:
    answer = httpx.post(f"{open_url}/graphql", json=QUERY, headers={"Origin": NEWSPAPER})
    assert answer.status_code == 200 and answer.json()["data"] == {"__typename": "Query"}, \
        answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
    got = httpx.get(f"{open_url}/graphql", params=QUERY, headers={"Origin": NEWSPAPER})
    assert got.status_code == 200 and got.headers["access-control-allow-origin"] == "*"
    # no checkpoint is signed without a key: the 404 is readable across origins too
    log = httpx.get(f"{open_url}/log/checkpoint", headers={"Origin": NEWSPAPER})
    assert log.status_code == 404 and log.headers["access-control-allow-origin"] == "*"
    assert preflight(f"{open_url}/log/tile/0/000", NEWSPAPER, "GET", "x-request-id").status_code == 200


def test_a_named_origin_passes_and_another_does_not(narrowed_url: str) -> None:
    passed = preflight(f"{narrowed_url}/graphql", COUNCIL_SITE)
    assert passed.status_code == 200
    assert passed.headers["access-control-allow-origin"] == COUNCIL_SITE
    assert {"authorization", "content-type"} <= allowed_headers(passed)
    refused = preflight(f"{narrowed_url}/graphql", NEWSPAPER)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def test_an_answer_kept_for_one_origin_is_not_handed_to_another(narrowed_url: str) -> None:
    """The answer cache sits inside the CORS layer: the same query, answered from the cache,
    carries the header its own origin earns."""
    allowed = httpx.post(f"{narrowed_url}/graphql", json=QUERY, headers={"Origin": COUNCIL_SITE})
    assert allowed.headers["access-control-allow-origin"] == COUNCIL_SITE
    assert "origin" in allowed.headers["vary"].lower()
    for origin in (NEWSPAPER, NEWSPAPER):  # the second answer comes from the cache
        other = httpx.post(f"{narrowed_url}/graphql", json=QUERY, headers={"Origin": origin})
        assert other.status_code == 200  # the browser, not the server, withholds it
        assert "access-control-allow-origin" not in other.headers
    log = httpx.get(f"{narrowed_url}/log/checkpoint", headers={"Origin": NEWSPAPER})
    assert "access-control-allow-origin" not in log.headers


@pytest.mark.parametrize(("setting", "origins"), [
    ("*", ["*"]),
    ("https://raad.example.nl", ["https://raad.example.nl"]),
    (" https://a.example.nl ,http://localhost:3000,", ["https://a.example.nl", "http://localhost:3000"]),
])
def test_the_origins_setting(setting: str, origins: list[str]) -> None:
    assert cors_origins({CORS_ORIGINS_VARIABLE: setting}) == origins
    assert cors_origins({}) == ["*"]


@pytest.mark.parametrize("setting", ["", ",", "raad.example.nl", "https://raad.example.nl/",
                                     "https://raad.example.nl/graphql", "ftp://raad.example.nl",
                                     "https://raad.example.nl:port", "https://user@raad.example.nl"])
def test_an_origin_a_browser_would_never_send_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match=CORS_ORIGINS_VARIABLE):
        cors_origins({CORS_ORIGINS_VARIABLE: setting})
