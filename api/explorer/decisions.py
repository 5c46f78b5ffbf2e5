"""The explorer's pages of the decision register (/besluiten), one decision (/besluiten/{code}),
the competence map (/bevoegdheden) and search (/zoeken)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
