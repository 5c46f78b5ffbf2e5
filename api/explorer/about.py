"""The explorer's pages of the accessibility statement (/toegankelijkheid)
and data quality (/data-kwaliteit)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
