"""The `bevoegd` command line. Thin: every command opens the ledger and calls its application
service. Exit codes: 0 success; 1 what was asked for does not hold: some commands were refused,
`verify` or `verify-export` found a difference, nothing signed or nothing to forget; 2 usage
error (bad arguments, also a report asked of an unknown municipality or an impossible period);
3 could not serve (`serve`: the address is in use or not allowed, or the
app did not start)."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ledger.database import (
    DATABASE_URL_VARIABLE,
    Database,
    NoDatabase,
    default_data_dir,
    open_database,
)
from ledger.errors import LedgerError

# The rest is imported by the commands that use it: a command that only needs the database
# (`tokens`) starts in a fraction of a second, without the ledger's domain, the GraphQL schema
# or the server (bench/RESULTS.md).
if TYPE_CHECKING:
    import asyncpg

    from ledger.application import Ledger
    from ledger.importer import LineOutcome
    from ledger.transparency.note import Signer, Verifier
    from projections.runner import ProjectionStatus
    from projections.verification import Report

T = TypeVar("T")
EXIT_REFUSED = 1
EXIT_NOT_SERVED = 3


@contextmanager
def database_of(ctx: click.Context) -> Iterator[Database]:
    """The ledger's database (see open_database), named on stderr, for the command's run."""
    with ExitStack() as stack:
        try:
            database = stack.enter_context(open_database(ctx.obj["data_dir"]))
        except NoDatabase as missing:
            raise click.UsageError(str(missing)) from None
        click.echo(f"Ledger: {database.description}", err=True)
        yield database


@contextmanager
def open_ledger(ctx: click.Context) -> Iterator[tuple[Ledger, str]]:
    """The ledger (its tables created if new) and its database URL, for the command's run."""
    from ledger.application import Ledger
    from ledger.database import eventsourcing_env

    with database_of(ctx) as database:
        ledger = Ledger(env=eventsourcing_env(database.url))
        try:
            yield ledger, database.url
        finally:
            ledger.close()


def on_connection(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """What `work` returns, run on one connection to the database (the read side's driver)."""
    from projections.connection import create_pool

    async def run() -> T:
        pool = await create_pool(url, max_size=1)
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        finally:
            await pool.close()

    return asyncio.run(run())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="BEVOEGD_DATA_DIR",
              help="Folder of the embedded PostgreSQL (used when BEVOEGD_DATABASE_URL is unset).")
@click.version_option(package_name="bevoegd")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Bevoegd: the governance ledger of competences, grants and decisions."""
    ctx.obj = {"data_dir": data_dir}


@main.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--actor", default="import", show_default=True,
              help="Actor recorded for lines that name none.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Commands per transaction.")
@click.option("--quiet", is_flag=True, help="Print refusals only, no progress bar.")
@click.pass_context
def import_command(ctx: click.Context, file: Any, actor: str, batch_size: int,
                   quiet: bool) -> None:
    """Import FILE, JSON Lines of commands (historical records allowed). Lines already imported
    are recognised by their idempotency key and add nothing; refused lines are listed with the
    reason and store no event. A refusal stands for its key: running the file again answers it
    the same way; give the line a new key to try it again."""
    with open_ledger(ctx) as (ledger, url):
        refused = _import(ledger, file, actor, batch_size, quiet)
    sys.exit(EXIT_REFUSED if refused else 0)


def _import(ledger: Ledger, file: Any, actor: str, batch_size: int, quiet: bool) -> int:
    """Runs the import and prints its report; returns how many lines were refused unexpectedly."""
    from ledger.importer import import_lines
    from ledger.pipeline import CommandResult

    total = _count_lines(file)
    accepted = replayed = expected = refused = 0
    first_position, began = ledger.position(), time.monotonic()
    with click.progressbar(length=total, label="Importing", file=sys.stderr,
                           hidden=quiet or not sys.stderr.isatty()) as bar:
        for outcome in import_lines(ledger, file, actor=actor, correlation_id=str(uuid.uuid4()),
                                    batch_size=batch_size, progress=bar.update):
            if isinstance(outcome.outcome, CommandResult) and not outcome.outcome.replayed:
                events = outcome.outcome.position - first_position
                rate = events / max(time.monotonic() - began, 1e-3)
                bar.label = f"Importing ({rate:,.0f} events/s)"
            if isinstance(outcome.outcome, LedgerError):
                if outcome.as_expected:
                    expected += 1
                else:
                    refused += 1
                click.echo(_refusal_line(outcome), err=not outcome.as_expected)
            elif outcome.outcome.replayed:
                replayed += 1
            else:
                accepted += 1
    click.echo(f"{accepted} accepted, {replayed} already recorded, {expected} refused as the "
               f"file expects, {refused} refused; ledger position {ledger.position()}.")
    return refused


def _refusal_line(outcome: LineOutcome) -> str:
    assert isinstance(outcome.outcome, LedgerError)
    prefix = "refused as expected" if outcome.as_expected else "REFUSED"
    field = f" [{outcome.outcome.field}]" if outcome.outcome.field else ""
    earlier = " (as before: the refusal is recorded for this key)" if outcome.outcome.replayed else ""
    return (f"line {outcome.line}: {prefix} {outcome.outcome.code}{field}: "
            f"{outcome.outcome.message}{earlier}")


def _count_lines(file: Any) -> int:
    if not file.seekable():
        return 0
    count = sum(1 for _ in file)
    file.seek(0)
    return count


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo data set (the Drechtsteden cooperation, 2013) and summarise it. Running it
    again adds nothing."""
    from ledger.demo import AFTER_ABOLITION, BEFORE_ABOLITION, DEMO_FILE, SHOWCASE

    with open_ledger(ctx) as (ledger, _), DEMO_FILE.open(encoding="utf-8") as file:
        refused = _import(ledger, file, "demo", 500, quiet=True)
        click.echo("\nWho was competent, before and after the Drechtraad's abolition (2022):")
        for label, competence, jurisdiction in SHOWCASE:
            for on in (BEFORE_ABOLITION, AFTER_ABOLITION):
                names = ", ".join(f"{c.body} ({c.capacity})" for c in
                                  ledger.who_is_competent(competence, jurisdiction, on)) or "nobody"
                click.echo(f"  {label:<24} {competence} for {jurisdiction} on {on}: {names}")
    sys.exit(EXIT_REFUSED if refused else 0)


