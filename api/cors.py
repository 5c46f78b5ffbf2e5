"""Cross-origin reads: browser apps on other origins may call /graphql and the read-only routes.

The data is public and a caller is known by its bearer token, never by a cookie, so by default
every origin may read, and no credentials are ever allowed: a browser sends no cookies with a
cross-origin request, and a page learns nothing it could not fetch itself. BEVOEGD_CORS_ORIGINS
narrows it to the origins named. Starlette's CORSMiddleware answers the preflights."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from api.request_id import HEADER as REQUEST_ID

CORS_ORIGINS_VARIABLE = "BEVOEGD_CORS_ORIGINS"
ANY_ORIGIN = "*"


def cors_origins(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The origins set in the environment (comma-separated), or every origin."""
    value = environ.get(CORS_ORIGINS_VARIABLE)
    if value is None:
        return [ANY_ORIGIN]
    origins = [origin.strip() for origin in value.split(",") if origin.strip()]
    if not origins or not all(origin == ANY_ORIGIN or _is_origin(origin) for origin in origins):
        # a browser sends an origin as scheme://host[:port]: anything else would never match
        raise ValueError(f"{CORS_ORIGINS_VARIABLE} is * or origins such as "
                         f"https://raad.example.nl, separated by commas; not {value!r}")
    return origins


def cors_settings(origins: list[str]) -> dict[str, Any]:
    """CORSMiddleware's settings for these origins."""
    return {"allow_origins": origins, "allow_credentials": False,
            "allow_methods": ["GET", "POST"],
            "allow_headers": ["Authorization", "Content-Type", REQUEST_ID],
            # what a browser app may read of an answer beyond the safelisted headers
            "expose_headers": [REQUEST_ID, "Retry-After"]}


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.path \
        and not parts.query and not parts.fragment and parts.username is None
