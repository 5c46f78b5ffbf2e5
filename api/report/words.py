"""The report's words in Dutch and English: labels, dates, and the chain of grants in plain
words."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

Lang = Literal["nl", "en"]
LANGUAGES: tuple[Lang, ...] = ("nl", "en")

_MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

LABELS: dict[Lang, dict[str, str]] = {
    "nl": {
        "title": "Verantwoordingsrapportage", "period": "Periode", "issued": "Datum van uitgifte",
        "to": "tot en met", "public": "Openbare versie: alleen gepubliceerde besluiten.",
        "auditor": "Volledige versie voor controle: ook niet-gepubliceerde besluiten.",
        "summary": "Samenvatting", "regional": "Regionale besluiten voor de gemeente",
        "local": "Besluiten over eigen (lokale) bevoegdheden", "grants": "Bevoegdheidsverlening",
        "commissions": "Opdrachten", "consultations": "Zienswijzen", "pictures": "In beeld",
        "matrix": "Wie oefende welke bevoegdheid uit", "timeline": "Besluiten per maand",
        "by_state": "Opdrachten naar status", "verify": "Controleren",
        "none": "Geen in deze periode.", "body": "Orgaan", "date": "Datum", "decision": "Besluit",
        "competence": "Bevoegdheid", "legal_basis": "Grondslag", "chain": "Bevoegdheidsketen",
        "status": "Status", "position": "Positie in het grootboek", "reason": "reden",
        "binding": "bindend", "not_binding": "niet bindend", "due": "uiterlijk",
        "progress": "voortgangsberichten", "deadline": "Termijn", "view_given": "Zienswijze",
        "in_time": "op tijd", "late": "te laat", "no_view": "geen zienswijze gegeven",
        "considered_by": "betrokken bij besluit", "members": "Lid van",
        "since": "sinds", "until": "tot", "local_series": "lokaal", "regional_series": "regionaal",
        "annulled": "Vernietigd", "repealed": "Ingetrokken", "corrected": "Gecorrigeerd",
        "flagged": "Keten houdt niet (later oordeel)",
        "s_regional": "{n} regionale besluiten betroffen de gemeente",
        "s_local": "{n} besluiten over lokale bevoegdheden",
        "s_competences": "Onder de bevoegdheden", "s_contested": "Vernietigd, ingetrokken of "
        "gecorrigeerd: {a}; gemarkeerd door een later oordeel: {f}",
        "s_commissions": "Opdrachten open: {o}, waarvan over de termijn: {d}",
        "s_consultations": "Zienswijzeverzoeken zonder zienswijze van de raad: {n}",
        "position_at": "Deze rapportage geeft het grootboek weer tot en met positie {p}.",
        "checkpoint": "Ondertekend controlepunt (boom van {n} gebeurtenissen):",
        "no_checkpoint": "Er was nog geen ondertekend controlepunt; kop van de hashketen:",
        "verify_how": "Controleer elk besluit met zijn positie: bevoegd prove --position P.",
        "started": "gestart", "ended": "afgelopen", "revoked": "ingetrokken",
        "expiring": "loopt af binnen 90 dagen", "page": "pagina",
        "attribution": "attributie", "delegation": "delegatie", "mandate": "mandaat",
        "submandate": "ondermandaat", "open": "open", "overdue": "over de termijn",
        "fulfilled": "uitgevoerd", "withdrawn": "ingetrokken",
        "registered": "geregistreerd", "proposed": "voorgesteld", "adopted": "aangenomen",
        "rejected": "verworpen", "published": "bekendgemaakt", "in_force": "in werking",
        "chain_attribution": "{grantee} is bevoegd krachtens {legal_basis}",
        "chain_grant": "{grantor} gaf {kind} aan {grantee} ({grant}, krachtens {legal_basis})",
        "pending": "nog niet geldig", "active": "geldig", "expired": "verlopen",
        "municipality": "gemeente", "region": "regio (gemeenschappelijke regeling)",
        "province": "provincie", "water_board": "waterschap", "council": "gemeenteraad",
        "executive": "college van burgemeester en wethouders",
        "regional_council": "algemeen bestuur van de regio",
        "regional_board": "dagelijks bestuur van de regio", "committee": "commissie",
        "officeholder": "ambtsdrager", "official": "ambtenaar",
    },
    "en": {
        "title": "Accountability report", "period": "Period", "issued": "Date of issue",
        "to": "to", "public": "Public edition: published decisions only.",
        "auditor": "Full edition for audit: unpublished decisions included.",
        "summary": "Summary", "regional": "Regional decisions for the municipality",
        "local": "Decisions on its own (local) competences", "grants": "Grants",
        "commissions": "Commissions", "consultations": "Consultations", "pictures": "At a glance",
        "matrix": "Who exercised which competence", "timeline": "Decisions per month",
        "by_state": "Commissions by status", "verify": "How to verify",
        "none": "None in this period.", "body": "Body", "date": "Date", "decision": "Decision",
        "competence": "Competence", "legal_basis": "Legal basis", "chain": "Chain of grants",
        "status": "Status", "position": "Ledger position", "reason": "reason",
        "binding": "binding", "not_binding": "not binding", "due": "due",
        "progress": "progress reports", "deadline": "Deadline", "view_given": "View",
        "in_time": "in time", "late": "late", "no_view": "no view given",
        "considered_by": "considered by decision", "members": "Member of",
        "since": "since", "until": "until", "local_series": "local", "regional_series": "regional",
        "annulled": "Annulled", "repealed": "Repealed", "corrected": "Corrected",
        "flagged": "Chain does not hold (later verdict)",
        "s_regional": "{n} regional decisions concerned the municipality",
        "s_local": "{n} decisions on local competences",
        "s_competences": "Under the competences", "s_contested": "Annulled, repealed or "
        "corrected: {a}; flagged by a later verdict: {f}",
        "s_commissions": "Commissions open: {o}, of which overdue: {d}",
        "s_consultations": "Consultations without the council's view: {n}",
        "position_at": "This report shows the ledger up to and including position {p}.",
        "checkpoint": "Signed checkpoint (tree of {n} events):",
        "no_checkpoint": "No checkpoint was signed yet; head of the hash chain:",
        "verify_how": "Check each decision by its position: bevoegd prove --position P.",
        "started": "started", "ended": "ended", "revoked": "revoked",
        "expiring": "expires within 90 days", "page": "page",
        "attribution": "attribution", "delegation": "delegation", "mandate": "mandate",
        "submandate": "sub-mandate", "open": "open", "overdue": "overdue",
        "fulfilled": "fulfilled", "withdrawn": "withdrawn",
        "registered": "registered", "proposed": "proposed", "adopted": "adopted",
        "rejected": "rejected", "published": "published", "in_force": "in force",
        "chain_attribution": "{grantee} is competent under {legal_basis}",
        "chain_grant": "{grantor} gave a {kind} to {grantee} ({grant}, under {legal_basis})",
        "pending": "not yet valid", "active": "valid", "expired": "expired",
        "municipality": "municipality", "region": "region (joint arrangement)",
        "province": "province", "water_board": "water board", "council": "municipal council",
        "executive": "mayor and aldermen", "regional_council": "general board of the region",
        "regional_board": "daily board of the region", "committee": "committee",
        "officeholder": "officeholder", "official": "official",
    },
}


def long_date(day: date | str | None, lang: Lang) -> str:
    """'5 maart 2013' in Dutch, '5 March 2013' in English."""
    if day is None:
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def chain_in_words(chain: list[dict[str, Any]], names: dict[str, str], lang: Lang) -> list[str]:
    """Each link of a chain of grants as one sentence, root first."""
    words = LABELS[lang]
    return [(words["chain_attribution"] if link["kind"] == "attribution"
             else words["chain_grant"]).format(
                grantee=names.get(link["grantee"], link["grantee"]),
                grantor=names.get(link.get("grantor") or "", link.get("grantor") or ""),
                kind=words[link["kind"]], grant=link.get("grant"),
                legal_basis=link["legal_basis"])
            for link in chain]
