"""The benchmark harness: `python -m bench --events N --json FILE`.

Generates a national-scale history of about N events, imports it once per round, each time into a
fresh database (embedded PostgreSQL unless BEVOEGD_DATABASE_URL is set), and measures every figure
next to its baseline in the same run. Figures whose part is not built yet are reported as
missing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from bench.explorer_page import explorer_pages
from bench.generate import generate_commands
from bench.graphql_read import baselines_markdown, graphql_read, latency_markdown
from bench.import_rate import import_rate
from bench.machine import describe_machine
from bench.memory import rss_api, rss_worker
from bench.metrics import Metric, markdown
from bench.projection_rates import rebuild_rate, visible_latency
from bench.proof_latency import proof_graphql, proof_tiles
from bench.query_latency import query_latency
from bench.report_time import report_seconds
from bench.throughput import command_throughput
from bench.verify_rate import verify_rate
from ledger.database import open_database
from tests.databases import fresh_database

QUERY_CALLS = 1000  # per query and round: the p99 rests on the ten slowest
READ_SECONDS, SMOKE_READ_SECONDS = 5.0, 1.0
"""Per GraphQL read figure and round: each documented query cold (but Competences, which has no
variables to vary) and warm, each of them also against the floor (bench/floor.py), and two
baselines before and after, make 42 runs of this length."""
SMOKE_EVENTS = 100_000  # below this, a smoke run (CI): the read figures get the short time


@click.command()
@click.option("--events", default=10_000, show_default=True, type=click.IntRange(1_000),
              help="Size of the generated history.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1),
              help="Rounds per figure; the median is reported with min and max.")
@click.option("--commands", default=200, show_default=True, type=click.IntRange(10),
              help="Commands per client per round for the throughput figures.")
@click.option("--seed", default=2013, show_default=True, help="Seed of the generated history.")
@click.option("--commands-only", is_flag=True,
              help="Measure the command throughput figures only.")
@click.option("--json", "json_file", type=click.File("w"), default=None,
              help="Write the machine and the figures as JSON to this file.")
def main(events: int, rounds: int, commands: int, seed: int, commands_only: bool,
         json_file: Any) -> None:
    """Measure Bevoegd at the given size, every figure next to its baseline."""
    metrics: list[Metric] = []
    with open_database() as database:
        with fresh_database(database.url) as url:
            machine = describe_machine(url)
            click.echo("command_throughput_1, _8, _contended ...", err=True)
            metrics.extend(command_throughput(url, commands, rounds))
        if commands_only:
            report(machine, events, metrics, json_file)
            return
        with fresh_database(database.url) as url, tempfile.TemporaryDirectory() as folder:
            history = Path(folder) / "history.jsonl"
            click.echo(f"generating {events} events ...", err=True)
            with history.open("w", encoding="utf-8") as out:
                for line in generate_commands(events, seed):
                    out.write(json.dumps(line) + "\n")
            click.echo(f"import_rate ({rounds} imports) ...", err=True)
            imported, unexpected = import_rate(database.url, history, rounds, last=url)
            if unexpected:
                raise click.ClickException(f"{unexpected} generated commands were refused "
                                           "unexpectedly; the figures would not be comparable.")
            metrics.append(imported)
            click.echo("rebuild_rate ...", err=True)
            metrics.append(rebuild_rate(url, rounds))
            click.echo("query_competence_map_p99, query_who_is_competent_p99 ...", err=True)
            metrics.extend(query_latency(url, QUERY_CALLS, rounds))
            click.echo("visible_latency_p99 ...", err=True)
            metrics.append(visible_latency(url, 100, rounds))
            click.echo("graphql_read_<operation>_cold, _warm ...", err=True)
            metrics.extend(graphql_read(url, rounds, SMOKE_READ_SECONDS if events < SMOKE_EVENTS
                                        else READ_SECONDS))
            click.echo("verify_rate ...", err=True)
            metrics.append(verify_rate(url, rounds))
            click.echo("proof_p99, proof_tiles_p99 ...", err=True)
            metrics.append(proof_graphql(url, rounds))
            metrics.append(proof_tiles(url, rounds))
            click.echo("report_seconds ...", err=True)
            metrics.append(report_seconds(url, rounds))
            click.echo("explorer_decision_page_p99, explorer_municipality_page_p99 ...", err=True)
            metrics.extend(explorer_pages(url, rounds))
            click.echo("rss_api_mb, rss_worker_mb ...", err=True)
            metrics.append(rss_api(url, 500))
            metrics.append(rss_worker(url))
    report(machine, events, metrics, json_file)


def report(machine: dict[str, Any], events: int, metrics: list[Metric], json_file: Any) -> None:
    click.echo(f"machine: {json.dumps(machine)}")
    click.echo(markdown(metrics))
    click.echo("\n" + latency_markdown(metrics))
    click.echo("\n" + baselines_markdown(metrics))
    if json_file is not None:
        json.dump({"machine": machine, "events": events,
                   "metrics": [m.as_json() for m in metrics]}, json_file, indent=2)


if __name__ == "__main__":
    main()
