"""The report in each format: JSON (the model as is), Markdown and HTML from Jinja2 templates,
and PDF/A from a Typst template (the `typst` package; fonts embedded, tagged). Every format is
drawn from one view of the report in the reader's language (`view`), and the pictures are SVG
drawn from templates too. User-supplied text is escaped for its format: by Jinja2's autoescape in
HTML and SVG, by `markdown_text` in Markdown, and in PDF by passing the view to Typst as data
(JSON read by the template), never as markup."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.report.words import LABELS, Lang, chain_in_words, long_date
from projections.report.model import Report

Format = Literal["pdf", "html", "md", "json"]
FORMATS: tuple[Format, ...] = ("pdf", "html", "md", "json")
MEDIA_TYPES: dict[Format, str] = {
    "pdf": "application/pdf", "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8", "json": "application/json"}
PDF_STANDARDS = ["a-2a", "ua-1"]
"""PDF/A-2a, archivable with fonts embedded and tagged, and PDF/UA-1, accessible: Typst checks
both as it writes (a picture without alternative text, say, fails)."""
TEMPLATES = Path(__file__).parent / "templates"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")
_MARKDOWN_LINE_START = re.compile(r"^([#+\-]|\d+[.)])")
"""What starts a heading or a list item where it stands at the start of a line."""

_env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                   autoescape=select_autoescape(["html.j2", "svg.j2"]),
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def markdown_text(text: object) -> str:
    """Text that Markdown shows as it is: its markup characters escaped, lines joined."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _MARKDOWN_LINE_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], escaped)


_env.filters["md"] = markdown_text


def as_json(report: Report) -> dict[str, Any]:
    """The report's JSON form: the model's fields, dates as ISO 8601 text."""
    return json.loads(json.dumps(dataclasses.asdict(report), default=_plain))