@main.command()
@click.argument("competence")
@click.argument("jurisdiction")
@click.option("--on", "on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The date (YYYY-MM-DD) the question is about.")
@click.option("--subject", default=None, help="The subject within the competence, if scoped.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def competent(ctx: click.Context, competence: str, jurisdiction: str, on: Any,
              subject: str | None, as_json: bool) -> None:
    """Who may decide on COMPETENCE for JURISDICTION on a date, and by which chain."""
    day: date = on.date()
    with open_ledger(ctx) as (ledger, url):
        try:
            found = ledger.who_is_competent(competence, jurisdiction, day, subject)
        except LedgerError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from None
    if as_json:
        click.echo(json.dumps([{"body": c.body, "capacity": c.capacity,
                                "chain": [link.as_json() for link in c.chain]} for c in found],
                              indent=2))
        return
    if not found:
        click.echo(f"Nobody held {competence} for {jurisdiction} on {day}.")
    for entry in found:
        click.echo(f"{entry.body} ({entry.capacity})")
        for link in entry.chain:
            via = f" {link.grant} from {link.grantor}" if link.grant else ""
            until = link.valid_until or "open end"
            click.echo(f"    {link.kind}{via} to {link.grantee} [{link.valid_from}, {until}) "
                       f"on {link.legal_basis}")


def print_register(ctx: click.Context, read: Callable[[asyncpg.Connection], Awaitable[Any]],
                   as_json: bool) -> None:
    """A register of what can be named, from the read side, as a table or as JSON; a read side
    behind the ledger is said on stderr, one never projected is refused."""
    import asyncpg

    from api.registers import as_table

    with database_of(ctx) as database:
        try:
            register = on_connection(database.url, read)
        except asyncpg.UndefinedTableError:
            click.echo("The read side was never projected: run `bevoegd serve` or "
                       "`bevoegd project` first.", err=True)
            sys.exit(EXIT_REFUSED)
    if register.projected < register.head:
        click.echo(f"The read side has applied the ledger up to position {register.projected} "
                   f"of {register.head}: later records are not listed yet.", err=True)
    if as_json:
        click.echo(json.dumps(register.rows, indent=2, default=str))
    else:
        click.echo(as_table(register))


@main.command()
@click.option("--kind", type=click.Choice(["municipality", "region", "province", "water_board"]),
              default=None, help="Only jurisdictions of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def jurisdictions(ctx: click.Context, kind: str | None, as_json: bool) -> None:
    """The jurisdictions (gemeenten, regions, ...) that can be named: code, kind and name."""
    from api import registers

    print_register(ctx, lambda conn: registers.jurisdictions(conn, kind), as_json)


@main.command()
@click.option("--jurisdiction", default=None, help="Only the bodies of this jurisdiction.")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The date (YYYY-MM-DD) names and whether active are given for; today if "
                   "left out.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def bodies(ctx: click.Context, jurisdiction: str | None, on: datetime | None,
           as_json: bool) -> None:
    """The bodies (bestuursorganen) that can be named: code, kind, jurisdiction, name and
    whether active on a date."""
    from api import registers

    day = on.date() if on is not None else date.today()
    print_register(ctx, lambda conn: registers.bodies(conn, jurisdiction, day), as_json)


