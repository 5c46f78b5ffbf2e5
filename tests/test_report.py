"""The accountability report: its facts against a naive reference (tests/report_reference.py) on
the demo data and on generated data, what a council member finds in each format, and the
command line."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import html5lib
import pypdf
import pytest
from click.testing import CliRunner

from api.cli import main
from api.report.render import as_json, markdown_text, render
from ledger.application import Ledger
from ledger.database import DATABASE_URL_VARIABLE, eventsourcing_env
from ledger.transparency.note import Signer
from projections.checkpoints import setup_checkpoints, sign_if_grown
from projections.errors import InvalidArgument
from projections.report.model import Period, Report, UnknownJurisdiction, accountability_report
from tests import projection_reference as ref
from tests.databases import fresh_database
from tests.graphql_client import issue_token, serving
from tests.ledger_setup import import_demo
from tests.read_models import import_history, pool_on, project
from tests.report_reference import expected_report, found_report

pytestmark = pytest.mark.database

YEAR_2013 = Period(date(2013, 1, 1), date(2013, 12, 31))


@dataclasses.dataclass
class Ledgered:
    url: str
    history: ref.History

    def report(self, jurisdiction: str, period: Period, **options: Any) -> Report:
        async def read() -> Report:
            async with pool_on(self.url, max_size=2) as pool:
                return await accountability_report(pool, jurisdiction, period,
                                                   issued_on=date(2026, 1, 5), **options)
        return asyncio.run(read())


def _ledgered(url: str, fill: Any) -> Ledgered:
    ledger = Ledger(env=eventsourcing_env(url))
    try:
        fill(ledger)
        history = ref.History()
        history.extend(ledger.store.chain_rows(limit=10**9))
    finally:
        ledger.close()

    async def projected() -> None:
        async with pool_on(url, max_size=2) as pool:
            await project(pool)
            async with pool.acquire() as conn:
                await setup_checkpoints(conn)
            await sign_if_grown(pool, Signer.generate("bevoegd.test/log"))
    asyncio.run(projected())
    return Ledgered(url, history)


@pytest.fixture(scope="module")
def demo(server_url: str) -> Iterator[Ledgered]:
    """The demo data set, projected; the module's tests only read it."""
    with fresh_database(server_url, "bevoegd_report") as url:
        yield _ledgered(url, import_demo)


@pytest.fixture(scope="module")
def generated(server_url: str) -> Iterator[Ledgered]:
    with fresh_database(server_url, "bevoegd_report_generated") as url:
        yield _ledgered(url, import_history)


# The facts against the reference ------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["dordrecht", "hardinxveld-giessendam"])
@pytest.mark.parametrize("year", [2013, 2018, 2022])
@pytest.mark.parametrize("published_only", [True, False])
def test_the_demo_report_holds_what_the_reference_finds(
        demo: Ledgered, jurisdiction: str, year: int, published_only: bool) -> None:
    period = Period(date(year, 1, 1), date(year, 12, 31))
    report = demo.report(jurisdiction, period, published_only=published_only)
    assert found_report(report) == expected_report(
        demo.history, jurisdiction, period.start, period.end, demo.history.last, published_only)


def test_the_report_as_known_at_an_earlier_position(demo: Ledgered) -> None:
    """Cut half-way through the demo's history: what was recorded later is not in it."""
    position = demo.history.last // 2
    period = Period(date(2013, 1, 1), date(2013, 12, 31))
    report = demo.report("dordrecht", period, known_at=position, published_only=False)
    assert report.verification.position == position
    assert found_report(report) == expected_report(
        demo.history, "dordrecht", period.start, period.end, position, False)
    assert all(d.position <= position for d in report.regional_decisions + report.local_decisions)


def test_generated_reports_hold_what_the_reference_finds(generated: Ledgered) -> None:
    municipalities = sorted({e.data["member"] for e in generated.history.events
                             if e.type == "MemberJoined"})
    assert municipalities
    checked = 0
    for jurisdiction in municipalities[:4]:
        for year in (2008, 2016, 2023):
            period = Period(date(year, 1, 1), date(year, 12, 31))
            report = generated.report(jurisdiction, period, published_only=False)
            expected = expected_report(generated.history, jurisdiction, period.start,
                                       period.end, generated.history.last, False)
            assert found_report(report) == expected, (jurisdiction, year)
            checked += len(expected["regional"]) + len(expected["local"])
    assert checked > 0, "the generated country decided something in those years"


# The demo's story ---------------------------------------------------------------------------