def _plain(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of a report")


def file_name(report: Report, fmt: Format) -> str:
    p = report.period
    return f"verantwoording-{report.jurisdiction}-{p.start}-{p.end}.{fmt}"


def render(report: Report, fmt: Format, lang: Lang = "nl") -> bytes:
    """The report as the bytes of a file of that format."""
    if fmt == "json":
        return json.dumps(as_json(report), ensure_ascii=False, indent=2).encode()
    shown = view(report, lang)
    if fmt == "pdf":
        return _pdf(shown)
    template = "report.md.j2" if fmt == "md" else "report.html.j2"
    return _env.get_template(template).render(v=shown).encode()


def _pdf(shown: dict[str, Any]) -> bytes:
    import typst

    return typst.compile(
        str(TEMPLATES / "report.typ"), sys_inputs={"view": json.dumps(shown)},
        pdf_standards=PDF_STANDARDS, ignore_system_fonts=True)


def view(report: Report, lang: Lang) -> dict[str, Any]:
    """What a reader sees, in `lang`: every line formatted, every code named."""
    w = LABELS[lang]
    names = report.names

    def name(code: str | None) -> str:
        return names.get(code or "", code or "")

    def day(value: date | None) -> str:
        return long_date(value, lang)

    s = report.summary
    summary = [
        w["s_regional"].format(n=s.regional_decisions),
        w["s_local"].format(n=s.local_decisions),
        w["s_contested"].format(a=s.annulled + s.repealed + s.corrected, f=s.flagged),
        w["s_commissions"].format(o=s.commissions_open, d=s.commissions_overdue),
        w["s_consultations"].format(n=s.consultations_awaiting),
    ]
    if s.competences:
        summary.insert(1, f"{w['s_competences']}: " + ", ".join(name(c) for c in s.competences))

    def decision(d: Any) -> dict[str, Any]:
        notes = []
        if d.annulled:
            notes.append(f"{w['annulled']} {day(d.annulled['on'])} ({w['reason']}: "
                         f"{d.annulled['reason']})")
        if d.repealed:
            notes.append(f"{w['repealed']} {day(d.repealed['on'])} ({w['reason']}: "
                         f"{d.repealed['reason']})")
        notes += [f"{w['corrected']} ({w['reason']}: {c['reason']})" for c in d.corrections]
        if d.legitimate is False or d.verdict_differs_later:
            notes.append(f"{w['flagged']}: {d.verdict_explanation or ''}".rstrip(": "))
        return {"code": d.code, "title": d.title, "body": name(d.body), "date": day(d.taken_on),
                "competence": name(d.competence), "legal_basis": d.legal_basis or "",
                "capacity": w[d.capacity], "status": w[d.status], "position": d.position,
                "chain": chain_in_words(d.chain, names, lang), "notes": notes}

    v = report.verification
    return {
        "lang": lang, "w": w, "municipality": report.jurisdiction_name,
        "period": f"{day(report.period.start)} {w['to']} {day(report.period.end)}",
        "issued": day(report.issued_on), "edition": w[report.view],
        "members": [f"{name(m.region)} ({w['since']} {day(m.joined_on)}"
                    + (f", {w['until']} {day(m.left_on)})" if m.left_on else ")")
                    for m in report.memberships],
        "summary": summary,
        "regional": [decision(d) for d in report.regional_decisions],
        "local": [decision(d) for d in report.local_decisions],
        "grants": [{"code": g.code, "kind": w[g.kind], "competence": name(g.competence),
                    "grantor": name(g.grantor), "grantee": name(g.grantee),
                    "legal_basis": g.legal_basis,
                    "period": f"{day(g.valid_from)} – {day(g.valid_until)}".rstrip(" –"),
                    "events": ", ".join(w[e] for e in g.events),
                    "reason": g.revocation_reason or ""} for g in report.grants],
        "commissions": [{"code": c.code, "subject": c.subject, "issued_by": name(c.issued_by),
                         "issued_to": name(c.issued_to), "issued_on": day(c.issued_on),
                         "due": day(c.due_on), "state": w[c.state],
                         "binding": w["binding" if c.binding else "not_binding"],
                         "progress": c.progress_reports} for c in report.commissions],
        "consultations": [{"code": c.code, "subject": c.subject, "council": name(c.council),
                           "deadline": day(c.respond_by),
                           "view": (f"{day(c.view_given_on)}, {w['in_time' if c.in_time else 'late']}"
                                    if c.view_given_on else w["no_view"]),
                           "considered": c.considered_by or ""} for c in report.consultations],
        "verification": {
            "position": w["position_at"].format(p=v.position) if v else "",
            "label": (w["checkpoint"].format(n=v.checkpoint_size) if v and v.checkpoint_note
                      else w["no_checkpoint"]),
            "text": (v.checkpoint_note if v and v.checkpoint_note else (v.chain_head if v else ""))
            or "", "how": w["verify_how"]},
        "svg": {"matrix": _svg("matrix.svg.j2", report, lang),
                "timeline": _svg("timeline.svg.j2", report, lang),
                "states": _svg("states.svg.j2", report, lang)},
    }


_CAPACITY_COLOURS = {"attribution": "#1f5f99", "delegation": "#d9822b", "mandate": "#3c9a5f",
                     "submandate": "#8cc9a0"}
_STATE_COLOURS = {"open": "#1f5f99", "overdue": "#c0392b", "fulfilled": "#3c9a5f",
                  "withdrawn": "#888888"}


def _svg(template: str, report: Report, lang: Lang) -> str:
    matrix = report.competence_matrix
    competences = sorted({c.competence for c in matrix})
    bodies = sorted({c.body for c in matrix})
    return _env.get_template(template).render(
        r=report, w=LABELS[lang], names=report.names, competences=competences, bodies=bodies,
        cells={(c.competence, c.body): c for c in matrix}, capacity_colours=_CAPACITY_COLOURS,
        state_colours=_STATE_COLOURS,
        peak=max([1] + [m["local"] + m["regional"] for m in report.timeline]),
        most=max([1, *report.commissions_by_state.values()])).strip()
