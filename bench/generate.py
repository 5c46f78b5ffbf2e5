"""A synthetic national history for the benchmarks: JSON Lines commands that the ledger accepts.

    python -m bench.generate --events N --out FILE [--seed S]

The file tells twenty years (2005–2025) of a made-up country: municipalities, provinces and water
boards with their councils, executives, officeholders and officials; regions that municipalities
join and leave, whose boards decide under delegation (some within a framework of the regional
council) and whose councils are sometimes replaced; mandates and sub-mandates per college term,
some revoked, some left to expire; commissions and budget consultations; and then decisions, with
votes, publications and entry into force, until the file holds about N events. About 1.5 % of the
lines are meant to be refused; they carry `"expect": "<CODE>"`. The country shrinks for small N
(down to six municipalities, whose structure alone is about 2,500 events) so that decisions still
make up most of the file.

Why it is shaped like this:

- Time runs forward month by month. Every grant, revocation and abolition takes effect on the
  first of a month and every structural step is written before the month's decisions, so a
  decision is only ever written for a route that stands the whole month, and a revocation never
  lands before a decision that relied on it (RELIED_ON_AFTER).
- Structure and decisions draw from separate random streams, so the structure can be counted in
  a dry run first; the decisions then fill exactly the rest of the event budget.
- Memory is flat in N: the generator keeps the country (bounded by its size, not by N), a queue
  of the structural steps still to come, and a few recent decision codes.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import json
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

import click

from ledger.commands import COMMANDS

HISTORY_START = date(2005, 1, 1)
HISTORY_END = date(2026, 1, 1)  # exclusive: December 2025 is the last month written
MONTHS = (HISTORY_END.year - HISTORY_START.year) * 12

EVENTS_PER_COMMAND: dict[str, int] = {
    **dict.fromkeys(COMMANDS, 1),
    "take_decision": 3,  # Registered, Taken, and Exercised on the holding
    "propose_decision": 2,  # Registered, Proposed
    "attribute_competence": 2,  # Opened (the holding), Attributed
}
"""Events an accepted command records when it opens its record; a command on a record that
exists already (taking a proposed decision, attributing on an opened holding) records one fewer."""

FULL_COUNTRY = {"municipality": 342, "region": 40, "province": 12, "water_board": 21}
MIN_MUNICIPALITIES = 6  # one region of five founding members, and one that joins later
STRUCTURE_EVENTS_PER_MUNICIPALITY = 330  # measured: a full country's structure is ~113k events
STRUCTURE_SHARE = 0.35  # of the requested events, for a country smaller than the full one
DECISION_EVENTS = 4.82  # measured: events of a decision with its proposal, publication, ...
DECISION_LINES = 2.82  # ... over this many lines
REFUSED_SHARE = 0.015  # of all lines, meant to be refused

# The catalogue --------------------------------------------------------------------------------

DUALISATION = {"municipality": date(2002, 3, 7), "province": date(2003, 3, 12),
               "water_board": date(2004, 1, 1)}
SUBJECTS = ("beschikkingen", "beleidsregels", "bezwaarschriften", "uitvoeringsbesluiten")
ORGANISATION = {"municipality": "organisatie-gemeente", "province": "organisatie-provincie",
                "water_board": "organisatie-waterschap", "region": "bedrijfsvoering-regio"}
JOINING = "gemeenschappelijke-regeling-treffen"  # the college's decisions to join and transfer
FRAMEWORK = "kaderstelling-regio"
BUDGET = "regionale-begroting"


@dataclass(frozen=True)
class Competence:
    code: str
    title: str
    kind: str  # the kind of jurisdiction it is held for
    role: str  # council, executive or officeholder: who holds it there by law
    delegable: bool
    mandatable: bool
    basis: str
    since: date | None = None  # None: from the dualisation (or the region's founding)
    until: date | None = None


def _catalogue(kind: str, rows: str) -> tuple[Competence, ...]:
    """Rows of `code | title | role | flags (d: delegable, m: mandatable) | basis [| since [| until]]`."""
    competences = []
    for row in rows.strip().splitlines():
        code, title, role, flags, basis, *period = (part.strip() for part in row.split("|"))
        since, until = (date.fromisoformat(p) if p else None for p in (*period, "", "")[:2])
        competences.append(Competence(code, title, kind, role, "d" in flags, "m" in flags,
                                      basis, since, until))
    return tuple(competences)


COMPETENCES: tuple[Competence, ...] = (
    *_catalogue("municipality", """
gemeentebegroting | Vaststellen van de gemeentebegroting | council | - | Gemeentewet art. 189
gemeentejaarrekening | Vaststellen van de jaarrekening | council | - | Gemeentewet art. 198
gemeentelijke-verordeningen | Vaststellen van verordeningen | council | - | Gemeentewet art. 147 en 149
gemeentelijke-belastingen | Invoeren van gemeentelijke belastingen | council | - | Gemeentewet art. 216
bestemmingsplannen | Vaststellen van bestemmingsplannen | council | d | Wet ruimtelijke ordening art. 3.1 | 2008-07-01 | 2024-01-01
omgevingsplan | Vaststellen van het omgevingsplan | council | d | Omgevingswet art. 2.4 | 2024-01-01
wethouders-benoemen | Benoemen van wethouders | council | - | Gemeentewet art. 35
rekenkamer-gemeente | Instellen van de rekenkamer | council | - | Gemeentewet art. 81a
grondbeleid-kaders | Kaders voor het grondbeleid | council | - | Gemeentewet art. 108
erfgoedverordening | Vaststellen van de erfgoedverordening | council | - | Erfgoedwet art. 9.1 | 2016-07-01
organisatie-gemeente | Regelen van de ambtelijke organisatie | executive | m | Gemeentewet art. 160 lid 1 sub c
gemeenschappelijke-regeling-treffen | Treffen van gemeenschappelijke regelingen | executive | - | Wet gemeenschappelijke regelingen art. 1
wwb-uitvoering | Uitvoering van de Wet werk en bijstand | executive | dm | Wet werk en bijstand art. 7 | 2004-01-01 | 2015-01-01
participatiewet-uitvoering | Uitvoering van de Participatiewet | executive | dm | Participatiewet art. 7 | 2015-01-01
wmo-voorzieningen | Voorzieningen maatschappelijke ondersteuning | executive | dm | Wet maatschappelijke ondersteuning art. 4 | 2007-01-01 | 2015-01-01
wmo-maatwerkvoorzieningen | Maatwerkvoorzieningen Wmo 2015 | executive | dm | Wet maatschappelijke ondersteuning 2015 art. 2.3.5 | 2015-01-01
jeugdhulp | Toegang tot jeugdhulp | executive | dm | Jeugdwet art. 2.3 | 2015-01-01
schuldhulpverlening | Integrale schuldhulpverlening | executive | dm | Wet gemeentelijke schuldhulpverlening art. 2 | 2012-07-01
invordering-belastingen | Invordering van gemeentelijke belastingen | executive | dm | Gemeentewet art. 231
woz-waardering | Waardering onroerende zaken | executive | dm | Wet waardering onroerende zaken art. 1
inburgering | Uitvoering van de inburgering | executive | dm | Wet inburgering 2021 art. 6 | 2022-01-01
leerlingenvervoer | Bekostiging van leerlingenvervoer | executive | dm | Wet op het primair onderwijs art. 4
bouwvergunning | Verlenen van bouwvergunningen | executive | m | Woningwet art. 40 | | 2010-10-01
omgevingsvergunning | Verlenen van omgevingsvergunningen | executive | m | Wet algemene bepalingen omgevingsrecht art. 2.4 | 2010-10-01 | 2024-01-01
omgevingsvergunning-omgevingswet | Omgevingsvergunningen onder de Omgevingswet | executive | m | Omgevingswet art. 5.8 | 2024-01-01
handhaving-omgevingsrecht | Bestuursrechtelijke handhaving | executive | m | Algemene wet bestuursrecht art. 5:21
subsidieverstrekking | Verstrekken van subsidies | executive | m | Algemene wet bestuursrecht art. 4:23
privaatrechtelijke-rechtshandelingen | Privaatrechtelijke rechtshandelingen | executive | m | Gemeentewet art. 160 lid 1 sub e
basisregistratie-personen | Bijhouden van de basisregistratie personen | executive | m | Wet basisregistratie personen art. 1.3
leerplicht-handhaving | Toezicht op de naleving van de leerplicht | executive | m | Leerplichtwet 1969 art. 16
huisvestingsvergunning | Verlenen van huisvestingsvergunningen | executive | m | Huisvestingswet 2014 art. 8 | 2015-01-01
parkeervergunningen | Verlenen van parkeervergunningen | executive | m | Gemeentewet art. 225
standplaatsvergunning | Verlenen van standplaatsvergunningen | executive | m | Algemene plaatselijke verordening
kapvergunning | Verlenen van kapvergunningen | executive | m | Algemene plaatselijke verordening
openbare-orde | Handhaving van de openbare orde | officeholder | - | Gemeentewet art. 172
noodbevoegdheden | Noodbevel en noodverordening | officeholder | - | Gemeentewet art. 175 en 176
evenementenvergunning | Verlenen van evenementenvergunningen | officeholder | m | Gemeentewet art. 174
alcoholvergunning | Vergunningen voor alcoholverstrekking | officeholder | m | Alcoholwet art. 3 | 2013-01-01
woningsluiting | Sluiten van woningen en lokalen | officeholder | m | Gemeentewet art. 174a
cameratoezicht | Cameratoezicht op openbare plaatsen | officeholder | - | Gemeentewet art. 151c
bibob-onderzoek | Integriteitsonderzoek Bibob | officeholder | m | Wet Bibob art. 3
huisverbod | Opleggen van een tijdelijk huisverbod | officeholder | - | Wet tijdelijk huisverbod art. 2 | 2009-01-01
veiligheidsrisicogebied | Aanwijzen van veiligheidsrisicogebieden | officeholder | - | Gemeentewet art. 151b
openbare-manifestaties | Toezicht op openbare manifestaties | officeholder | m | Wet openbare manifestaties art. 5
""",  # noqa: E501 (a table reads better unwrapped)
    ),
    *_catalogue("region", """
