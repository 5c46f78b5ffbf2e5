"""The explorer's pages about the site itself: the accessibility statement (/toegankelijkheid)
that a Dutch public site must publish, and data quality (/data-kwaliteit): what the ledger
records for which body and period, and what is known to be missing."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from api.explorer.pages import Shown, page
from api.explorer.reading import read

STATEMENT_DATE = date(2026, 12, 6)
"""When the accessibility statement was drawn up; renew it with every new check."""
STATEMENT: dict[str, Any] = {
    "drawnUpOn": STATEMENT_DATE.isoformat(),
    "standard": "WCAG 2.1, niveau A en AA, zoals geëist door EN 301 549 en het Besluit digitale "
                "toegankelijkheid overheid",
    "status": "Eerste maatregelen genomen",
    "statusReason": "Elke pagina wordt bij elke wijziging automatisch getoetst, maar een "
                    "volledig onderzoek door een onafhankelijke deskundige (volgens WCAG-EM) is "
                    "nog niet gedaan.",
    "checks": [
        "Elke pagina wordt in de geautomatiseerde tests geopend in een echte browser "
        "(Chromium) die van het netwerk is afgesloten, en getoetst met axe-core op alle regels "
        "van WCAG 2.1 niveau A en AA. Een gevonden fout laat de test mislukken.",
        "Met het toetsenbord: de eerste Tab gaat naar de link 'Naar de inhoud'; alle links, "
        "knoppen en formuliervelden zijn met Tab te bereiken en hebben een zichtbare focus.",
        "Zonder JavaScript: elke pagina toont haar inhoud ook als JavaScript uit staat.",
        "Schermafbeeldingen op de breedte van een computerscherm en van een telefoon worden "
        "bekeken bij elke wijziging van de opmaak.",
        "De site laadt niets van andere websites: stijlen en lettertypen komen van de server "
        "zelf.",
    ],
    "limitations": [
        "Tijdlijnen zijn tekeningen (SVG). Schermlezers slaan ze over; dezelfde gegevens staan "
        "direct eronder in een tabel. Op een smal scherm schuift een tijdlijn opzij.",
        "Brede tabellen schuiven op een telefoon opzij.",
        "De controle van een bewijs in de browser werkt alleen met JavaScript en met een "
        "browser die Ed25519 in WebCrypto kent; de pagina zegt het als dat ontbreekt en noemt "
        "dan het programma 'bevoegd verify'. Al het andere werkt zonder JavaScript.",
        "Codes van besluiten, organen en bevoegdheden zijn technische namen en niet altijd "
        "gewone taal; de naam of titel staat er steeds naast.",
        "De site is nog niet getest met schermlezers door mensen die ze dagelijks gebruiken.",
    ],
    "report": "Ziet u een probleem, of kunt u iets op deze site niet gebruiken? Meld het bij de "
              "beheerder van deze site, met het adres van de pagina en wat er misging. De beheerder "
              "bevestigt uw melding en laat u weten wat ermee gebeurt.",
    "complaint": "Bent u niet tevreden over hoe uw melding is behandeld, dan kunt u zich wenden "
                 "tot de Nationale ombudsman.",
}


async def accessibility(request: Request, params: dict[str, str]) -> Shown:
    return Shown("accessibility.html", "Toegankelijkheidsverklaring", {"statement": STATEMENT})


def coverage(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every body with its public decisions (how many, first and last date; none: zero),
    grouped by jurisdiction."""
    decided = {row["body"]["code"]: row for row in answer["decisionsPerBody"]}
    bodies = [edge["node"] for edge in answer["bodies"]["edges"]]
    return [{"body": body, "decided": decided.get(body["code"])}
            for body in sorted(bodies, key=lambda b: (b["jurisdiction"]["name"], b["name"]))]


async def data_quality(request: Request, params: dict[str, str]) -> Shown:
    answer = await read(request, "DataQuality", {})
    rows = coverage(answer)
    return Shown("data_quality.html", "Datakwaliteit", answer,
                 {"coverage": rows,
                  "total": sum(row["decisions"] for row in answer["decisionsPerBody"])})


ROUTES: list[BaseRoute] = [*page("/toegankelijkheid", accessibility),
                           *page("/data-kwaliteit", data_quality)]
