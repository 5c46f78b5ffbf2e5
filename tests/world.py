"""A small, realistic world to measure single commands in: a municipality in a region, its
council and executive, a regional board, an official, a delegable and mandatable competence
attributed to the executive, delegated to the board and mandated to the official, and the adopted
and published decisions those grants rest on. The benchmarks use it too."""

from __future__ import annotations

from datetime import date

from ledger import commands as c

START = date(2006, 3, 8)


def world_commands() -> list[c.Command]:
    return [
        c.EstablishJurisdiction(code="dordrecht", title="Dordrecht", kind="municipality"),
        c.EstablishJurisdiction(code="drechtsteden", title="GR Drechtsteden", kind="region"),
        c.AdmitMember(region="drechtsteden", member="dordrecht", on=START),
        c.EstablishBody(
            code="raad-dordrecht",
            title="Gemeenteraad Dordrecht",
            kind="council",
            jurisdiction="dordrecht",
            established_on=date(1851, 1, 1),
        ),
        c.EstablishBody(
            code="college-dordrecht",
            title="College van B&W Dordrecht",
            kind="executive",
            jurisdiction="dordrecht",
            established_on=date(1851, 1, 1),
        ),
        c.EstablishBody(
            code="dsb",
            title="Drechtstedenbestuur",
            kind="regional_board",
            jurisdiction="drechtsteden",
            established_on=START,
        ),
        c.EstablishBody(
            code="directeur-sdd",
            title="Directeur Sociale Dienst",
            kind="official",
            jurisdiction="drechtsteden",
            established_on=START,
            subordinate_to="dsb",
        ),
        c.DefineCompetence(
            code="participatiewet", title="Uitvoering Participatiewet", delegable=True, mandatable=True
        ),
        c.DefineCompetence(
            code="bestuursbesluiten",
            title="Besluiten over de eigen organisatie",
            delegable=False,
            mandatable=False,
        ),
        c.AttributeCompetence(
            competence="participatiewet",
            jurisdiction="dordrecht",
            body="college-dordrecht",
            legal_basis="Participatiewet art. 7",
            valid_from=date(2004, 1, 1),
        ),
        c.AttributeCompetence(
            competence="bestuursbesluiten",
            jurisdiction="dordrecht",
            body="college-dordrecht",
            legal_basis="Gemeentewet art. 160",
            valid_from=date(1851, 1, 1),
        ),
        c.AttributeCompetence(
            competence="bestuursbesluiten",
            jurisdiction="drechtsteden",
            body="dsb",
            legal_basis="Regeling GRD",
            valid_from=START,
        ),
        c.TakeDecision(
            code="college-delegeert",
            title="Delegatie aan DSB",
            competence="bestuursbesluiten",
            jurisdiction="dordrecht",
            body="college-dordrecht",
            taken_on=date(2006, 1, 10),
            outcome="adopted",
        ),
        c.PublishDecision(
            decision="college-delegeert", on=date(2006, 1, 20), publication="Gemeenteblad Dordrecht 2006, 3"
        ),
        c.GrantDelegation(
            competence="participatiewet",
            jurisdiction="dordrecht",
            code="delegatie-dsb",
            grantor="college-dordrecht",
            grantee="dsb",
            legal_basis="Wgr art. 30; Regeling GRD",
            source_decision="college-delegeert",
            valid_from=START,
        ),
        c.TakeDecision(
            code="dsb-mandateert",
            title="Mandaat aan directeur SDD",
            competence="bestuursbesluiten",
            jurisdiction="drechtsteden",
            body="dsb",
            taken_on=date(2006, 4, 1),
            outcome="adopted",
        ),
        c.PublishDecision(
            decision="dsb-mandateert", on=date(2006, 4, 5), publication="Staatscourant 2006, 70"
        ),
        c.GrantMandate(
            competence="participatiewet",
            jurisdiction="dordrecht",
            code="mandaat-sdd",
            grantor="dsb",
            grantee="directeur-sdd",
            legal_basis="Awb 10:3",
            source_decision="dsb-mandateert",
            valid_from=date(2006, 5, 1),
        ),
    ]


def decision_under_mandate(code: str, on: date) -> c.TakeDecision:
    return c.TakeDecision(
        code=code,
        title=f"Beschikking {code}",
        competence="participatiewet",
        jurisdiction="dordrecht",
        body="directeur-sdd",
        taken_on=on,
        outcome="adopted",
        cited_grant="mandaat-sdd",
        cited_publication="Staatscourant 2006, 70",
    )


def competence_of_its_own(code: str) -> list[c.Command]:
    """Another competence like 'participatiewet': attributed to the executive, delegated to the
    DSB and mandated (grant "mandaat-sdd") to the official, so decisions under it contend with no
    others."""
    return [
        c.DefineCompetence(code=code, title=f"Taak {code}", delegable=True, mandatable=True),
        c.AttributeCompetence(competence=code, jurisdiction="dordrecht", body="college-dordrecht",
                              legal_basis="Participatiewet art. 7", valid_from=date(2004, 1, 1)),
        c.GrantDelegation(competence=code, jurisdiction="dordrecht", code="delegatie-dsb",
                          grantor="college-dordrecht", grantee="dsb", legal_basis="Regeling GRD",
                          source_decision="college-delegeert", valid_from=START),
        c.GrantMandate(competence=code, jurisdiction="dordrecht", code="mandaat-sdd",
                       grantor="dsb", grantee="directeur-sdd", legal_basis="Awb 10:3",
                       source_decision="dsb-mandateert", valid_from=date(2006, 5, 1)),
    ]