@main.command()
@click.option("--kind", type=click.Choice(["local", "regional", "delegable", "mandatable"]),
              default=None, help="Only competences of this kind: held for a municipality "
                                 "(local) or a region (regional), delegable or mandatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def competences(ctx: click.Context, kind: Any, as_json: bool) -> None:
    """The competences (bevoegdheden) that can be named: code, kinds and title."""
    from api import registers

    print_register(ctx, lambda conn: registers.competences_of(conn, kind), as_json)


@main.command()
@click.option("--aggregate", default=None,
              help="Only this record: a UUID, or KIND:CODE such as body:drechtraad (exit 1 if "
                   "the ledger has no such record).")
@click.option("--after", default=0, show_default=True, type=click.IntRange(0),
              help="Start after this ledger position.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@click.pass_context
def history(ctx: click.Context, aggregate: str | None, after: int, limit: int,
            as_json: bool) -> None:
    """Events in ledger order with their metadata and hashes."""
    from ledger.errors import UnknownReference
    from ledger.history import history_entries

    with open_ledger(ctx) as (ledger, url):
        try:
            entries = history_entries(ledger, aggregate, after, limit)
        except UnknownReference as unknown:
            click.echo(f"{unknown.code}: {unknown.message}", err=True)
            sys.exit(EXIT_REFUSED)
        except LedgerError as error:
            raise click.UsageError(error.message) from None
        for entry in entries:
            if as_json:
                click.echo(json.dumps(entry, default=str))
                continue
            meta = entry["meta"]
            click.echo(f"#{entry['position']:<7} {entry['type']:<40} {entry['record']} "
                       f"v{entry['version']}  recorded {meta.get('recorded_at')} by "
                       f"{meta.get('actor')}  command {meta.get('command_id')}  "
                       f"hash {entry['hash'][:16]}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port; one that dies is replaced. One of "
                   "them runs the projection runner, the others stand by.")
@click.option("--demo", is_flag=True, help="Load the demo data set first if the ledger is empty.")
@click.option("--production", is_flag=True, help="No GraphiQL page at /graphql.")
@click.option("--no-projector", is_flag=True,
              help="Do not run the projection runner in the server processes (run `bevoegd "
                   "project`).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, demo: bool, production: bool,
          no_projector: bool) -> None:
    """Serve the API: GraphQL (and GraphiQL) at /graphql, health at /healthz, readiness at
    /readyz. Exits with 3 if it cannot listen on the address or the app does not start."""
    from api.app import PRODUCTION_VARIABLE, PROJECTOR_VARIABLE
    from api.serving import CannotListen, listen, serve_on
    from ledger.vault import VAULT_VARIABLE

    try:
        listening = listen(host, port)  # before anything else: a busy port fails at once
    except CannotListen as cannot:
        click.echo(str(cannot), err=True)
        sys.exit(EXIT_NOT_SERVED)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets the
    # embedded database stop cleanly on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with listening, database_of(ctx) as database:
        if demo:
            _use_demo_key(ctx.obj["data_dir"] or default_data_dir())
            os.environ.setdefault(VAULT_VARIABLE, "1")  # the demo takes personal data
        _prepare(database.url, demo=demo)
        configured_signer_or_exit()
        # the server processes build the app from these (api.app.app_from_environment); the
        # embedded database, if any, is started here once for all of them
        os.environ.update({DATABASE_URL_VARIABLE: database.url,
                           PRODUCTION_VARIABLE: "1" if production else "0",
                           PROJECTOR_VARIABLE: "0" if no_projector else "1"})
        click.echo(f"GraphQL at http://{host}:{port}/graphql", err=True)
        if not serve_on(listening, workers):
            sys.exit(EXIT_NOT_SERVED)


DEMO_KEY_NAME = "demo.bevoegd.local/log"


def _use_demo_key(data_dir: Path) -> None:
    """Unless a signing key is configured, signs with the demo key in the data folder, made on
    the first start; the server processes find it through the environment."""
    from ledger.transparency.keys import (
        SIGNING_KEY_FILE_VARIABLE,
        SIGNING_KEY_VARIABLE,
        write_signing_key,
    )
    from ledger.transparency.note import Signer

    if os.environ.get(SIGNING_KEY_VARIABLE) or os.environ.get(SIGNING_KEY_FILE_VARIABLE):
        return
    path = data_dir / "demo-signing-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        signer = Signer.generate(DEMO_KEY_NAME)
        write_signing_key(path, signer)
        click.echo(f"Made a demo signing key for the log's checkpoints in {path}; its verifier "
                   f"key: {signer.verifier.text()}", err=True)
    os.environ[SIGNING_KEY_FILE_VARIABLE] = str(path)


def configured_signer_or_exit() -> Signer | None:
    """The configured signing key of the checkpoints; a usage error if it cannot be read."""
    from ledger.transparency.keys import SigningKeyUnavailable, configured_signer

    try:
        return configured_signer()
    except SigningKeyUnavailable as unavailable:
        raise click.UsageError(str(unavailable)) from None


def _prepare(url: str, *, demo: bool) -> None:
    """Creates the ledger's and the tokens' tables before the server processes start, lest they
    race to create them (CREATE ... IF NOT EXISTS is not safe concurrently in PostgreSQL), and
    loads the demo data set into an empty ledger if asked to."""
    from api.auth import setup_tokens
    from ledger.application import Ledger
    from ledger.database import eventsourcing_env
    from ledger.demo import DEMO_FILE

    ledger = Ledger(env=eventsourcing_env(url))
    try:
        if demo and ledger.position() == 0:
            with DEMO_FILE.open(encoding="utf-8") as file:
                _import(ledger, file, "demo", 500, quiet=True)
    finally:
        ledger.close()
    on_connection(url, setup_tokens)


@main.command()
def schema() -> None:
    """Print the GraphQL schema (SDL), as committed in graphql/schema.graphql."""
    from api.schema import build_schema

    click.echo(build_schema().as_str().rstrip("\n"))


@main.command()
@click.option("--writer", "writers", multiple=True, metavar="ROLE",
              help="A PostgreSQL role (it must exist) to let run Bevoegd on these tables: add "
                   "and read events, never change, delete or truncate them. Repeatable.")
@click.pass_context
def setup(ctx: click.Context, writers: tuple[str, ...]) -> None:
    """Create the ledger's tables, owned by the role this connects as, and let writer roles use
    them. Run it as the owner; then serve, import and project as a writer."""
    with open_ledger(ctx) as (ledger, _):
        for role in writers:
            try:
                ledger.store.admit_writer(role)
            except LookupError as unknown:
                raise click.BadParameter(str(unknown), param_hint="--writer") from None
            click.echo(f"{role} may add and read events, and may not change, delete or "
                       "truncate them.")


@main.group()
def keys() -> None:
    """Signing keys of the transparency log's checkpoints."""


@keys.command("create")
@click.option("--name", required=True,
              help="The key's name, which is also the log's origin: the first line of every "
                   "checkpoint, e.g. ledger.example.nl/bevoegd.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File for the signing key (created readable by you only; never overwritten). "
                   "Give it to the server as BEVOEGD_SIGNING_KEY_FILE, or its text as "
                   "BEVOEGD_SIGNING_KEY.")
def keys_create(name: str, out: Path) -> None:
    """Make a signing key and print its verifier key (signed-note form: name+keyhash+base64),
    which auditors use to check checkpoints. Publish the verifier key where the operator of the
    database cannot change it."""
    from ledger.transparency import TransparencyError
    from ledger.transparency.keys import write_signing_key
    from ledger.transparency.note import Signer

    try:
        signer = Signer.generate(name)
    except TransparencyError as error:
        raise click.BadParameter(str(error), param_hint="--name") from None
    try:
        write_signing_key(out, signer)
    except FileExistsError:
        raise click.BadParameter(f"{out} exists; it is never overwritten.",
                                 param_hint="--out") from None
    click.echo(f"Signing key written to {out}.", err=True)
    click.echo(signer.verifier.text())


@main.command()
@click.option("--size", type=click.IntRange(1), default=None,
              help="The checkpoint of this tree size; the latest if left out.")
@click.pass_context
def head(ctx: click.Context, size: int | None) -> None:
    """Print a signed checkpoint of the transparency log (C2SP tlog-checkpoint, signed note)."""
    from projections.checkpoints import latest_checkpoint, setup_checkpoints

    async def find(conn: asyncpg.Connection) -> Any:
        await setup_checkpoints(conn)
        return await latest_checkpoint(conn, size)

    with database_of(ctx) as database:
        found = on_connection(database.url, find)
    if found is None:
        click.echo("No checkpoint has been signed" + (f" at size {size}." if size else " yet."),
                   err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(found.note, nl=False)


@main.command("publish-tiles")
@click.argument("folder", type=click.Path(file_okay=False, writable=True, path_type=Path))
@click.pass_context
def publish_tiles(ctx: click.Context, folder: Path) -> None:
    """Write the transparency log as plain files into FOLDER, at the paths of C2SP tlog-tiles
    (checkpoint, tile/...), for any web server, object store or CDN to serve: the latest
    signed checkpoint with its tiles and entry bundles. Only files FOLDER lacks are written (a
    tile's file never changes), the checkpoint last. `bevoegd project --publish-tiles FOLDER`
    keeps it current. Serve tile/ with `Cache-Control: public, max-age=31536000, immutable`
    and the checkpoint with `no-cache`. Exits 1 if no checkpoint has been signed yet."""
    from projections.checkpoints import setup_checkpoints
    from projections.connection import create_pool
    from projections.tile_files import publish

    async def run(url: str) -> Any:
        pool = await create_pool(url, max_size=1)
        try:
            async with pool.acquire() as conn:
                await setup_checkpoints(conn)  # a ledger that never signed has no such table
            with click.progressbar(length=1, label="Publishing", file=sys.stderr,
                                   hidden=not sys.stderr.isatty()) as bar:
                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)
                return await publish(pool, folder, progress=progress)
        finally:
            await pool.close()

    folder.mkdir(parents=True, exist_ok=True)
    with database_of(ctx) as database:
        published = asyncio.run(run(database.url))
    if published is None:
        click.echo("No checkpoint has been signed yet: nothing to publish.", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(f"Published the tree of {published.size} events in {folder}: "
               f"{published.written} files written.")


@main.command()
@click.option("--position", type=click.IntRange(1), default=None,
              help="Prove that the event at this ledger position is in the log.")
@click.option("--size", type=click.IntRange(1), default=None,
              help="The tree to prove it in; that of the latest checkpoint if left out.")
@click.option("--from", "old", type=click.IntRange(1), default=None,
              help="Prove that the tree of this size ...")
@click.option("--to", "new", type=click.IntRange(1), default=None,
              help="... is a prefix of the tree of this size (the latest checkpoint's if left out).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def prove(ctx: click.Context, position: int | None, size: int | None, old: int | None,
          new: int | None, as_json: bool) -> None:
    """An inclusion proof (--position) or a consistency proof (--from, --to) of the transparency
    log, with the tree heads it leads to (RFC 9162; hashes in base64, as in checkpoints)."""
    from api.proofs import as_text, consistency_answer, inclusion_answer
    from projections.errors import ReadError

    if (position is None) == (old is None):
        raise click.UsageError("Give --position (inclusion) or --from (consistency).")
    if position is None and size is not None or position is not None and new is not None:
        raise click.UsageError("--size goes with --position, --to with --from.")
    with database_of(ctx) as database:
        try:
            answer = on_connection(database.url, lambda conn: (
                inclusion_answer(conn, position, size) if position is not None
                else consistency_answer(conn, old or 0, new)))
        except ReadError as refused:
            click.echo(refused.message, err=True)
            sys.exit(EXIT_REFUSED)
    click.echo(json.dumps(answer, indent=2) if as_json else as_text(answer))


@main.command()
@click.option("--out", required=True, type=click.File("w", encoding="utf-8", lazy=True),
              help="The file to write (- for standard output).")
@click.option("--until", type=click.IntRange(1), default=None,
              help="Export the latest signed tree whose events lie at or before this position; "
                   "the latest signed tree if left out.")
@click.pass_context
def export(ctx: click.Context, out: Any, until: int | None) -> None:
    """Export the ledger for auditors as JSON Lines: every event of a signed tree with its
    position, hashes and stored content, then the signed checkpoint (docs/verification.md)."""
    from api.export import export_lines
    from projections.checkpoints import checkpoint_until, setup_checkpoints

    async def find(conn: asyncpg.Connection) -> Any:
        await setup_checkpoints(conn)
        return await checkpoint_until(conn, until)

    with open_ledger(ctx) as (ledger, url):
        checkpoint = on_connection(url, find)
        if checkpoint is None:
            click.echo("No signed checkpoint covers those events: there is nothing to export "
                       "with a signature yet.", err=True)
            sys.exit(EXIT_REFUSED)
        with click.progressbar(length=checkpoint.size + 1, label="Exporting", file=sys.stderr,
                               show_pos=True) as progress:
            for line in export_lines(ledger, checkpoint):
                out.write(line + "\n")
                progress.update(1)
    click.echo(f"Exported {checkpoint.size} events and their signed checkpoint.", err=True)


@main.command("verify-export")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--key", "keys", multiple=True, required=True, metavar="VERIFIER_KEY",
              help="The log's verifier key (name+keyhash+base64), from a source you trust; "
                   "repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def verify_export(file: Any, keys: tuple[str, ...], as_json: bool) -> None:
    """Check an export offline, without a database: every event's chain hash and leaf, the tree
    head against the signed checkpoint at its end and the signature; then replay the events
    through the ledger's rules and name every decision whose chain does not hold. Exits 1 if
    anything does not hold."""
    from api.export import check_export
    from ledger.transparency import TransparencyError
    from ledger.transparency.note import Verifier

    try:
        verifiers = [Verifier.from_text(key.strip()) for key in keys]
    except TransparencyError as error:
        raise click.BadParameter(str(error), param_hint="--key") from None
    try:
        found = check_export(file, verifiers)
    except (ValueError, KeyError, TypeError) as error:
        click.echo(f"{file.name} is not an export of Bevoegd: {error!r}", err=True)
        sys.exit(EXIT_REFUSED)
    if as_json:
        click.echo(json.dumps(found.as_json(), indent=2))
    else:
        head = found.root_hash.hex() if found.root_hash else "none"
        click.echo(f"{found.events} events, tree head {head}")
        if found.problem is not None:
            at = f" (position {found.position})" if found.position is not None else ""
            click.echo(f"Does not hold{at}: {found.problem}")
        for doubt in found.doubts:
            click.echo(f"Decision {doubt.decision} (position {doubt.position}): {doubt.problem}")
        if found.holds:
            click.echo("Holds: chain, tree, signature, and every decision's chain.")
    sys.exit(0 if found.holds else EXIT_REFUSED)


@main.command()
@click.option("--until", required=True, metavar="DATE|POSITION",
              help="The moment: a ledger position, or a date (the events recorded by its end).")
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The date the map is valid on; the --until date, or today for a position.")
@click.option("--out", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              show_default=True, help="The file to write (- for standard output).")
@click.pass_context
def replay(ctx: click.Context, until: str, on: Any, out: Any) -> None:
    """The state as the ledger knew it then, as JSON: the events up to that moment replayed in
    memory through the ledger's own rules (not read from the projections), giving the competence
    map, the grant register, and every decision with whether its chain held when it was taken."""
    from eventsourcing.persistence import StoredEvent

    from ledger.replay import replay as replay_events
    from ledger.replay import state_on

    moment = _moment(until)
    with open_ledger(ctx) as (ledger, url):
        position = moment if isinstance(moment, int) else on_connection(
            url, lambda conn: _recorded_by(conn, moment))
        rows = _rows_until(ledger, position)
        state, doubts = replay_events(
            (row["notification_id"], StoredEvent(row["originator_id"], row["originator_version"],
                                                 row["topic"], bytes(row["state"])))
            for row in rows)
    valid_on = on.date() if on is not None else moment if isinstance(moment, date) \
        else date.today()
    out.write(json.dumps({"until": {"position": position, "recorded_by": until}}
                         | state_on(state, doubts, valid_on), indent=1) + "\n")


def _moment(until: str) -> int | date:
    if until.isdigit():
        return int(until)
    try:
        return date.fromisoformat(until)
    except ValueError:
        raise click.BadParameter(f"{until!r} is neither a position nor a date (YYYY-MM-DD).",
                                 param_hint="--until") from None


async def _recorded_by(conn: asyncpg.Connection, day: date) -> int:
    """The last position recorded by the end of `day`, by the audit trail's recording times."""
    from projections.tracking import SCHEMA

    found = await conn.fetchval(
        f"SELECT coalesce(max(position), 0) FROM {SCHEMA}.audit_trail"
        " WHERE recorded_at < ($1::date + 1)::timestamptz", day)
    return int(found)


def _rows_until(ledger: Ledger, position: int) -> Iterator[dict[str, Any]]:
    """The stored events up to `position`, read in batches."""
    after = 0
    while rows := ledger.store.chain_rows(after, 5000):
        for row in rows:
            if row["notification_id"] > position:
                return
            yield row
        after = rows[-1]["notification_id"]


@main.command()
@click.argument("person")
@click.option("--reason", required=True, help="Why (e.g. the request under the GDPR); recorded.")
@click.option("--actor", default=lambda: getpass.getuser(), show_default="your user name",
              help="Who has the person forgotten; recorded.")
@click.pass_context
def forget(ctx: click.Context, person: str, reason: str, actor: str) -> None:
    """Forget a private person: delete the key their data is sealed with (crypto-shredding).
    Their data is unreadable from then on; the events stay, and every hash and proof holds.
    Exits 1 if the vault holds no key for PERSON."""
    from ledger.personal_data import NoVault

    with open_ledger(ctx) as (ledger, _):
        if isinstance(ledger.vault, NoVault):
            raise click.UsageError("No vault is configured (BEVOEGD_VAULT=1): there is no "
                                   "personal data to forget.")
        if not ledger.vault.forget(person, reason, actor):
            click.echo(f"The vault holds no key for {person}: nothing to forget.", err=True)
            sys.exit(EXIT_REFUSED)
    click.echo(f"Forgot {person}: their key is deleted and their data erased.", err=True)


@main.command()
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint of this log published elsewhere (a signed note) that the ledger "
                   "must still contain. Repeatable.")
@click.option("--key", "key_texts", multiple=True, metavar="VERIFIER_KEY",
              help="A verifier key of the log (name+keyhash+base64, as `keys create` prints it) "
                   "to check the checkpoints' signatures with. Repeatable; the configured "
                   "signing key's if left out.")
@click.option("--no-projections", is_flag=True,
              help="Do not replay the projections to compare them with the live ones.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_context
def verify(ctx: click.Context, checkpoint_files: tuple[Path, ...], key_texts: tuple[str, ...],
           no_projections: bool, as_json: bool) -> None:
    """Derive everything again from the stored events and compare it with what is stored: every
    hash of the chain, every tile and entry bundle of the transparency log, every stored
    checkpoint (signature, tree head, consistency with the one before), and every projection
    (replayed into scratch tables). Exits with 1, naming the first position where anything
    differs, if anything does."""
    from ledger.transparency import TransparencyError
    from projections.verification import verify as verify_ledger
    from projections.verification.checkpoints import given_claim
    from projections.verification.read_models import VerificationInProgress

    verifiers = _verifiers(key_texts)
    if checkpoint_files and not verifiers:
        raise click.UsageError("A checkpoint from elsewhere proves something only with the log's "
                               "verifier key: give it with --key.")
    given = []
    for path in checkpoint_files:
        try:
            given.append(given_claim(str(path), path.read_bytes(), verifiers))
        except TransparencyError as error:
            raise click.BadParameter(f"{path}: {error}", param_hint="--checkpoint") from None
    with open_ledger(ctx) as (_, url), _StageBars() as progress:
        try:
            report = asyncio.run(verify_ledger(url, verifiers=verifiers, given=given,
                                               read_models=not no_projections,
                                               progress=progress))
        except VerificationInProgress as busy:
            raise click.ClickException(str(busy)) from None
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else _verify_text(report))
    sys.exit(0 if report.ok else EXIT_REFUSED)


def _verifiers(key_texts: tuple[str, ...]) -> list[Verifier]:
    """The verifier keys given, or else the configured signing key's, if any."""
    from ledger.transparency import TransparencyError
    from ledger.transparency.note import Verifier

    if not key_texts:
        signer = configured_signer_or_exit()
        return [] if signer is None else [signer.verifier]
    try:
        return [Verifier.from_text(text.strip()) for text in key_texts]
    except TransparencyError as error:
        raise click.BadParameter(str(error), param_hint="--key") from None


def _verify_text(report: Report) -> str:
    log, compared = report.log, report.read_models
    signatures = ("signatures checked" if report.signatures_checked
                  else "signatures not checked: no verifier key given or configured")
    lines = [
        f"Events: {log.events} (to position {log.head}), each hash checked against its content "
        "and the one before.",
        f"Transparency log: {log.tiles} tiles and {log.bundles} entry bundles of the tree of "
        f"{log.tree_size} leaves (position {log.tree_position}) compared with the events' tree.",
        f"Checkpoints: {report.stored_checkpoints} stored, {report.given_checkpoints} given; "
        f"{signatures}.",
        "Projections: not compared (--no-projections)." if compared is None else
        "Projections: none set up." if compared.position is None else
        f"Projections: {compared.tables} tables compared with a replay to position "
        f"{compared.position}.",
    ]
    if report.ok:
        return "\n".join([*lines, "Everything agrees with the stored events."])
    first, *others = report.differences
    where = f"position {first.position}" if first.position is not None else (
        f"positions {first.between[0]} to {first.between[1]}" if first.between is not None
        else f"tree size {first.size}" if first.size is not None else "the read side")
    lines.append(f"DIFFERS at {where}: {first.what}")
    lines += [f"  also: {other.what}" for other in others]
    return "\n".join(lines)


class _StageBars:
    """A progress bar on stderr for each stage of a long command, one after the other."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage: str | None = None

    def __enter__(self) -> _StageBars:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def __call__(self, stage: str, position: int, head: int) -> None:
        if stage != self.stage:
            self._close()
            self.stage = stage
            self.bar = click.progressbar(length=head, label=stage, file=sys.stderr,
                                         hidden=not sys.stderr.isatty()).__enter__()
        self.bar.update(position - self.bar.pos)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@main.group()
def tokens() -> None:
    """Create and revoke the bearer tokens of the API."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(["clerk", "auditor", "admin"]),
              help="clerk: writes for its own bodies; auditor: reads everything; admin: all.")
@click.option("--body", "bodies", multiple=True,
              help="A body the clerk writes for (repeat for several).")
@click.option("--name", default=None, help="Who holds it; recorded as the actor of their events. "
                                           "Defaults to ROLE[:BODY,...].")
@click.pass_context
def tokens_create(ctx: click.Context, role: str, bodies: tuple[str, ...], name: str | None
                  ) -> None:
    """Create a token and print it once; only its hash is stored."""
    from api.auth import Principal, create_token

    if role == "clerk" and not bodies:
        raise click.BadParameter("a clerk's token names the bodies it writes for.",
                                 param_hint="--body")
    if role != "clerk" and bodies:
        raise click.BadParameter("only a clerk's token names bodies.", param_hint="--body")
    principal = Principal(name or ":".join([role, ",".join(bodies)]).rstrip(":"),
                          role, frozenset(bodies))  # type: ignore[arg-type]

    with database_of(ctx) as database:  # the tokens' table is created if new; no ledger needed
        token = on_connection(database.url, lambda conn: create_token(conn, principal)).token
    click.echo(f"Token for {principal.name} ({role}); it is shown only now:", err=True)
    click.echo(token)


@tokens.command("revoke")
@click.argument("name")
@click.pass_context
def tokens_revoke(ctx: click.Context, name: str) -> None:
    """Revoke every token of the principal NAME. Returns once no server accepts them any more
    (servers trust a token they have looked up for a second)."""
    from api.auth import revoke_tokens

    with database_of(ctx) as database:
        revoked = on_connection(database.url, lambda conn: revoke_tokens(conn, name))
    click.echo(f"Revoked {revoked} token(s) of {name}.")
    if not revoked:
        sys.exit(EXIT_REFUSED)


@main.command()
@click.option("--publish-tiles", type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=None, help="Keep this folder's copy of the log's files current.")
@click.pass_context
def project(ctx: click.Context, publish_tiles: Path | None) -> None:
    """Run the projection worker: follow the ledger and keep the read models current. Several
    workers may run; one is active per projection, the others wait as standbys. With
    --publish-tiles, it also keeps a folder of the log's files current (see publish-tiles)."""
    from projections.worker import run_worker

    signer = configured_signer_or_exit()
    if publish_tiles is not None:
        publish_tiles.mkdir(parents=True, exist_ok=True)
    with open_ledger(ctx) as (ledger, url):
        asyncio.run(run_worker(url, signer, publish_tiles))


@main.group()
def projections() -> None:
    """Inspect the read models."""


@projections.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--check", is_flag=True,
              help="Exit 1 if a projection is stalled or its runner failing: the projection "
                   "worker's health check.")
