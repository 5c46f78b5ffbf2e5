"""The npm releases the explorer's look is made of, pinned and served by the server itself from
static/vendor/ (refreshed by `python -m api.vendoring`): the NL Design System's style sheet for
plain HTML elements, from the Utrecht component library, with the design tokens of the NL Design
System's example theme (Utrecht's own tokens are its house style, not for other sites)."""

from __future__ import annotations

from pathlib import Path

from api.vendoring import Package

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The folder whose files the server serves under ASSETS_PATH."""
ASSETS_PATH = "/bestanden"

VENDORED = (
    Package("@nl-design-system-unstable/voorbeeld-design-tokens", "7.4.1",
            ("dist/theme.css", "LICENSE.md")),
    Package("@utrecht/component-library-css", "9.0.4", ("dist/html.css", "LICENSE.md")),
)
THEME = "voorbeeld-theme"
"""The class that applies the tokens' values (theme.css)."""