def test_hardinxveld_giessendam_hears_of_the_region_only_from_2018(demo: Ledgered) -> None:
    before = demo.report("hardinxveld-giessendam", YEAR_2013, published_only=False)
    assert before.memberships == [] and before.regional_decisions == []
    across = demo.report("hardinxveld-giessendam",
                         Period(date(2016, 1, 1), date(2019, 12, 31)), published_only=False)
    assert [m.joined_on for m in across.memberships] == [date(2018, 1, 1)]
    assert all(d.taken_on >= date(2018, 1, 1) for d in across.regional_decisions)
    dordrecht = demo.report("dordrecht", Period(date(2016, 1, 1), date(2019, 12, 31)),
                            published_only=False)
    assert any(d.taken_on < date(2018, 1, 1) for d in dordrecht.regional_decisions)


def test_the_commissions_of_february_and_march_2013_are_not_binding(demo: Ledgered) -> None:
    report = demo.report("dordrecht", YEAR_2013)
    found = {c.code: c for c in report.commissions}
    for code in ("opdracht-2013-02-05-netwerkbestuur", "opdracht-2013-03-05-rmjp"):
        assert found[code].binding is False
        assert found[code].state in ("open", "overdue", "fulfilled", "withdrawn")
    assert report.commissions_by_state == dict(
        __import__("collections").Counter(c.state for c in report.commissions))


def test_the_regional_decisions_carry_their_chain_and_position(demo: Ledgered) -> None:
    report = demo.report("dordrecht", YEAR_2013)
    assert report.view == "public" and report.regional_decisions
    for d in report.regional_decisions + report.local_decisions:
        assert d.published and d.chain and d.chain[0]["kind"] == "attribution"
        assert d.legal_basis == d.chain[0]["legal_basis"] and d.position > 0
    assert report.verification.chain_head is not None
    assert report.verification.checkpoint_size == demo.history.last
    assert report.verification.checkpoint_note.startswith("bevoegd.test/log\n")


def test_an_empty_period_gives_a_clear_report(demo: Ledgered) -> None:
    report = demo.report("hardinxveld-giessendam", Period(date(2013, 6, 1), date(2013, 6, 30)))
    assert report.regional_decisions == report.local_decisions == report.commissions == []
    text = render(report, "md").decode()
    assert text.count("Geen in deze periode.") >= 5 and "Hardinxveld-Giessendam" in text
    assert "June 2013" in render(report, "md", "en").decode()
    assert _pdf_text(render(report, "pdf")).count("Geen in deze periode.") >= 5


def test_bad_questions_are_refused(demo: Ledgered) -> None:
    with pytest.raises(InvalidArgument, match="starts"):
        Period(date(2014, 1, 1), date(2013, 1, 1))
    with pytest.raises(UnknownJurisdiction):
        demo.report("atlantis", YEAR_2013)
    with pytest.raises(UnknownJurisdiction):
        demo.report("drechtsteden", YEAR_2013)  # a region gets no report of its own
    with pytest.raises(InvalidArgument, match="not known yet"):
        demo.report("dordrecht", YEAR_2013, known_at=demo.history.last + 1)


# The formats --------------------------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_the_pdf_holds_the_facts(demo: Ledgered) -> None:
    report = demo.report("dordrecht", YEAR_2013)
    text = _pdf_text(render(report, "pdf"))
    assert "Verantwoordingsrapportage" in text and "Gemeente Dordrecht" in text
    assert "1 januari 2013 tot en met 31 december 2013" in text and "5 januari 2026" in text
    assert "5 maart 2013" in text and "niet bindend" in text
    for d in report.regional_decisions:
        assert " ".join(d.title.split())[:40] in text
    squeezed = "".join(text.split())  # a line may break after a slash, and extraction adds a space
    for c in report.commissions:  # those of 5 February and 5 March 2013 among them
        assert "".join(c.subject.split())[:40] in squeezed
    assert "5 februari 2013" in text
    assert "pagina 2" in text and "Ondertekend controlepunt" in text