@click.pass_context
def projections_status(ctx: click.Context, as_json: bool, check: bool) -> None:
    """Position, lag, rate and state of every projection: current, advancing, or stalled (behind
    the ledger and not moving), with the last failure of the runner projecting it, if it is
    failing. With --check, exits 1 if any is stalled or failing: the runner is stuck, or no
    runner is running while events wait."""
    from projections.worker import projection_statuses

    with open_ledger(ctx) as (ledger, url):
        found = asyncio.run(projection_statuses(url))
    _print_statuses(found, as_json)
    if check and any(s.state == "stalled" or s.last_error is not None for s in found):
        sys.exit(EXIT_REFUSED)


def _print_statuses(found: list[ProjectionStatus], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([
            {"projection": s.name, "position": s.position, "head": s.head, "lag": s.lag,
             "events_per_second": s.rate,
             "updated_at": s.updated_at.isoformat() if s.updated_at else None,
             "state": s.state, "last_error": s.last_error,
             "last_error_at": s.last_error_at.isoformat() if s.last_error_at else None}
            for s in found], indent=2))
        return
    click.echo(f"{'projection':<16} {'position':>10} {'lag':>8} {'events/s':>10}  "
               f"{'updated':<19}  state")
    for s in found:
        rate = f"{s.rate:,.0f}" if s.rate is not None else "-"
        updated = f"{s.updated_at:%Y-%m-%d %H:%M:%S}" if s.updated_at else "never"
        click.echo(f"{s.name:<16} {s.position:>10} {s.lag:>8} {rate:>10}  {updated:<19}  "
                   f"{s.state}")
    failures: dict[tuple[datetime, str], list[str]] = {}
    for s in found:
        if s.last_error is not None and s.last_error_at is not None:
            failures.setdefault((s.last_error_at, s.last_error), []).append(s.name)
    for (at, error), names in failures.items():
        click.echo(f"Runner failing ({', '.join(names)}), last at {at:%Y-%m-%d %H:%M:%S}:"
                   f" {error}")


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Share the projections out over this many processes (each reads the log).")
@click.pass_context
def projections_rebuild(ctx: click.Context, name: str | None, processes: int) -> None:
    """Rebuild projection NAME (all if omitted) from the start of the ledger. The events are
    replayed into shadow tables which then replace the live ones in one transaction, so reads
    keep working throughout."""
    from projections.rebuild import RebuildInProgress
    from projections.runner import all_projections, projection_named
    from projections.worker import rebuild_projections

    try:
        chosen = [projection_named(name)] if name is not None else all_projections()
    except KeyError as unknown:
        raise click.BadParameter(unknown.args[0], param_hint="NAME") from None
    with open_ledger(ctx) as (ledger, url):
        head = ledger.position() or 0
        with click.progressbar(length=head, label="Rebuilding", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            def progress(position: int, _head: int) -> None:
                bar.update(position - bar.pos)

            try:
                position = asyncio.run(rebuild_projections(url, chosen, progress, processes))
            except RebuildInProgress as busy:
                raise click.ClickException(str(busy)) from None
    click.echo(f"Rebuilt {', '.join(p.name for p in chosen)} up to position {position}.")


@main.command()
@click.option("--jurisdiction", required=True, help="The municipality the report is for.")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The first day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The last day of the period (YYYY-MM-DD), included.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "md", "json"]), default="pdf",
              show_default=True)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--known-at", type=click.IntRange(0), default=None, metavar="POSITION",
              help="The report as the ledger knew it at this position; where the read models "
                   "are if left out.")