regionale-begroting | Vaststellen van de regionale begroting | council | - | Wet gemeenschappelijke regelingen art. 35
regionale-jaarrekening | Vaststellen van de regionale jaarrekening | council | - | Wet gemeenschappelijke regelingen art. 34b
kaderstelling-regio | Kaders voor de overgedragen taken | council | - | Gemeenschappelijke regeling, kaderstellende bevoegdheden
regionale-strategische-agenda | Vaststellen van de regionale strategische agenda | council | - | Gemeenschappelijke regeling, regionale agenda
regionale-verordeningen | Vaststellen van regionale verordeningen | council | - | Wet gemeenschappelijke regelingen art. 52
regionale-rekenkamer | Instellen van een regionale rekenkamer | council | - | Wet gemeenschappelijke regelingen art. 31a
bedrijfsvoering-regio | Bedrijfsvoering van de regio | executive | m | Wet gemeenschappelijke regelingen art. 33b
regionaal-personeelsbeleid | Personeelsbeleid van de regio | executive | m | Gemeenschappelijke regeling, personeel
regionale-aanbesteding | Aanbesteding en inkoop | executive | m | Aanbestedingswet 2012 art. 1.4
regionale-subsidies | Verstrekken van regionale subsidies | executive | m | Algemene wet bestuursrecht art. 4:23
regionaal-economisch-programma | Uitvoering van het regionaal economisch programma | executive | m | Gemeenschappelijke regeling, economie
regionaal-archiefbeheer | Beheer van het regionaal archief | executive | m | Archiefwet 1995 art. 40
""",  # noqa: E501 (a table reads better unwrapped)
    ),
    *_catalogue("province", """
provinciale-begroting | Vaststellen van de provinciale begroting | council | - | Provinciewet art. 193
provinciale-jaarrekening | Vaststellen van de provinciale jaarrekening | council | - | Provinciewet art. 201
provinciale-verordeningen | Vaststellen van provinciale verordeningen | council | - | Provinciewet art. 145
provinciale-belastingen | Heffen van provinciale belastingen | council | - | Provinciewet art. 220
organisatie-provincie | Regelen van de ambtelijke organisatie | executive | m | Provinciewet art. 158
natuurvergunningen | Verlenen van natuurvergunningen | executive | m | Natuurbeschermingswet 1998 art. 19d
ontgrondingsvergunning | Verlenen van ontgrondingsvergunningen | executive | m | Ontgrondingenwet art. 8
provinciale-subsidies | Verstrekken van provinciale subsidies | executive | m | Algemene wet bestuursrecht art. 4:23
ov-concessies | Verlenen van concessies openbaar vervoer | executive | m | Wet personenvervoer 2000 art. 20
provinciale-wegen | Beheer van provinciale wegen | executive | m | Wegenwet art. 15
ambtsinstructie-cdk | Rijkstaken van de commissaris | officeholder | - | Provinciewet art. 182
burgemeestersbenoeming-advies | Advies over de benoeming van burgemeesters | officeholder | - | Gemeentewet art. 61
""",  # noqa: E501 (a table reads better unwrapped)
    ),
    *_catalogue("water_board", """