def test_the_pdf_is_pdf_a_with_fonts_embedded_and_tagged(demo: Ledgered) -> None:
    """Checked by its structure (veraPDF is not at hand): the XMP metadata claims PDF/A-2a and
    PDF/UA-1, an output intent names the colour space, every font is embedded, and the document
    is tagged."""
    reader = pypdf.PdfReader(io.BytesIO(render(demo.report("dordrecht", YEAR_2013), "pdf")))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part>2<", xmp) and re.search(r"pdfaid:conformance>A<", xmp)
    assert re.search(r"pdfuaid:part>1<", xmp)
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert root["/Lang"] == "nl"
    fonts = [font.get_object() for page in reader.pages
             for font in (page["/Resources"].get("/Font") or {}).values()]
    assert fonts
    for font in fonts:
        descendant = (font["/DescendantFonts"][0].get_object()
                      if "/DescendantFonts" in font else font)
        descriptor = descendant["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]


def test_the_html_is_valid_and_needs_no_network(demo: Ledgered) -> None:
    page = render(demo.report("dordrecht", YEAR_2013), "html").decode()
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    assert '<html lang="nl">' in page and page.count("<svg") == 3
    without_svg_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # a protocol-relative address counts where it would load (after a quote, `=` or `(`), not
    # inside the checkpoint's base64 signature and hashes, which may hold "//"
    assert not re.search(r"""(https?:|["'(=]//[a-z]|src=|href=|@import|url\()""",
                         without_svg_namespace)


def test_user_text_is_escaped_in_every_format(demo: Ledgered) -> None:
    report = demo.report("dordrecht", YEAR_2013)
    hostile = '<script>alert(1)</script> *loud* [link](x) #{panic("no")} $x$'
    first = dataclasses.replace(report.regional_decisions[0], title=hostile)
    report = dataclasses.replace(report, regional_decisions=[first, *report.regional_decisions[1:]])
    page = render(report, "html").decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert markdown_text(hostile) in render(report, "md").decode()
    assert "\\*loud\\*" in markdown_text(hostile) and "\\[link\\](x)" in markdown_text(hostile)
    assert 'panic("no")' in _pdf_text(render(report, "pdf"))


def test_the_json_has_its_documented_shape(demo: Ledgered) -> None:
    shape = as_json(demo.report("dordrecht", YEAR_2013))
    assert list(shape) == [f.name for f in dataclasses.fields(Report)]
    assert shape["period"] == {"start": "2013-01-01", "end": "2013-12-31"}
    assert shape["view"] == "public" and shape["summary"]["regional_decisions"] == len(
        shape["regional_decisions"])
    assert json.loads(render(demo.report("dordrecht", YEAR_2013), "json")) == shape


def test_english_on_request(demo: Ledgered) -> None:
    text = render(demo.report("dordrecht", YEAR_2013), "md", "en").decode()
    assert "# Accountability report: Gemeente Dordrecht" in text and "5 March 2013" in text


# The command line ---------------------------------------------------------------------------


@pytest.fixture
def demo_cli(demo: Ledgered, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv(DATABASE_URL_VARIABLE, demo.url)
    return CliRunner()


def test_report_writes_a_dutch_pdf_by_default(demo_cli: CliRunner, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = demo_cli.invoke(main, ["report", "--jurisdiction", "dordrecht", "--from",
                                    "2013-01-01", "--to", "2013-12-31"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "verantwoording-dordrecht-2013-01-01-2013-12-31.pdf"
    assert "Gemeente Dordrecht" in _pdf_text(written.read_bytes())


def test_report_says_how_it_is_used(demo_cli: CliRunner) -> None:
    result = demo_cli.invoke(main, ["report", "--help"])
    assert result.exit_code == 0
    for option in ("--jurisdiction", "--from", "--to", "--format", "--lang", "--known-at",
                   "--public", "--out"):
        assert option in result.output


def test_report_to_standard_output(demo_cli: CliRunner) -> None:
    result = demo_cli.invoke(main, ["report", "--jurisdiction", "dordrecht", "--from",
                                    "2013-01-01", "--to", "2013-12-31", "--format", "json",
                                    "--out", "-", "--public"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["jurisdiction"] == "dordrecht"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--jurisdiction", "atlantis", "--from", "2013-01-01", "--to", "2013-12-31"],
     "No municipality 'atlantis'"),
    (["--jurisdiction", "dordrecht", "--from", "2014-01-01", "--to", "2013-12-31"],
     "starts (2014-01-01) after it ends"),
    (["--jurisdiction", "dordrecht", "--from", "2013-01-01", "--to", "2013-12-31",
      "--known-at", "99999999"], "not known yet"),
    (["--jurisdiction", "dordrecht", "--from", "2013-01-01", "--to", "2013-12-31",
      "--format", "docx"], "docx"),
])
def test_report_refuses_bad_questions_with_exit_2(demo_cli: CliRunner, arguments: list[str],
                                                  message: str) -> None:
    result = demo_cli.invoke(main, ["report", *arguments, "--out", "-"])
    assert result.exit_code == 2 and message in result.output, result.output


# Over HTTP and GraphQL ----------------------------------------------------------------------

REPORT_2013 = "/reports/dordrecht?from=2013-01-01&to=2013-12-31"


def test_the_public_gets_the_published_edition_and_auditors_everything(demo: Ledgered) -> None:
    auditor = issue_token(demo.url, "auditor", name="auditor:report")
    with serving(demo.url, run_projector=False) as api:
        public = api.client.get(REPORT_2013 + "&format=json")
        full = api.client.get(REPORT_2013 + "&format=json",
                              headers={"Authorization": f"Bearer {auditor}"})
    assert public.status_code == full.status_code == 200
    assert public.headers["content-type"] == "application/json"
    assert public.headers["content-disposition"] == (
        'inline; filename="verantwoording-dordrecht-2013-01-01-2013-12-31.json"')
    shown, everything = public.json(), full.json()
    assert shown["view"] == "public" and everything["view"] == "auditor"
    assert all(d["published"] for d in shown["local_decisions"] + shown["regional_decisions"])
    assert {d["code"] for d in shown["regional_decisions"]} <= {
        d["code"] for d in everything["regional_decisions"]}
    unpublished = expected_report(demo.history, "dordrecht", date(2013, 1, 1),
                                  date(2013, 12, 31), demo.history.last, False)
    assert len(everything["regional_decisions"]) == len(unpublished["regional"])


@pytest.mark.parametrize(("fmt", "media_type", "start"), [
    ("pdf", "application/pdf", b"%PDF-"), ("html", "text/html; charset=utf-8", b"<!DOCTYPE html>"),
    ("md", "text/markdown; charset=utf-8", b"# Verantwoordingsrapportage")])
def test_each_format_has_its_media_type(demo: Ledgered, fmt: str, media_type: str,
                                        start: bytes) -> None:
    with serving(demo.url, run_projector=False) as api:
        answer = api.client.get(f"{REPORT_2013}&format={fmt}")
    assert answer.status_code == 200 and answer.headers["content-type"] == media_type
    assert answer.content.startswith(start)
    assert answer.headers["content-disposition"].endswith(f'2013-12-31.{fmt}"')


@pytest.mark.parametrize(("query", "status", "code"), [
    ("/reports/atlantis?from=2013-01-01&to=2013-12-31", 404, "UNKNOWN_JURISDICTION"),
    ("/reports/dordrecht?from=2014-01-01&to=2013-12-31", 400, "INVALID_ARGUMENT"),
    ("/reports/dordrecht?from=2013-01-01", 400, "INVALID_ARGUMENT"),
    (REPORT_2013 + "&format=docx", 400, "INVALID_ARGUMENT"),
    (REPORT_2013 + "&lang=fr", 400, "INVALID_ARGUMENT"),
    (REPORT_2013 + "&knownAt=99999999", 400, "INVALID_ARGUMENT"),
    ("/reports/dordrecht?from=2000-01-01&to=2013-12-31", 400, "INVALID_ARGUMENT"),
])
def test_bad_requests_get_a_clear_error(demo: Ledgered, query: str, status: int,
                                        code: str) -> None:
    with serving(demo.url, run_projector=False) as api:
        answer = api.client.get(query)
    assert answer.status_code == status and answer.json()["error"]["code"] == code, answer.text


def test_graphql_gives_the_json_form(demo: Ledgered) -> None:
    query = """query ($j: String!) {
      accountabilityReport(jurisdiction: $j, from: "2013-01-01", to: "2013-12-31") {
        view summary { regionalDecisions localDecisions }
        regionalDecisions { code position chain { kind grantee { code } legalBasis } }
        commissions { code binding state }
        verification { position checkpointSize }
      }
    }"""
    with serving(demo.url, run_projector=False) as api:
        found = api.data(query, {"j": "dordrecht"})["accountabilityReport"]
        refused = api.post(query, {"j": "atlantis"}).json()
    shape = as_json(demo.report("dordrecht", YEAR_2013))
    assert found["view"] == "public"
    assert found["summary"]["regionalDecisions"] == shape["summary"]["regional_decisions"]
    assert [d["code"] for d in found["regionalDecisions"]] == [
        d["code"] for d in shape["regional_decisions"]]
    assert [[link["grantee"]["code"] for link in d["chain"]] for d in found["regionalDecisions"]
            ] == [[link["grantee"] for link in d["chain"]] for d in shape["regional_decisions"]]
    assert {c["code"]: c["binding"] for c in found["commissions"]} == {
        c["code"]: c["binding"] for c in shape["commissions"]}
    assert found["verification"]["position"] == demo.history.last
    assert refused["errors"][0]["extensions"]["code"] == "UNKNOWN_JURISDICTION"