@click.option("--public", is_flag=True,
              help="The public edition: published decisions only. Without it the report holds "
                   "everything and says so.")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="The file to write (- for standard output); verantwoording-ID-FROM-TO.FORMAT "
                   "if left out.")
@click.pass_context
def report(ctx: click.Context, jurisdiction: str, start: Any, end: Any, fmt: Any, lang: Any,
           known_at: int | None, public: bool, out: str | None) -> None:
    """The accountability report (verantwoordingsrapportage) to a municipality's council for a
    period: the regional decisions that concerned it while it was a member, its own bodies'
    decisions, grants, commissions and consultations, and how to verify each against the
    ledger. Read from the projections (run `bevoegd project` or `serve` to bring them up).
    Exits 2 for an unknown municipality, a period that ends before it starts, or a position the
    read models have not reached."""
    from api.report.render import file_name, render
    from projections.errors import ReadError
    from projections.report.model import Period, accountability_report

    try:
        period = Period(start.date(), end.date())
        with database_of(ctx) as database:
            found = on_connection(database.url, lambda conn: accountability_report(
                conn, jurisdiction, period, known_at=known_at, published_only=public))
    except ReadError as refused:
        raise click.UsageError(refused.message) from None
    content = render(found, fmt, lang)
    if out == "-":
        with click.open_file("-", "wb") as stdout:
            stdout.write(content)
        return
    path = Path(out or file_name(found, fmt))
    path.write_bytes(content)
    click.echo(f"Wrote {path} ({len(content)} bytes).", err=True)


if __name__ == "__main__":
    main()