waterschapsbegroting | Vaststellen van de waterschapsbegroting | council | - | Waterschapswet art. 99
waterschapsverordeningen | Vaststellen van de keur | council | - | Waterschapswet art. 56
waterschapsbelastingen | Heffen van waterschapsbelastingen | council | - | Waterschapswet art. 110
peilbesluiten | Vaststellen van peilbesluiten | council | - | Waterwet art. 5.2 | 2009-12-22
legger | Vaststellen van de legger | council | - | Waterwet art. 5.1 | 2009-12-22
organisatie-waterschap | Regelen van de ambtelijke organisatie | executive | m | Waterschapswet art. 83
watervergunningen | Verlenen van watervergunningen | executive | m | Waterwet art. 6.5 | 2009-12-22
handhaving-waterwet | Handhaving van de Waterwet | executive | m | Waterwet art. 8.1 | 2009-12-22
invordering-waterschapsbelastingen | Invordering van waterschapsbelastingen | executive | m | Waterschapswet art. 123
projectplannen-waterkering | Vaststellen van projectplannen waterkering | executive | m | Waterwet art. 5.4 | 2009-12-22
calamiteitenbestrijding | Bestrijding van calamiteiten | officeholder | - | Waterschapswet art. 94
vertegenwoordiging-waterschap | Vertegenwoordiging in en buiten rechte | officeholder | - | Waterschapswet art. 95
""",  # noqa: E501 (a table reads better unwrapped)
    ),
)
BY_CODE = {competence.code: competence for competence in COMPETENCES}

# What regions take over from their members, in bundles: a law and its successor go together.
TASK_BUNDLES: tuple[tuple[str, ...], ...] = (
    ("wwb-uitvoering", "participatiewet-uitvoering", "schuldhulpverlening"),
    ("wmo-voorzieningen", "wmo-maatwerkvoorzieningen", "jeugdhulp"),
    ("invordering-belastingen", "woz-waardering"),
    ("leerlingenvervoer", "inburgering"),
)
TASKS = frozenset(code for bundle in TASK_BUNDLES for code in bundle)

DOSSIERS = (
    ("strategische-agenda", "Regionale strategische agenda"),
    ("programmering", "Programmering: wat is lokaal, wat regionaal"),
    ("netwerkbestuur", "Netwerkbestuur"),
    ("organisatie-netwerk", "Organisatie van het netwerk"),
    ("sociaal-domein", "Sociaal domein"),
    ("ruimte-en-wonen", "Ruimte en wonen"),
    ("financien", "Financiën"),
    ("veiligheid", "Openbare orde en veiligheid"),
    ("water-en-klimaat", "Water en klimaat"),
    ("economie", "Regionale economie"),
)


@dataclass(frozen=True)
class Template:
    """How one kind of local government names its bodies, seats, gazette and election cycle."""

    prefix: str
    title: str
    bodies: tuple[tuple[str, str], ...]  # council, executive, officeholder: (code prefix, title)
    secretary: str
    officeholder_seat: str
    executive_seat: str
    gazette: str
    council_sizes: tuple[int, int]
    executive_seats: tuple[int, int]
    elections: tuple[int, ...]  # years in which a new executive takes office


MUNICIPAL_ELECTIONS = (2006, 2010, 2014, 2018, 2022)
PROVINCIAL_ELECTIONS = (2007, 2011, 2015, 2019, 2023)
TEMPLATES = {
    "municipality": Template(
        "gm", "Gemeente {}",
        (("raad", "Gemeenteraad van {}"),
         ("college", "College van burgemeester en wethouders van {}"),
         ("burgemeester", "Burgemeester van {}")),
        "Gemeentesecretaris van {}", "burgemeester", "wethouder", "Gemeenteblad {}",
        (9, 45), (2, 6), MUNICIPAL_ELECTIONS),
    "province": Template(
        "pv", "Provincie {}",
        (("staten", "Provinciale Staten van {}"),
         ("gs", "Gedeputeerde Staten van {}"),
         ("cdk", "Commissaris van de Koning in {}")),
        "Provinciesecretaris van {}", "commissaris van de Koning", "gedeputeerde",
        "Provinciaal Blad {}", (39, 55), (4, 7), PROVINCIAL_ELECTIONS),
    "water_board": Template(
        "ws", "Waterschap {}",
        (("ab", "Algemeen bestuur van {}"),
         ("db", "Dagelijks bestuur van {}"),
         ("dijkgraaf", "Dijkgraaf van {}")),
        "Secretaris-directeur van {}", "dijkgraaf", "heemraad", "Waterschapsblad {}",
        (18, 30), (3, 5), PROVINCIAL_ELECTIONS),
}
DEPARTMENTS = ("Sociaal Domein", "Ruimte", "Bedrijfsvoering", "Publiekszaken")
PARTIES = ("VVD", "CDA", "PvdA", "D66", "GroenLinks", "SP", "ChristenUnie", "SGP", "PVV",
           "Partij voor de Dieren", "Lokaal Belang", "Gemeentebelangen", "50PLUS")
SURNAMES = ("de Vries", "Jansen", "de Jong", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
            "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
            "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Kok", "Jacobs",
            "van den Berg", "Vermeulen", "van Dijk", "Koster", "Prins", "Huisman", "Postma")
PLACE_STEMS = ("Aal", "Ber", "Bran", "Dor", "Eem", "Gel", "Haar", "Hoog", "Kam", "Lei", "Mid",
               "Noord", "Oost", "Ren", "Schel", "Ter", "Vel", "Wes", "Zand", "Zwar", "Ach",
               "Bun", "Dal", "Ens", "Gro", "Hel", "Lin", "Maas", "Nij", "Olde", "Put", "Ros")
PLACE_ENDS = ("dam", "dijk", "veen", "wijk", "horst", "broek", "hoven", "drecht", "zande", "meer",
              "beek", "berg", "hem", "lo", "woude", "recht", "gouw", "waarde", "kerk", "burg")

# Small helpers --------------------------------------------------------------------------------


def add_months(month: date, months: int) -> date:
    """The first of the month `months` after `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_days(month: date) -> int:
    return (add_months(month, 1) - month).days


def person(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEFGHIJKLMNPRSTW')}.{rng.choice('ABCDEHJKMPW')}. {rng.choice(SURNAMES)}"


def document(code: str, title: str) -> dict[str, str]:
    """A document referenced by address and content hash; the content is the code, so it is stable."""
    return {"title": title, "address": f"https://documenten.example.org/{code}.pdf",
            "sha256": hashlib.sha256(code.encode()).hexdigest()}


class Cmd(NamedTuple):
    name: str
    input: dict[str, Any]
    actor: str
    events: int
    expect: str | None = None
    note: str | None = None


def cmd(name: str, actor: str, *, opens: bool = True, **fields: Any) -> Cmd:
    """A command with its input as JSON values (unset fields left out) and the events it records."""
    data = {key: value.isoformat() if isinstance(value, date) else value
            for key, value in fields.items() if value is not None}
    events = EVENTS_PER_COMMAND[name] - (0 if opens or EVENTS_PER_COMMAND[name] == 1 else 1)
    return Cmd(name, data, actor, events)


# What the generator knows of the ledger's state ----------------------------------------------


@dataclass
class Grant:
    code: str
    kind: str  # delegation, mandate, submandate
    grantor: str
    grantee: str
    valid_from: date
    valid_until: date | None
    publication: str  # where the decision it rests on was published: the citation (L11)
    scope: tuple[str, ...] | None = None
    framework_body: str | None = None
    parent: str | None = None
    allows_submandate: bool = False
    revoked_on: date | None = None

    def contains(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def active_on(self, day: date) -> bool:
        return self.contains(day) and (self.revoked_on is None or day < self.revoked_on)


@dataclass
class Attribution:
    body: str
    valid_from: date
    valid_until: date | None

    def contains(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


class Route(NamedTuple):
    """A body that may exercise a holding, and the grants its authority runs through."""

    body: str
    chain: tuple[Grant, ...]

    @property
    def grant(self) -> Grant | None:
        return self.chain[-1] if self.chain else None

    @property
    def framework_body(self) -> str | None:
        return next((g.framework_body for g in reversed(self.chain) if g.framework_body), None)

    @property
    def scope(self) -> tuple[str, ...] | None:
        return next((g.scope for g in reversed(self.chain) if g.scope), None)


@dataclass
class Holding:
    """One competence for one jurisdiction, mirroring the ledger's chain rules (L2, L3) so that
    the generator writes decisions only for bodies the ledger will find competent."""

    competence: Competence
    jurisdiction: str
    attributions: list[Attribution] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    _month: date | None = None
    _routes: list[Route] = field(default_factory=list)

    def holder_on(self, day: date) -> str | None:
        return next((a.body for a in self.attributions if a.contains(day)), None)

    def holders_on(self, day: date) -> tuple[list[tuple[str, tuple[Grant, ...]]], dict[str, Grant]]:
        """Who holds it in their own name, through the delegations standing on `day`, and who
        delegated it away (as CompetenceHolding.holders_on)."""
        holders: list[tuple[str, tuple[Grant, ...]]] = []
        away: dict[str, Grant] = {}
        for attribution in self.attributions:
            if not attribution.contains(day):
                continue
            body, chain = attribution.body, ()
            while (delegation := self._first_active("delegation", body, day)) is not None:
                if delegation.grantee in away or delegation.grantee == attribution.body:
                    break
                away[body] = delegation
                body, chain = delegation.grantee, (*chain, delegation)
            holders.append((body, chain))
        return holders, away

    def changed(self) -> None:
        """Its grants or attributions changed: work out the routes again."""
        self._month = None

    def routes_on(self, month: date) -> list[Route]:
        """Everyone who may exercise it throughout `month` (grants change only on a first)."""
        if self._month != month:
            self._month, self._routes = month, self._routes_on(month)
        return self._routes

    def _routes_on(self, day: date) -> list[Route]:
        routes = []
        for holder, chain in self.holders_on(day)[0]:
            routes.append(Route(holder, chain))
            for mandate in self._active("mandate", holder, day):
                routes.append(Route(mandate.grantee, (*chain, mandate)))
                if mandate.allows_submandate:
                    routes.extend(Route(sub.grantee, (*chain, mandate, sub))
                                  for sub in self._active("submandate", mandate.grantee, day)
                                  if sub.parent == mandate.code)
        return routes

    def refusal_for(self, body: str, day: date) -> str | None:
        """The code the ledger gives `body` deciding on `day` without a subject, when one of its
        grants here has lapsed (as CompetenceHolding.chain_for and _explain_unusable_grant)."""
        if any(route.body == body for route in self._routes_on(day)):
            return None
        holders, away = self.holders_on(day)
        if body in away or not holders:
            return None
        candidates = sorted((g for g in self.grants if g.grantee == body),
                            key=lambda g: (g.contains(day), g.valid_from), reverse=True)
        holder_bodies = {holder for holder, _ in holders}
        for grant in candidates:
            prefix = "DELEGATION" if grant.kind == "delegation" else "MANDATE"
            if grant.revoked_on is not None and grant.revoked_on <= day:
                return f"{prefix}_REVOKED"
            if grant.valid_until is not None and day >= grant.valid_until:
                return f"{prefix}_EXPIRED"
            if day < grant.valid_from:
                return "GRANT_NOT_YET_VALID"
            if grant.scope is not None:
                return "OUTSIDE_GRANT_SCOPE"
            if grant.kind != "delegation" and grant.grantor not in holder_bodies:
                return "MANDATOR_NOT_COMPETENT"
        return None

    def _active(self, kind: str, grantor: str, day: date) -> list[Grant]:
        return [g for g in self.grants
                if g.kind == kind and g.grantor == grantor and g.active_on(day)]

    def _first_active(self, kind: str, grantor: str, day: date) -> Grant | None:
        return next(iter(self._active(kind, grantor, day)), None)


@dataclass
class Body:
    code: str
    kind: str
    jurisdiction: str
    established: date
    size: int = 0  # seats (councils) or members (executives), for votes
    groups: tuple[tuple[str, int], ...] = ()  # party groups and their seats
    proposer: str | None = None  # who prepares its decisions
    abolished: date | None = None


@dataclass
class Government:
    """A municipality, province or water board."""

    code: str
    title: str
    kind: str
    council: str
    executive: str
    officeholder: str
    secretary: str
    heads: tuple[str, ...]
    executive_seats: tuple[str, ...]
    holdings: dict[str, Holding] = field(default_factory=dict)
    organisation_mandate: Grant | None = None
    region: Region | None = None  # current (or joining) region of a municipality
    terms: tuple[date, ...] = ()

    @property
    def template(self) -> Template:
        return TEMPLATES[self.kind]


@dataclass
class Region:
    code: str
    title: str
    founded: date
    council: str
    board: str
    director: str
    tasks: tuple[str, ...]
    framed: bool  # its members delegate within the framework of the regional council (L12)
    founders: list[Government]
    members: dict[str, Government] = field(default_factory=dict)
    holdings: dict[str, Holding] = field(default_factory=dict)
    mandate_publication: str = ""  # the board's mandate decision, for the director's mandates
    mandate_decision: str = ""
    abolition: date | None = None  # when its council gives way to a new one


# The country: its structure over time ---------------------------------------------------------


class Agenda:
    """Structural steps waiting for their day; bounded by the size of the country, not by N."""

    def __init__(self) -> None:
        self._heap: list[tuple[date, int, int, Callable[[], Iterator[Cmd]]]] = []
        self._order = itertools.count()

    def at(self, day: date, step: Callable[[], Iterator[Cmd]], priority: int = 5) -> None:
        """Lower priority runs first on the same day: an abolition before leaves, leaves before joins."""
        heapq.heappush(self._heap, (day, priority, next(self._order), step))

    def due(self, before: date) -> Iterator[tuple[date, Callable[[], Iterator[Cmd]]]]:
        while self._heap and self._heap[0][0] < before:
            day, _, _, step = heapq.heappop(self._heap)
            yield day, step


class Country:
    """Jurisdictions, bodies, holdings and grants, and the structural steps that change them.
    Draws only from its own random stream, so the same country is built with or without the
    decisions in between."""

    def __init__(self, municipalities: int, seed: int) -> None:
        self.rng = random.Random(f"bevoegd-structure-{seed}")
        self.agenda = Agenda()
        self.agenda_day = HISTORY_START
        self.serial = itertools.count(1)
        self.bodies: dict[str, Body] = {}
        self.holdings: list[Holding] = []
        self.frameworks: dict[str, list[tuple[date, str]]] = {}
        self.stale: deque[tuple[Holding, str]] = deque(maxlen=512)  # lapsed grants, for refusals
        self.abolished: list[tuple[Body, Holding]] = []
        self.places: set[str] = set()
        self.governments = [self._plan_government(kind, index)
                            for kind in ("municipality", "province", "water_board")
                            for index in range(self._count(kind, municipalities))]
        self.by_code = {g.code: g for g in self.governments}
        self.municipalities = [g for g in self.governments if g.kind == "municipality"]
        self.regions = self._plan_regions(self._count("region", municipalities))
        self.regions_by_code = {r.code: r for r in self.regions}
        self.titles = {g.code: g.title for g in self.governments} | {
            r.code: r.title for r in self.regions}

    @staticmethod
    def _count(kind: str, municipalities: int) -> int:
        return max(1, round(FULL_COUNTRY[kind] * municipalities / FULL_COUNTRY["municipality"]))

    # Planning -------------------------------------------------------------------------------

    def _place(self) -> str:
        """A made-up place name, unique in the country: seats are named after members."""
        while (name := self.rng.choice(PLACE_STEMS) + self.rng.choice(PLACE_ENDS)) in self.places:
            pass
        self.places.add(name)
        return name

    def _plan_government(self, kind: str, index: int) -> Government:
        template = TEMPLATES[kind]
        code = f"{template.prefix}{index + 1:04d}"
        title = self._place()
        seats = self.rng.randint(*template.executive_seats)
        terms = (add_months(HISTORY_START, 2),
                 *(date(year, 5, 1) for year in template.elections), date(2026, 5, 1))
        return Government(
            code=code, title=title, kind=kind,
            council=f"{template.bodies[0][0]}-{code}", executive=f"{template.bodies[1][0]}-{code}",
            officeholder=f"{template.bodies[2][0]}-{code}", secretary=f"secretaris-{code}",
            heads=tuple(f"afdelingshoofd-{code}-{i + 1}" for i in range(self.rng.randint(1, 3))),
            executive_seats=tuple(f"{template.executive_seat} {i + 1}" for i in range(seats)),
            terms=terms)

    def _plan_regions(self, count: int) -> list[Region]:
        """Regions of 5 to 15 founding members; about a tenth of the municipalities stay out at
        first and may join later."""
        pool = list(self.municipalities)
        self.rng.shuffle(pool)
        founding = pool[:max(5, round(len(pool) * 0.9))]
        count = max(1, min(count, len(founding) // 5))
        sizes = [5] * count
        for _ in range(len(founding) - 5 * count):
            open_regions = [i for i, size in enumerate(sizes) if size < 15]
            if not open_regions:
                break
            sizes[self.rng.choice(open_regions)] += 1
        regions, start = [], 0
        for index, size in enumerate(sizes):
            code = f"gr{index + 1:02d}"
            bundles = self.rng.sample(TASK_BUNDLES, self.rng.randint(1, 3))
            regions.append(Region(
                code=code, title=f"Regio {self._place()}",
                founded=add_months(HISTORY_START, self.rng.randint(0, 35)),
                council=f"regioraad-{code}", board=f"regiobestuur-{code}",
                director=f"directeur-{code}",
                tasks=tuple(task for bundle in bundles for task in bundle),
                framed=self.rng.random() < 0.5, founders=founding[start:start + size],
                abolition=(date(self.rng.randint(2012, 2023), 1, 1)
                           if self.rng.random() < 0.2 else None)))
            for member in regions[-1].founders:
                member.region = regions[-1]
            start += size
        return regions

    # Shared writers -------------------------------------------------------------------------

    def _body(self, code: str, kind: str, jurisdiction: str, title: str, on: date,
              subordinate_to: str | None = None, **votes: Any) -> Cmd:
        self.bodies[code] = Body(code, kind, jurisdiction, on, **votes)
        return cmd("establish_body", f"griffie-{jurisdiction}", code=code, title=title, kind=kind,
                   jurisdiction=jurisdiction, established_on=on, subordinate_to=subordinate_to)

    def _composition(self, low: int, high: int) -> dict[str, Any]:
        """Seats and party groups of a council, for votes."""
        size = self.rng.randint(low, high)
        parties = self.rng.sample(PARTIES, self.rng.randint(3, min(9, size)))
        cuts = sorted(self.rng.sample(range(1, size), len(parties) - 1))
        seats = [b - a for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
        return {"size": size, "groups": tuple(zip(parties, seats, strict=True))}

    def _attribute(self, holding: Holding, body: str, on: date, until: date | None,
                   opens: bool) -> Cmd:
        holding.attributions.append(Attribution(body, on, until))
        competence = holding.competence
        return cmd("attribute_competence", f"griffie-{holding.jurisdiction}", opens=opens,
                   competence=competence.code, jurisdiction=holding.jurisdiction, body=body,
                   legal_basis=competence.basis, valid_from=on, valid_until=until)

    def _adopt(self, body: str, holding: Holding, taken: date, title: str, *,
               via: Grant | None = None, subject: str | None = None,
               framework: str | None = None) -> Iterator[Cmd]:
        """A structural decision (a grant's basis, a framework): adopted and published within
        days. Returns its code and publication."""
        code = f"{body}-{taken:%Y%m%d}-s{next(self.serial)}"
        votes, _ = cast_votes(self.rng, self.bodies[body], must_adopt=True)
        yield cmd("take_decision", f"griffie-{holding.jurisdiction}", code=code, body=body,
                  taken_on=taken, outcome="adopted", title=title,
                  competence=holding.competence.code, jurisdiction=holding.jurisdiction,
                  subject=subject, votes=votes, cited_grant=via.code if via else None,
                  cited_publication=via.publication if via else None,
                  framework_decision=framework)
        published = taken + timedelta(days=self.rng.randint(3, 9))
        publication = f"{self.gazette(holding.jurisdiction)} {published.year}, nr. {next(self.serial)}"
        yield cmd("publish_decision", f"griffie-{holding.jurisdiction}", decision=code,
                  on=published, publication=publication)
        return code, publication

    def _grant(self, holding: Holding, grant: Grant, source: str, basis: str) -> Cmd:
        holding.grants.append(grant)
        holding.changed()
        return cmd("grant_delegation" if grant.kind == "delegation" else "grant_mandate",
                   f"griffie-{holding.jurisdiction}", competence=holding.competence.code,
                   jurisdiction=holding.jurisdiction, code=grant.code, grantor=grant.grantor,
                   grantee=grant.grantee, legal_basis=basis, source_decision=source,
                   valid_from=grant.valid_from, valid_until=grant.valid_until,
                   scope=list(grant.scope) if grant.scope else None,
                   framework_body=grant.framework_body,
                   allows_submandate=grant.allows_submandate or None, parent=grant.parent)

    def _revoke(self, holding: Holding, grant: Grant, on: date, reason: str) -> Cmd:
        grant.revoked_on = on
        holding.changed()
        self.stale.append((holding, grant.grantee))
        return cmd("revoke_grant", f"griffie-{holding.jurisdiction}",
                   competence=holding.competence.code, jurisdiction=holding.jurisdiction,
                   grant=grant.code, on=on, reason=reason)

    def _seat(self, body: str, seat: str, on: date, reason: str | None = None) -> Cmd:
        """Fills a seat (with a new person) or, with a reason, vacates it."""
        jurisdiction = self.bodies[body].jurisdiction
        if reason is not None:
            return cmd("vacate_seat", f"griffie-{jurisdiction}", body=body, seat=seat, on=on,
                       reason=reason)
        return cmd("fill_seat", f"griffie-{jurisdiction}", body=body, seat=seat,
                   holder=person(self.rng), group=self.rng.choice(PARTIES), on=on)

    def gazette(self, jurisdiction: str) -> str:
        government = self.by_code.get(jurisdiction)
        if government is None:
            return "Staatscourant"  # where regions publish
        return government.template.gazette.format(government.title)

    def framework_on(self, body: str, day: date) -> str | None:
        """The framework decision of `body` standing on `day`: its latest taken by then."""
        taken = [code for on, code in self.frameworks.get(body, ()) if on <= day]
        return taken[-1] if taken else None

    # Set-up ---------------------------------------------------------------------------------

    def setup(self) -> Iterator[Cmd]:
        """Competences, dossiers and every local government with its bodies, attributions and
        seats; regions are founded later, in their own months."""
        for competence in COMPETENCES:
            yield cmd("define_competence", "bevoegd-beheer", code=competence.code,
                      title=competence.title, delegable=competence.delegable,
                      mandatable=competence.mandatable)
        for code, title in DOSSIERS:
            yield cmd("open_dossier", "bevoegd-beheer", code=code, title=title)
        for government in self.governments:
            yield from self._found_government(government)
        for region in self.regions:
            self.agenda.at(add_months(region.founded, -1),
                           functools.partial(self._prepare_founding, region))
        for year in range(2006, 2025):
            self.agenda.at(date(year, 10, 1), functools.partial(self._membership_changes, year))

    def _found_government(self, government: Government) -> Iterator[Cmd]:
        template, code = government.template, government.code
        yield cmd("establish_jurisdiction", f"griffie-{code}", code=code,
                  title=template.title.format(government.title), kind=government.kind)
        yield from self._government_bodies(government)
        for competence in COMPETENCES:
            if competence.kind == government.kind:
                holding = Holding(competence, code)
                government.holdings[competence.code] = holding
                self.holdings.append(holding)
                body = {"council": government.council, "executive": government.executive,
                        "officeholder": government.officeholder}[competence.role]
                yield self._attribute(holding, body,
                                      competence.since or DUALISATION[government.kind],
                                      competence.until, opens=True)
        yield from self._first_seats(government)
        yield from self._organisation_mandate(government)
        self._schedule_government(government)

    def _government_bodies(self, government: Government) -> Iterator[Cmd]:
        """Council, executive, officeholder and officials, on record from the dualisation."""
        template, code = government.template, government.code
        on = DUALISATION[government.kind]
        council, executive, officeholder = (t.format(government.title) for _, t in template.bodies)
        yield self._body(government.council, "council", code, council, on,
                         proposer=government.executive, **self._composition(*template.council_sizes))
        yield self._body(government.executive, "executive", code, executive, on,
                         size=len(government.executive_seats) + 1)
        yield self._body(government.officeholder, "officeholder", code, officeholder, on)
        yield self._body(government.secretary, "official", code,
                         template.secretary.format(government.title), on,
                         subordinate_to=government.executive)
        for i, head in enumerate(government.heads):
            yield self._body(head, "official", code,
                             f"Afdelingshoofd {DEPARTMENTS[i]} van {government.title}", on,
                             subordinate_to=government.executive)

    def _first_seats(self, government: Government) -> Iterator[Cmd]:
        """The officeholder (who chairs the executive) and the executive's members."""
        established = DUALISATION[government.kind]
        seated = add_months(established.replace(day=1), self.rng.randint(1, 30))
        yield self._seat(government.officeholder, government.template.officeholder_seat, seated)
        yield self._seat(government.executive, "voorzitter", seated)
        for seat in government.executive_seats:
            yield self._seat(government.executive, seat, established + timedelta(days=40))
        self.agenda.at(seated.replace(year=seated.year + self.rng.randint(4, 8)),
                       functools.partial(self._new_officeholder, government))

    def _schedule_government(self, government: Government) -> None:
        """Its first term of mandates, its elections and, now and then, a commission."""
        self.agenda.at(add_months(government.terms[0], -1),
                       functools.partial(self._new_term, government, 0))
        for year in government.template.elections:
            self.agenda.at(date(year, 4, self.rng.randint(2, 28)),
                           functools.partial(self._elections, government))
        for year in range(2005, 2026):
            if self.rng.random() < 0.15:
                self.agenda.at(date(year, self.rng.randint(2, 4), self.rng.randint(1, 28)),
                               functools.partial(self._commission, government.council,
                                                 government.executive, government.code))

    def _organisation_mandate(self, government: Government) -> Iterator[Cmd]:
        """The secretary's standing mandate to sub-mandate (as the demo's SDD director has)."""
        holding = government.holdings[ORGANISATION[government.kind]]
        source, publication = yield from self._adopt(
            government.executive, holding, date(2005, 1, self.rng.randint(3, 14)),
            f"Organisatie- en mandaatbesluit {government.title}")
        grant = Grant(f"mandaat-ondermandaat-{government.code}", "mandate", government.executive,
                      government.secretary, date(2005, 2, 1), None, publication,
                      scope=("ondermandaat",))
        government.organisation_mandate = grant
        yield self._grant(holding, grant, source, "Awb art. 10:3; organisatiebesluit")

    # Local governments over time -----------------------------------------------------------

    def _new_term(self, government: Government, index: int) -> Iterator[Cmd]:
        """A new executive term: a mandate decision, mandates to officials until the next term
        (some not renewed later, so they expire), sub-mandates where allowed, a few revoked."""
        start, end = government.terms[index], government.terms[index + 1]
        prepared = add_months(start, -1)
        mandatable = [h for h in government.holdings.values()
                      if h.competence.role == "executive" and h.competence.mandatable
                      and h.competence.code not in TASKS
                      and h.competence.code != ORGANISATION[government.kind]
                      and (h.competence.until is None or h.competence.until > start)
                      and (h.competence.since or start) < end]
        chosen = self.rng.sample(mandatable, min(len(mandatable), self.rng.randint(2, 4)))
        organisation = government.holdings[ORGANISATION[government.kind]]
        source, publication = yield from self._adopt(
            government.executive, organisation, prepared.replace(day=self.rng.randint(2, 8)),
            f"Mandaatbesluit {government.title} {start.year}")
        parents = []
        for holding in chosen:
            mandate = self._term_mandate(government, holding, start, end, publication)
            yield self._grant(holding, mandate, source, "Awb art. 10:3; mandaatbesluit")
            self.stale.append((holding, mandate.grantee))  # lapses at the term's end unless renewed
            if mandate.allows_submandate:
                parents.append((holding, mandate))
            self._maybe_revoke(holding, mandate)
        if parents:
            yield from self._submandates(government, parents, prepared)
        if index + 2 < len(government.terms):
            self.agenda.at(add_months(end, -1),
                           functools.partial(self._new_term, government, index + 1))

    def _term_mandate(self, government: Government, holding: Holding, start: date, end: date,
                      publication: str) -> Grant:
        """A mandate to an official for the term, sometimes limited to two subjects; the
        secretary's mostly allow sub-mandating."""
        grantee = self.rng.choice((government.secretary, *government.heads))
        scope = tuple(sorted(self.rng.sample(SUBJECTS, 2))) if self.rng.random() < 0.4 else None
        return Grant(f"mandaat-{holding.competence.code}-{government.code}-{start:%Y}", "mandate",
                     government.executive, grantee, max(start, holding.competence.since or start),
                     end, publication, scope=scope,
                     allows_submandate=grantee == government.secretary and self.rng.random() < 0.7)

    def _submandates(self, government: Government, parents: list[tuple[Holding, Grant]],
                     prepared: date) -> Iterator[Cmd]:
        organisation = government.holdings[ORGANISATION[government.kind]]
        source, publication = yield from self._adopt(
            government.secretary, organisation, prepared.replace(day=self.rng.randint(10, 16)),
            f"Ondermandaatbesluit {government.title} {prepared.year}",
            via=government.organisation_mandate, subject="ondermandaat")
        for holding, parent in parents:
            scope = parent.scope or (tuple(sorted(self.rng.sample(SUBJECTS, 2)))
                                     if self.rng.random() < 0.5 else None)
            sub = Grant(f"ondermandaat-{holding.competence.code}-{government.code}-"
                        f"{parent.valid_from:%Y}", "submandate", parent.grantee,
                        self.rng.choice(government.heads), parent.valid_from, parent.valid_until,
                        publication, scope=scope[:1] if scope else None, parent=parent.code)
            yield self._grant(holding, sub, source, "Awb art. 10:9; ondermandaatbesluit")

    def _maybe_revoke(self, holding: Holding, mandate: Grant) -> None:
        """Revokes about one mandate in twelve (and its sub-mandates) mid-term."""
        assert mandate.valid_until is not None
        months = ((mandate.valid_until.year - mandate.valid_from.year) * 12
                  + mandate.valid_until.month - mandate.valid_from.month)
        if months >= 8 and self.rng.random() < 0.08:
            on = add_months(mandate.valid_from, self.rng.randint(3, months - 3))
            self.agenda.at(on, functools.partial(self._revoke_mandate, holding, mandate))

    def _revoke_mandate(self, holding: Holding, mandate: Grant) -> Iterator[Cmd]:
        on = self.agenda_day
        for sub in holding.grants:
            if sub.parent == mandate.code and sub.revoked_on is None:
                yield self._revoke(holding, sub, on, "Het mandaat waarop dit ondermandaat "
                                   "berust, wordt ingetrokken.")
        yield self._revoke(holding, mandate, on, "Herverdeling van taken binnen de organisatie; "
                           "het college neemt deze besluiten weer zelf.")

    def _elections(self, government: Government) -> Iterator[Cmd]:
        on = self.agenda_day
        for seat in government.executive_seats:
            yield self._seat(government.executive, seat, on, "Einde zittingsperiode.")
            yield self._seat(government.executive, seat, on)

    def _new_officeholder(self, government: Government) -> Iterator[Cmd]:
        on = self.agenda_day
        seat = government.template.officeholder_seat
        yield self._seat(government.officeholder, seat, on, "Eervol ontslag verleend.")
        yield self._seat(government.officeholder, seat, on)
        yield self._seat(government.executive, "voorzitter", on, "Nieuwe voorzitter.")
        yield self._seat(government.executive, "voorzitter", on)
        later = date(on.year + self.rng.randint(5, 8), self.rng.randint(1, 12), 1)
        self.agenda.at(later, functools.partial(self._new_officeholder, government))

    def _commission(self, issuer: str, receiver: str, jurisdiction: str) -> Iterator[Cmd]:
        """A commission and its course: accepted, a progress report, then fulfilled or withdrawn."""
        issued = self.agenda_day
        code = f"opdracht-{issuer}-{issued:%Y%m%d}"
        actor = f"griffie-{jurisdiction}"
        yield cmd("issue_commission", actor, code=code,
                  subject=f"Uitwerking van voorstellen ({self.rng.choice(SUBJECTS)})",
                  issued_by=issuer, issued_to=receiver, issued_on=issued,
                  due_on=issued + timedelta(days=self.rng.randint(90, 180)),
                  binding=self.rng.random() < 0.1, dossier=self.rng.choice(DOSSIERS)[0])
        accepted = issued + timedelta(days=self.rng.randint(5, 20))
        yield cmd("accept_commission", actor, commission=code, on=accepted)
        self.agenda.at(accepted + timedelta(days=self.rng.randint(30, 60)),
                       functools.partial(self._commission_progress, code, actor))

    def _commission_progress(self, code: str, actor: str) -> Iterator[Cmd]:
        on = self.agenda_day
        yield cmd("report_commission_progress", actor, commission=code, on=on,
                  note="Voortgang besproken; voorstellen in voorbereiding.")
        self.agenda.at(on + timedelta(days=self.rng.randint(30, 90)),
                       functools.partial(self._commission_end, code, actor))

    def _commission_end(self, code: str, actor: str) -> Iterator[Cmd]:
        if self.rng.random() < 0.8:
            yield cmd("fulfil_commission", actor, commission=code, on=self.agenda_day)
        else:
            yield cmd("withdraw_commission", actor, commission=code, on=self.agenda_day,
                      reason="De opdracht is door nieuwe ontwikkelingen achterhaald.")

    # Regions ------------------------------------------------------------------------------

    def _prepare_founding(self, region: Region) -> Iterator[Cmd]:
        """The founding members' colleges decide to transfer the tasks, a month ahead."""
        sources = {}
        for member in region.founders:
            sources[member.code] = yield from self._joining_decision(member, region,
                                                                     self.agenda_day)
        self.agenda.at(region.founded, functools.partial(self._found_region, region, sources))

    def _joining_decision(self, member: Government, region: Region, month: date
                          ) -> Iterator[Cmd]:
        return (yield from self._adopt(
            member.executive, member.holdings[JOINING], month.replace(day=self.rng.randint(2, 12)),
            f"Deelname aan {region.title} en overdracht van taken ({member.title})"))

    def _found_region(self, region: Region, sources: dict[str, tuple[str, str]]) -> Iterator[Cmd]:
        on, code = region.founded, region.code
        yield cmd("establish_jurisdiction", f"griffie-{code}", code=code,
                  title=f"Gemeenschappelijke regeling {region.title}", kind="region")
        yield self._body(region.council, "regional_council", code, f"Regioraad {region.title}", on,
                         proposer=region.board, **self._composition(15, 45))
        yield self._body(region.board, "regional_board", code, f"Regiobestuur {region.title}", on,
                         size=len(region.founders))
        yield self._body(region.director, "official", code, f"Directeur {region.title}", on,
                         subordinate_to=region.board)
        for competence in COMPETENCES:
            if competence.kind == "region":
                holding = Holding(competence, code)
                region.holdings[competence.code] = holding
                self.holdings.append(holding)
                body = region.council if competence.role == "council" else region.board
                yield self._attribute(holding, body, on, None, opens=True)
        yield self._seat(region.board, "voorzitter", on)
        if region.framed:
            yield from self._framework(region, on)
        region.mandate_decision, region.mandate_publication = yield from self._adopt(
            region.board, region.holdings[ORGANISATION["region"]], on.replace(day=2),
            f"Mandaatbesluit {region.title}")
        for member in region.founders:
            yield from self._admit(region, member, on, sources[member.code])
        for task in region.tasks:
            since = BY_CODE[task].since
            if since is not None and since > on:
                self.agenda.at(add_months(since, -1),
                               functools.partial(self._prepare_late_task, region, task))
        self._schedule_region_years(region)

    def _framework(self, region: Region, on: date) -> Iterator[Cmd]:
        """The regional council's framework for the tasks, taken on the first of the month."""
        code, _ = yield from self._adopt(
            region.council, region.holdings[FRAMEWORK], on,
            f"Beleidskader overgedragen taken {region.title} {on.year}")
        self.frameworks.setdefault(region.council, []).append((on, code))

    def _admit(self, region: Region, member: Government, on: date,
               source: tuple[str, str]) -> Iterator[Cmd]:
        region.members[member.code] = member
        yield cmd("admit_member", f"griffie-{region.code}", region=region.code,
                  member=member.code, on=on)
        yield self._seat(region.board, f"lid namens {member.title}", on)
        for task in region.tasks:
            competence = BY_CODE[task]
            if (competence.since or on) <= on and (competence.until is None or competence.until > on):
                yield from self._delegate(region, member, task, on, source)

    def _delegate(self, region: Region, member: Government, task: str, on: date,
                  source: tuple[str, str]) -> Iterator[Cmd]:
        """The member's college delegates a task to the board (within the council's framework,
        where the region has one); the board mandates its director for it."""
        holding = member.holdings[task]
        delegation = Grant(f"delegatie-{task}-{member.code}-{region.code}-{on:%Y%m}", "delegation",
                           member.executive, region.board, on, None, source[1],
                           framework_body=region.council if region.framed else None)
        yield self._grant(holding, delegation, source[0],
                          f"Awb art. 10:15 jo. Wgr art. 30; regeling {region.title}")
        mandate = Grant(f"mandaat-{task}-{member.code}-{region.code}-{on:%Y%m}", "mandate",
                        region.board, region.director, max(on, add_months(region.founded, 1)),
                        None, region.mandate_publication)
        yield self._grant(holding, mandate, region.mandate_decision,
                          "Awb art. 10:3; mandaatbesluit regiobestuur")

    def _prepare_late_task(self, region: Region, task: str) -> Iterator[Cmd]:
        """A task whose law takes effect after the founding is transferred when it does."""
        since = add_months(self.agenda_day, 1)
        for member in list(region.members.values()):
            source = yield from self._joining_decision(member, region, self.agenda_day)
            yield from self._delegate(region, member, task, since, source)

    def _schedule_region_years(self, region: Region) -> None:
        for year in range(region.founded.year + 1, 2026):
            self.agenda.at(date(year, 4, 1), functools.partial(self._open_budget, region, year))
            if self.rng.random() < 0.7:
                self.agenda.at(date(year, self.rng.randint(2, 3), self.rng.randint(1, 28)),
                               functools.partial(self._region_commission, region))
            if year in MUNICIPAL_ELECTIONS:
                self.agenda.at(date(year, 5, 15), functools.partial(self._renew_board, region))
                if region.framed:
                    self.agenda.at(date(year, 6, 1),
                                   functools.partial(self._renew_framework, region))
        if region.abolition is not None and region.abolition > region.founded:
            self.agenda.at(add_months(region.abolition, -1),
                           functools.partial(self._prepare_abolition, region))

    def _region_commission(self, region: Region) -> Iterator[Cmd]:
        return self._commission(region.council, region.board, region.code)

    def _renew_board(self, region: Region) -> Iterator[Cmd]:
        """After the municipal elections each member sends a new alderman to the board."""
        for member in region.members.values():
            seat = f"lid namens {member.title}"
            yield self._seat(region.board, seat, self.agenda_day, "Einde zittingsperiode.")
            yield self._seat(region.board, seat, self.agenda_day)

    def _renew_framework(self, region: Region) -> Iterator[Cmd]:
        return self._framework(region, self.agenda_day)

    def _open_budget(self, region: Region, year: int) -> Iterator[Cmd]:
        """The board proposes next year's budget and asks the member councils for their views."""
        on, actor = self.agenda_day, f"griffie-{region.code}"
        decision = f"{region.code}-begroting-{year + 1}"
        members = sorted(region.members)
        yield cmd("propose_decision", actor, code=decision, proposed_by=region.board,
                  proposed_on=on, title=f"Begroting {year + 1} {region.title}",
                  competence=BUDGET, jurisdiction=region.code, dossier="financien",
                  affected_jurisdictions=[region.code, *members])
        consultation = f"{region.code}-zienswijze-begroting-{year + 1}"
        councils = [region.members[m].council for m in members]
        yield cmd("open_consultation", actor, code=consultation,
                  subject=f"Ontwerpbegroting {year + 1} {region.title}", opened_by=region.board,
                  draft_decision=decision, consulted=councils, opened_on=on,
                  respond_by=date(year, 6, 1))
        self.agenda.at(date(year, 6, 20), functools.partial(
            self._close_budget, region, consultation, decision, councils))

    def _close_budget(self, region: Region, consultation: str, decision: str,
                      councils: list[str]) -> Iterator[Cmd]:
        """Views arrive (some late, some never), the consultation closes, the council adopts."""
        closed, actor = self.agenda_day, f"griffie-{region.code}"
        views = sorted((closed - timedelta(days=self.rng.randint(1, 75)), council)
                       for council in councils if self.rng.random() < 0.85)
        for on, council in views:
            yield cmd("submit_view", actor, consultation=consultation, council=council, on=on,
                      position=self.rng.choice(("Geen bezwaar.", "Instemming, met zorg over de "
                                                "bijdrage per inwoner.", "Verzoek om bezuiniging.")))
        yield cmd("close_consultation", actor, consultation=consultation, on=closed)
        taken = date(closed.year, 7, self.rng.randint(1, 10))
        votes, _ = cast_votes(self.rng, self.bodies[region.council], must_adopt=True)
        yield cmd("take_decision", actor, opens=False, code=decision, body=region.council,
                  taken_on=taken, outcome="adopted", votes=votes, consultation=consultation)
        published = taken + timedelta(days=self.rng.randint(5, 14))
        yield cmd("publish_decision", actor, decision=decision, on=published,
                  publication=f"Staatscourant {published.year}, nr. {next(self.serial)}")
        yield cmd("bring_into_force", actor, decision=decision, on=date(closed.year + 1, 1, 1))

    # Membership changes and the replacement of a regional council ------------------------------

    def _membership_changes(self, year: int) -> Iterator[Cmd]:
        """Decided in October, effective on 1 January: some members leave, outsiders join."""
        effective = date(year + 1, 1, 1)
        regions = [r for r in self.regions if r.founded <= date(year, 1, 1)]
        size = {r.code: len(r.members) for r in regions}
        for region in regions:
            if size[region.code] > 5 and self.rng.random() < 0.04:
                leaver = self.rng.choice(sorted(region.members))
                size[region.code] -= 1
                self.agenda.at(effective, functools.partial(self._leave, region, leaver), 1)
        for government in self.municipalities:
            open_regions = [r for r in regions if size[r.code] < 15]
            if government.region is None and open_regions and self.rng.random() < 0.15:
                region = self.rng.choice(open_regions)
                government.region = region
                size[region.code] += 1
                self.agenda.at(add_months(effective, -1),
                               functools.partial(self._prepare_join, region, government))
        return iter(())

    def _prepare_join(self, region: Region, member: Government) -> Iterator[Cmd]:
        source = yield from self._joining_decision(member, region, self.agenda_day)
        self.agenda.at(add_months(self.agenda_day, 1),
                       functools.partial(self._join, region, member, source), 2)

    def _join(self, region: Region, member: Government, source: tuple[str, str]) -> Iterator[Cmd]:
        return self._admit(region, member, self.agenda_day, source)

    def _leave(self, region: Region, code: str) -> Iterator[Cmd]:
        """A member leaves: the board's mandates and the member's delegations are revoked first."""
        on, member = self.agenda_day, region.members.pop(code)
        member.region = None
        reason = f"{member.title} treedt per {on} uit {region.title}."
        for task in region.tasks:
            holding = member.holdings[task]
            for grant in list(holding.grants):
                if (grant.grantee in (region.board, region.director) and grant.revoked_on is None
                        and grant.valid_until is None):
                    yield self._revoke(holding, grant, max(on, grant.valid_from), reason)
        yield self._seat(region.board, f"lid namens {member.title}", on, reason)
        yield cmd("release_member", f"griffie-{region.code}", region=region.code, member=code,
                  on=on)

    def _prepare_abolition(self, region: Region) -> Iterator[Cmd]:
        """Where the council sets the framework, each member decides to continue its delegations
        under the new council, a month before the old one is abolished."""
        sources = {}
        if region.framed:
            for member in list(region.members.values()):
                sources[member.code] = yield from self._adopt(
                    member.executive, member.holdings[JOINING],
                    self.agenda_day.replace(day=self.rng.randint(2, 12)),
                    f"Voortzetting van de delegatie aan {region.title} ({member.title})")
        self.agenda.at(add_months(self.agenda_day, 1),
                       functools.partial(self._abolish_council, region, sources), 0)

    def _abolish_council(self, region: Region, sources: dict[str, tuple[str, str]]
                         ) -> Iterator[Cmd]:
        """The regional council gives way to a general board: the body, its attributions, the
        framework and the delegations framed by it all move to the successor on one day."""
        on, old = self.agenda_day, region.council
        new = f"algemeen-bestuur-{region.code}"
        yield self._body(new, "regional_council", region.code, f"Algemeen bestuur {region.title}",
                         on, proposer=region.board, **self._composition(15, 45))
        reason = "De regioraad wordt opgeheven; het algemeen bestuur neemt zijn taken over."
        yield cmd("abolish_body", f"griffie-{region.code}", body=old, on=on, reason=reason,
                  successor=new)
        self.bodies[old].abolished = on
        region.council = new
        for holding in region.holdings.values():
            if holding.holder_on(on - timedelta(days=1)) == old:
                holding.attributions[-1].valid_until = on
                holding.changed()
                self.abolished.append((self.bodies[old], holding))
                yield cmd("end_attribution", f"griffie-{region.code}",
                          competence=holding.competence.code, jurisdiction=region.code, body=old,
                          on=on, reason=reason)
                yield self._attribute(holding, new, on, None, opens=False)
        if self.rng.random() < 0.5:
            yield cmd("rename_body", f"griffie-{region.code}", body=region.board,
                      title=f"Dagelijks bestuur {region.title}", on=on)
        if region.framed:
            yield from self._framework(region, on)
            for member in region.members.values():
                yield from self._reframe(region, member, old, on, sources[member.code])

    def _reframe(self, region: Region, member: Government, old: str, on: date,
                 source: tuple[str, str]) -> Iterator[Cmd]:
        for task in region.tasks:
            holding = member.holdings[task]
            if holding.holder_on(on) is None:
                continue  # the law ended: nothing left to delegate
            for grant in list(holding.grants):
                if grant.framework_body == old and grant.active_on(on):
                    yield self._revoke(holding, grant, on, "Het kaderstellend orgaan is "
                                       "opgeheven; de delegatie wordt voortgezet.")
                    successor = Grant(f"{grant.code}-{on:%Y}", "delegation", grant.grantor,
                                      grant.grantee, on, None, source[1],
                                      framework_body=region.council)
                    yield self._grant(holding, successor, source[0],
                                      f"Awb art. 10:15 jo. Wgr art. 30; regeling {region.title}")

    # Running the structure ------------------------------------------------------------------

    def structure_until(self, before: date) -> Iterator[Cmd]:
        """The structural steps due before `before`, in the order of their days; a step reads its
        day from `agenda_day`."""
        for day, step in self.agenda.due(before):
            self.agenda_day = day
            yield from step()


# Votes --------------------------------------------------------------------------------------


def carried(rule: str, in_favour: int, against: int) -> bool:
    """The majority rules as the ledger recomputes them."""
    if rule == "two_thirds":
        return in_favour * 3 >= 2 * (in_favour + against) and in_favour > 0
    if rule == "unanimous":
        return against == 0 and in_favour > 0
    return in_favour > against


def cast_votes(rng: random.Random, body: Body, must_adopt: bool
               ) -> tuple[dict[str, Any] | None, str]:
    """Votes at the grain a clerk might know them (counts, party groups, or unknown) and the
    outcome they give; `must_adopt` for decisions others rest on (grants, frameworks, budgets)."""
    if body.kind in ("council", "regional_council"):
        style = rng.random()
        if style < 0.2:
            outcome = "adopted" if must_adopt or rng.random() < 0.95 else "rejected"
            return {"majority_rule": "simple"}, outcome  # counts unknown, not zero
        if style < 0.4:
            return group_votes(rng, body.groups, must_adopt)
        return counted_votes(rng, body.size, must_adopt)
    if body.kind in ("executive", "regional_board") and rng.random() < 0.3:
        return {"majority_rule": "simple", "votes_for": body.size, "votes_against": 0,
                "abstentions": 0, "present": body.size}, "adopted"
    return None, "adopted"


def counted_votes(rng: random.Random, size: int, must_adopt: bool
                  ) -> tuple[dict[str, Any], str]:
    present = size - rng.randint(0, size // 8)
    if must_adopt or rng.random() < 0.94:
        against = rng.randint(0, (present - 1) // 2)
    else:
        against = present - rng.randint(0, present // 2)
    abstentions = 1 if rng.random() < 0.1 and present - against - 1 > against else 0
    in_favour = present - against - abstentions
    rule = "two_thirds" if rng.random() < 0.05 else "simple"
    if must_adopt and not carried(rule, in_favour, against):
        rule = "simple"
    outcome = "adopted" if carried(rule, in_favour, against) else "rejected"
    return {"majority_rule": rule, "votes_for": in_favour, "votes_against": against,
            "abstentions": abstentions, "present": present}, outcome


def group_votes(rng: random.Random, groups: tuple[tuple[str, int], ...], must_adopt: bool
                ) -> tuple[dict[str, Any], str]:
    """Each party group votes as a block, weighted by its seats."""
    support = 1.0 if must_adopt else rng.choice((0.95, 0.8, 0.5))
    members = [{"member": f"fractie {party}", "group": party, "weight": seats,
                "vote": "for" if rng.random() < support else rng.choice(("against", "abstain"))}
               for party, seats in groups]
    tally = {side: sum(m["weight"] for m in members if m["vote"] == side)
             for side in ("for", "against", "abstain")}
    votes: dict[str, Any] = {"majority_rule": "simple", "members": members}
    if rng.random() < 0.5:
        votes |= {"votes_for": tally["for"], "votes_against": tally["against"],
                  "abstentions": tally["abstain"]}
    return votes, "adopted" if carried("simple", tally["for"], tally["against"]) else "rejected"


# Decisions ----------------------------------------------------------------------------------

TOPICS = ("Vaststelling", "Wijziging", "Beleidsregels", "Uitvoeringsbesluit", "Beschikking",
          "Verordening", "Nadere regels", "Evaluatie")


class Decisions:
    """Fills each month with decisions by bodies the ledger will find competent, with their
    publication and entry into force, the odd repeal, annulment or correction, and now and then
    a decision the rules refuse. Reads the country, never changes it."""

    def __init__(self, country: Country, seed: int, refusal_rate: float) -> None:
        self.country = country
        self.refusal_rate = refusal_rate  # refused lines per decision
        self.rng = random.Random(f"bevoegd-decisions-{seed}")
        self.serial = itertools.count(1)
        self.events = 0
        self.recent: deque[tuple[str, str]] = deque(maxlen=64)  # adopted: (code, actor)
        self.refusals: tuple[Callable[[date, date], Cmd | None], ...] = (
            self._local_competence, self._delegated_away, self._lapsed_grant,
            self._uncited_grant, self._misquoted_publication, self._missing_framework,
            self._contradicting_votes, self._abolished_body, self._foreign_official)

    def month(self, month: date, budget: int) -> Iterator[Cmd]:
        """Decisions dated through `month`, in date order, until `budget` more events are written."""
        target, days = self.events + budget, month_days(month)
        expected = max(1, round(budget / DECISION_EVENTS))
        for index in itertools.count():
            if self.events >= target:
                return
            day = month + timedelta(days=min(days - 1, index * days // expected))
            for command in self._decision(month, day):
                self.events += command.events
                yield command

    def _decision(self, month: date, day: date) -> Iterator[Cmd]:
        if self.rng.random() < self.refusal_rate:
            refusal = self.rng.choice(self.refusals)(month, day)
            if refusal is not None:
                yield refusal
        holding = self.rng.choice(self.country.holdings)
        routes = holding.routes_on(month)
        if not routes:
            return  # nobody held it this month (a law not yet or no longer in force)
        route = self.rng.choice(routes)
        framework = None
        if route.framework_body is not None:
            framework = self.country.framework_on(route.framework_body, day)
        yield from self._take(holding, route, day, framework)

    def _subject_fields(self, holding: Holding, route: Route, day: date, code: str
                        ) -> dict[str, Any]:
        """What the decision is about: given with its proposal or when it is taken."""
        rng, place = self.rng, self.country.titles[holding.jurisdiction]
        subject = (rng.choice(route.scope) if route.scope
                   else rng.choice(SUBJECTS) if rng.random() < 0.3 else None)
        region = self.country.regions_by_code.get(holding.jurisdiction)
        return {
            "title": f"{rng.choice(TOPICS)}: {holding.competence.title.lower()} ({place}, "
                     f"{day.year})",
            "summary": (f"Besluit over {subject or 'de uitvoering'} in {place}."
                        if rng.random() < 0.3 else None),
            "competence": holding.competence.code, "jurisdiction": holding.jurisdiction,
            "subject": subject,
            "dossier": rng.choice(DOSSIERS)[0] if rng.random() < 0.15 else None,
            "affected_jurisdictions": ([region.code, *region.members]
                                       if region is not None and rng.random() < 0.5 else None),
        }

    def _take(self, holding: Holding, route: Route, day: date, framework: str | None
              ) -> Iterator[Cmd]:
        rng, body = self.rng, self.country.bodies[route.body]
        code = f"{route.body}-{day:%Y%m%d}-{next(self.serial)}"
        actor = f"griffie-{holding.jurisdiction}"
        votes, outcome = cast_votes(rng, body, must_adopt=False)
        about = self._subject_fields(holding, route, day, code)
        grant = route.grant
        taking = {"code": code, "body": route.body, "taken_on": day, "outcome": outcome,
                  "votes": votes, "cited_grant": grant.code if grant else None,
                  "cited_publication": grant.publication if grant else None,
                  "framework_decision": framework,
                  "documents": ([document(code, f"Voorstel {about['title']}")]
                                if rng.random() < 0.25 else None)}
        if body.proposer is not None and rng.random() < 0.4:
            proposer = self.country.bodies[body.proposer]
            proposed_on = max(day - timedelta(days=rng.randint(14, 60)), proposer.established)
            yield cmd("propose_decision", actor, code=code, proposed_by=proposer.code,
                      proposed_on=proposed_on, **about)
            yield cmd("take_decision", actor, opens=False, **taking)
        else:
            yield cmd("take_decision", actor, **taking, **about)
        if outcome == "adopted":
            yield from self._make_known(code, actor, holding, day)
            yield from self._revisit(code, actor, day)
            self.recent.append((code, actor))

    def _make_known(self, code: str, actor: str, holding: Holding, day: date) -> Iterator[Cmd]:
        """Published within two weeks (nearly always), mostly brought into force soon after."""
        rng = self.rng
        if rng.random() < 0.03:
            return
        published = day + timedelta(days=rng.randint(1, 14))
        yield cmd("publish_decision", actor, decision=code, on=published,
                  publication=f"{self.country.gazette(holding.jurisdiction)} {published.year}, "
                              f"nr. {next(self.serial)}")
        if rng.random() < 0.8:
            yield cmd("bring_into_force", actor, decision=code,
                      on=published + timedelta(days=rng.randint(0, 30)),
                      retroactive_from=day if rng.random() < 0.05 else None)

    def _revisit(self, code: str, actor: str, day: date) -> Iterator[Cmd]:
        """Now and then an earlier decision is repealed by this one, annulled by a court, or
        corrected: new events that name what they change (L9)."""
        rng, draw = self.rng, self.rng.random()
        if not self.recent or draw >= 0.009:
            return
        index = rng.randrange(len(self.recent))
        earlier, earlier_actor = self.recent[index]
        if draw < 0.004:
            yield cmd("correct_decision", earlier_actor, decision=earlier,
                      reason="Kennelijke verschrijving in de titel hersteld.",
                      title=f"Gecorrigeerd besluit {earlier}")
            return
        del self.recent[index]
        if draw < 0.006:
            yield cmd("annul_decision", earlier_actor, decision=earlier, on=day,
                      annulled_by="Afdeling bestuursrechtspraak van de Raad van State",
                      reason="Strijd met het zorgvuldigheidsbeginsel (Awb art. 3:2).")
        else:
            yield cmd("repeal_decision", actor, decision=earlier, on=day, repealed_by=code,
                      reason=f"Vervangen door besluit {code}.")

    # Decisions meant to be refused --------------------------------------------------------------

    def _refused(self, body: str, holding: Holding, day: date, expect: str, note: str,
                 grant: Grant | None = None, publication: str | None = None,
                 **fields: Any) -> Cmd:
        code = f"{body}-{day:%Y%m%d}-{next(self.serial)}"
        command = cmd("take_decision", f"griffie-{holding.jurisdiction}", code=code, body=body,
                      taken_on=day, outcome="adopted",
                      title=f"Besluit {code}", competence=holding.competence.code,
                      jurisdiction=holding.jurisdiction, cited_grant=grant.code if grant else None,
                      cited_publication=publication, **fields)
        return command._replace(events=0, expect=expect, note=note)

    def _member(self) -> tuple[Region, Government] | None:
        """A region with members, and one of them."""
        regions = [r for r in self.country.regions if r.members]
        if not regions:
            return None
        region = self.rng.choice(regions)
        return region, self.rng.choice(list(region.members.values()))

    def _local_competence(self, month: date, day: date) -> Cmd | None:
        found = self._member()
        if found is None:
            return None
        region, member = found
        local = [h for h in member.holdings.values()
                 if h.competence.code not in region.tasks and h.holder_on(day)]
        return self._refused(region.board, self.rng.choice(local), day, "LOCAL_COMPETENCE",
                             "A regional board decides on a local competence no member "
                             "delegated to it (L7).")

    def _delegated_away(self, month: date, day: date) -> Cmd | None:
        found = self._member()
        if found is None:
            return None
        region, member = found
        delegated = [member.holdings[task] for task in region.tasks
                     if member.executive in member.holdings[task].holders_on(day)[1]]
        if not delegated:
            return None
        return self._refused(member.executive, self.rng.choice(delegated), day, "DELEGATED_AWAY",
                             "A college decides on a task it delegated to the region (L3).")

    def _lapsed_grant(self, month: date, day: date) -> Cmd | None:
        """Most lapsed grants were renewed; look at a few for one that was not."""
        for _ in range(10):
            if not self.country.stale:
                return None
            holding, body = self.rng.choice(self.country.stale)
            expect = holding.refusal_for(body, day)
            if expect is not None:
                break
        else:
            return None
        lapsed = next(g for g in reversed(holding.grants) if g.grantee == body)
        return self._refused(body, holding, day, expect,
                             "A body decides on a grant that no longer (or not yet) gives it "
                             "authority.", grant=lapsed, publication=lapsed.publication)

    def _granted_route(self, month: date, framed: bool = False) -> tuple[Holding, Route] | None:
        """A holding exercised through a grant this month (within a framework, if `framed`)."""
        for _ in range(30):
            holding = self.rng.choice(self.country.holdings)
            routes = [r for r in holding.routes_on(month)
                      if r.grant is not None and (r.framework_body is not None or not framed)]
            if routes:
                return holding, self.rng.choice(routes)
        return None

    def _uncited_grant(self, month: date, day: date) -> Cmd | None:
        found = self._granted_route(month)
        if found is None:
            return None
        holding, route = found
        return self._refused(route.body, holding, day, "GRANT_NOT_CITED",
                             "A decision under a grant that cites neither grant nor "
                             "publication (L11).", subject=route.scope[0] if route.scope else None)

    def _misquoted_publication(self, month: date, day: date) -> Cmd | None:
        found = self._granted_route(month)
        if found is None:
            return None
        holding, route = found
        return self._refused(route.body, holding, day, "PUBLICATION_MISMATCH",
                             "The decision cites the grant but not where its decision was "
                             "published (L11).", grant=route.grant,
                             publication="Gemeenteblad, nummer onbekend",
                             subject=route.scope[0] if route.scope else None)

    def _missing_framework(self, month: date, day: date) -> Cmd | None:
        found = self._granted_route(month, framed=True)
        if found is None:
            return None
        holding, route = found
        assert route.grant is not None
        return self._refused(route.body, holding, day, "FRAMEWORK_REQUIRED",
                             "The board decides under a framed delegation without naming the "
                             "framework decision (L12).", grant=route.grant,
                             publication=route.grant.publication,
                             subject=route.scope[0] if route.scope else None)

    def _contradicting_votes(self, month: date, day: date) -> Cmd | None:
        government = self.rng.choice(self.country.governments)
        own = [h for h in government.holdings.values() if h.holder_on(day) == government.council
               and not h.holders_on(day)[1]]
        if not own:
            return None
        size = self.country.bodies[government.council].size
        return self._refused(government.council, self.rng.choice(own), day,
                             "VOTES_CONTRADICT_OUTCOME",
                             "The recorded votes reject the proposal, the outcome says adopted.",
                             votes={"majority_rule": "simple", "votes_for": 2,
                                    "votes_against": size - 2, "present": size})

    def _abolished_body(self, month: date, day: date) -> Cmd | None:
        lapsed = [(b, h) for b, h in self.country.abolished if b.abolished and b.abolished <= day]
        if not lapsed:
            return None
        body, holding = self.rng.choice(lapsed)
        return self._refused(body.code, holding, day, "BODY_NOT_ACTIVE",
                             "A regional council decides after its abolition (L1).")

    def _foreign_official(self, month: date, day: date) -> Cmd | None:
        first, second = self.rng.sample(self.country.municipalities, 2)
        held = [h for h in second.holdings.values() if h.holder_on(day)]
        return self._refused(first.secretary, self.rng.choice(held), day, "NOT_COMPETENT",
                             "An official of one municipality decides for another.")


# The file -----------------------------------------------------------------------------------


def country_size(events: int) -> int:
    """Municipalities for a history of `events`: the full country once the structure takes no
    more than a third of the events, a smaller one below, so that decisions still dominate."""
    wanted = round(events * STRUCTURE_SHARE / STRUCTURE_EVENTS_PER_MUNICIPALITY)
    return max(MIN_MUNICIPALITIES, min(FULL_COUNTRY["municipality"], wanted))


def _history(municipalities: int, seed: int, decision_events: int, refusal_rate: float
             ) -> Iterator[Cmd]:
    country = Country(municipalities, seed)
    decisions = Decisions(country, seed, refusal_rate)
    yield from country.setup()
    month = HISTORY_START
    for index in range(MONTHS):
        following = add_months(month, 1)
        yield from country.structure_until(following)
        target = decision_events * (index + 1) // MONTHS
        yield from decisions.month(month, target - decisions.events)
        month = following


def history(events: int, seed: int) -> Iterator[Cmd]:
    """The commands of about `events` events: the structure is counted in a dry run, then
    decisions fill the rest, spread evenly over the months, with refusals among them so that
    they make REFUSED_SHARE of all lines whatever the share of structure."""
    municipalities = country_size(events)
    structure_events = structure_lines = 0
    for command in _history(municipalities, seed, 0, 0.0):
        structure_events, structure_lines = structure_events + command.events, structure_lines + 1
    budget = max(0, events - structure_events)
    decisions = budget / DECISION_EVENTS
    refusals = REFUSED_SHARE * (structure_lines + decisions * DECISION_LINES) / (1 - REFUSED_SHARE)
    yield from _history(municipalities, seed, budget, min(1.0, refusals / max(decisions, 1)))


def envelope(command: Cmd, key: str) -> dict[str, Any]:
    line = {"command": command.name, "idempotency_key": key, "actor": command.actor,
            "input": command.input}
    if command.expect is not None:
        line |= {"expect": command.expect, "note": command.note}
    return line


def generate_commands(events: int, seed: int = 2013) -> Iterator[dict[str, Any]]:
    """The envelopes of a history of about `events` events, in file order."""
    for number, command in enumerate(history(events, seed), start=1):
        yield envelope(command, f"gen-{seed}-{number}")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--events", type=click.IntRange(min=1), required=True,
              help="About how many events the file should record when imported.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The JSON Lines file to write.")
@click.option("--seed", type=int, default=2013, show_default=True,
              help="Same seed, same file, byte for byte.")
def main(events: int, out: str, seed: int) -> None:
    """Write a synthetic national governance history of about EVENTS events as JSON Lines
    commands for `bevoegd import`."""
    lines = recorded = refused = 0
    with open(out, "w", encoding="utf-8", newline="\n") as file:
        for number, command in enumerate(history(events, seed), start=1):
            file.write(json.dumps(envelope(command, f"gen-{seed}-{number}"), ensure_ascii=False,
                                  separators=(",", ":")))
            file.write("\n")
            lines, recorded = number, recorded + command.events
            refused += command.expect is not None
    click.echo(f"{lines} commands, {recorded} events when imported, {refused} meant to be "
               f"refused; country of {country_size(events)} municipalities.", err=True)


if __name__ == "__main__":
    main()
