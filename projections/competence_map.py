"""The competence map of one holding (a competence for a jurisdiction) drawn from its
attributions and grants: every body that may exercise it, through which chain, for which
subjects, over which valid periods. The projector draws it from current knowledge; as-of reads
draw it from the rows known at a ledger position. Both use the ledger's own chain rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.competence import Attribution, Grant, exercisers_on
from ledger.values import ChainLink, Interval


@dataclass(frozen=True)
class MapEntry:
    body: str
    via: str  # how the body got the competence: attribution, delegation, mandate, submandate
    chain: list[dict[str, Any]]
    subjects: list[str] | None  # None: the competence as a whole, but for `excluded_subjects`
    valid_from: date
    valid_until: date | None
    excluded_subjects: list[str]  # named subjects someone else exercises instead (delegated)

    def covers(self, subject: str | None) -> bool:
        """Whether the body may decide on `subject` (None: on the competence as a whole)."""
        if self.subjects is None:
            return subject not in self.excluded_subjects
        return subject in self.subjects


def known(position: int | None, known_at: int | None) -> bool:
    return position is not None and (known_at is None or position <= known_at)


def attribution_as_known(row: Mapping[str, Any], known_at: int | None = None
                         ) -> Attribution | None:
    if not known(row["recorded_position"], known_at):
        return None
    until = row["ended_on"] if known(row["ended_position"], known_at) else row["valid_until"]
    return Attribution(row["body"], row["legal_basis"], Interval(row["valid_from"], until),
                       row["framework_body"])


def grant_as_known(row: Mapping[str, Any], known_at: int | None = None) -> Grant | None:
    if not known(row["recorded_position"], known_at):
        return None
    return Grant(
        code=row["code"], kind=row["kind"], grantor=row["grantor"], grantee=row["grantee"],
        legal_basis=row["legal_basis"], source_decision=row["source_decision"],
        period=Interval(row["valid_from"], row["valid_until"]),
        scope=tuple(row["scope"]) if row["scope"] is not None else None,
        allows_submandate=row["allows_submandate"], parent=row["parent"],
        framework_body=row["framework_body"],
        revoked_on=row["revoked_on"] if known(row["revoked_position"], known_at) else None,
    )


def holding_as_known(attribution_rows: Iterable[Mapping[str, Any]],
                     grant_rows: Iterable[Mapping[str, Any]], known_at: int | None = None
                     ) -> tuple[list[Attribution], list[Grant]]:
    """The holding's attributions and grants in the order they were recorded, which the chain
    rule follows where two grants could apply (as the ledger does); rows come back from the
    database in no particular order."""
    in_order = sorted(attribution_rows, key=lambda row: row["recorded_position"])
    attributions = [a for row in in_order if (a := attribution_as_known(row, known_at)) is not None]
    in_order = sorted(grant_rows, key=lambda row: row["recorded_position"])
    grants = [g for row in in_order if (g := grant_as_known(row, known_at)) is not None]
    return attributions, grants


def may_exercise(attributions: list[Attribution], grants: list[Grant], body: str, on: date,
                 subject: str | None) -> bool:
    return any(exerciser == body for exerciser, _ in exercisers_on(attributions, grants, on, subject))


def map_entries(attributions: list[Attribution], grants: list[Grant]) -> list[MapEntry]:
    """The map over all valid time: the exercisers are constant between consecutive dates on
    which an attribution or grant starts or ends, so it is drawn once per such period and equal
    neighbouring periods are joined."""
    dates = sorted({d for a in attributions for d in (a.period.valid_from, a.period.valid_until)
                    if d is not None}
                   | {d for g in grants
                      for d in (g.period.valid_from, g.period.valid_until, g.revoked_on)
                      if d is not None})
    subjects: list[str | None] = [None, *sorted({s for g in grants for s in g.scope or ()})]
    periods = list(zip(dates, [*dates[1:], None], strict=True))
    named = set(subjects[1:])
    Key = tuple[str, tuple[ChainLink, ...], tuple[str, ...] | None, tuple[str, ...]]
    running: dict[Key, date] = {}  # entries still running, with the date they started
    entries: list[MapEntry] = []

    def close(key: Key, valid_from: date, valid_until: date | None) -> None:
        body, chain, covered, excluded = key
        links = [link.as_json() for link in chain]
        entries.append(MapEntry(body, chain[-1].kind, links,
                                list(covered) if covered is not None else None,
                                valid_from, valid_until, list(excluded)))

    for start, _ in periods:
        present: dict[tuple[str, tuple[ChainLink, ...]], set[str | None]] = {}
        for subject in subjects:
            for body, chain in exercisers_on(attributions, grants, start, subject):
                present.setdefault((body, tuple(chain)), set()).add(subject)
        now: dict[Key, date] = {}
        for (body, chain), for_subjects in present.items():
            if None in for_subjects:  # the whole competence, but what a scoped grant took away
                covered, excluded = None, tuple(sorted(named - for_subjects))
            else:
                covered, excluded = tuple(sorted(s for s in for_subjects if s is not None)), ()
            key = (body, chain, covered, excluded)
            now[key] = running.get(key, start)
        for key, began in running.items():
            if key not in now:
                close(key, began, start)
        running = now
    for key, began in running.items():
        close(key, began, None)
    return sorted(entries, key=lambda e: (e.valid_from, e.body, len(e.chain)))
