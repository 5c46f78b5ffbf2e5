"""The explorer's main pages photographed at desktop and phone widths into docs/explorer/, from
the demo data set in Debian's chromium cut off from the network: `python -m
tests.explorer_screenshots` (with BEVOEGD_DATABASE_URL naming a PostgreSQL server to make a
database on). The pictures are for people to look at; the tests check the pages."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.transparency.keys import SIGNING_KEY_VARIABLE
from tests.explorer_site import SIGNER, browser, cut_off_context, demo_database
from tests.test_serve import serving

DOCS = Path(__file__).resolve().parents[1] / "docs" / "explorer"
PAGES = {
    "start": "/",
    "besluiten": "/besluiten?gemeente=dordrecht",
    "besluit": "/besluiten/drechtraad-2013-07-02-begroting-2014",
    "besluit-keten": "/besluiten/dsb-2013-05-14-beleidsregels-bijzondere-bijstand-dordrecht",
    "bevoegdheden": "/bevoegdheden?gemeente=dordrecht&op=2014-01-01",
    "gemeente-hardinxveld-giessendam": "/gemeenten/hardinxveld-giessendam",
    "orgaan-drechtraad": "/organen/drechtraad",
    "opdrachten": "/opdrachten",
    "controle": "/controle",
}
"""The file name (without width and extension) of each page photographed."""
WIDTH_NAMES = {"desktop": "desktop", "phone": "telefoon"}


def main() -> None:
    server = os.environ.get("BEVOEGD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    os.environ[SIGNING_KEY_VARIABLE] = SIGNER.text()  # the key the demo log was signed with
    for url in demo_database(server):
        with serving(url) as served, browser() as chromium:
            origin = f"http://127.0.0.1:{served.port}"
            for width, suffix in WIDTH_NAMES.items():
                with cut_off_context(chromium, origin, width) as (context, cut):
                    page = context.new_page()
                    for name, path in PAGES.items():
                        page.goto(origin + path)
                        page.screenshot(path=DOCS / f"{name}-{suffix}.png", full_page=True)
                    assert cut.refused == [], cut.refused
    print(f"{len(PAGES) * len(WIDTH_NAMES)} pictures in {DOCS}")


if __name__ == "__main__":
    main()
