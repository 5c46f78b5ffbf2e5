"""A naive reference of the accountability report (projections/report/model.py), computed from
the stored events with tests/projection_reference.py's replay and nothing of projections/: for
each question, every event known at the position is walked again.

- Regional decisions are those of a region's own jurisdiction taken in the period on a day the
  municipality was a member of that region; local decisions those of the municipality's own.
- Commissions count when given by or to a body of the municipality or of such a region, issued
  by the period's end and not finished before it began.
- Consultations count when they ask one of the municipality's councils and were opened in the
  period or had their deadline in it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from tests import projection_reference as ref


def memberships(history: ref.History, municipality: str, known_at: int
                ) -> list[tuple[str, date, date | None]]:
    regions = {e.record_id: e.data["code"] for e in history.known_at(known_at)
               if e.is_("Jurisdiction", "Established")}
    spells: list[list[Any]] = []
    for e in history.known_at(known_at):
        if e.type == "MemberJoined" and e.data["member"] == municipality:
            spells.append([regions[e.record_id], e.data["on"], None])
        elif e.type == "MemberLeft" and e.data["member"] == municipality:
            for spell in spells:
                if spell[0] == regions[e.record_id] and spell[2] is None:
                    spell[2] = e.data["on"]
    return [(region, joined, left) for region, joined, left in spells]


def bodies(history: ref.History, jurisdictions: set[str], known_at: int) -> dict[str, str]:
    """Code to kind of every body of these jurisdictions."""
    return {e.data["code"]: e.data["kind"] for e in history.known_at(known_at)
            if e.is_("Body", "Established") and e.data["jurisdiction"] in jurisdictions}


def expected_report(history: ref.History, municipality: str, start: date, end: date,
                    known_at: int, published_only: bool) -> dict[str, Any]:
    spells = memberships(history, municipality, known_at)
    regions = {region for region, joined, left in spells
               if joined <= end and (left is None or start < left)}

    def in_period(day: date | None) -> bool:
        return day is not None and start <= day <= end

    def member_on(region: str, day: date) -> bool:
        return any(r == region and joined <= day and (left is None or day < left)
                   for r, joined, left in spells)

    regional, local, months = [], [], Counter()
    for d in ref.decisions_as_known(history, known_at):
        if not in_period(d.taken_on) or (published_only and d.published_position is None):
            continue
        row = (d.code, ref.decision_status(d, end))
        if d.jurisdiction == municipality:
            local.append(row)
            months[(f"{d.taken_on:%Y-%m}", "local")] += 1
        elif d.jurisdiction in regions and member_on(d.jurisdiction, d.taken_on):
            regional.append(row)
            months[(f"{d.taken_on:%Y-%m}", "regional")] += 1
    every_body = bodies(history, {municipality} | regions, known_at)
    everyone = set(bodies(history, {e.data["code"] for e in history.known_at(known_at)
                                    if e.is_("Jurisdiction", "Established")}, known_at))
    commissions = sorted(
        (c["code"], c["state"], c["binding"], c["progress_reports"])
        for c in ref.commissions(history, end, known_at, everyone)
        if (c["issued_by"] in every_body or c["issued_to"] in every_body)
        and not any(day is not None and day < start
                    for day in (c["fulfilled_on"], c["withdrawn_on"])))
    councils = {code for code, kind in bodies(history, {municipality}, known_at).items()
                if kind == "council"}
    consultations = sorted(
        (c["code"], council, next((v["submitted_on"] for v in c["views"]
                                   if v["council"] == council), None))
        for c in ref.consultations(history, end, known_at, everyone)
        for council in councils & set(c["consulted"])
        if in_period(c["opened_on"]) or in_period(c["respond_by"]))
    grants = []
    for jurisdiction in {municipality} | regions:
        for g in ref.grant_register(history, jurisdiction, end, known_at):
            ends = ref.effective_end(g)
            happened = [
                name for name, day in (("started", g["valid_from"]),
                                       ("ended", g["valid_until"] if g["revoked_on"] is None
                                        else None),
                                       ("revoked", g["revoked_on"]))
                if in_period(day)]
            if g["status"] == "active" and ends is not None and end < ends <= end + timedelta(90):
                happened.append("expiring")
            if happened:
                grants.append((g["code"], tuple(happened)))
    return {"regional": sorted(regional), "local": sorted(local),
            "commissions": commissions, "consultations": consultations,
            "grants": sorted(grants), "months": +months}


def found_report(report: Any) -> dict[str, Any]:
    """The same facts read off a report of the model."""
    months = Counter()
    for m in report.timeline:
        months[(m["month"], "local")] += m["local"]
        months[(m["month"], "regional")] += m["regional"]
    return {
        "regional": sorted((d.code, d.status) for d in report.regional_decisions),
        "local": sorted((d.code, d.status) for d in report.local_decisions),
        "commissions": sorted((c.code, c.state, c.binding, c.progress_reports)
                              for c in report.commissions),
        "consultations": sorted((c.code, c.council, c.view_given_on)
                                for c in report.consultations),
        "grants": sorted((g.code, tuple(g.events)) for g in report.grants),
        "months": +months}
