"""The load generator: one GraphQL operation POSTed by concurrent clients over keep-alive
connections, bounded in time and in requests, with every answer checked.

    python -m bench.load --url http://127.0.0.1:PORT/graphql --operation-file Op.graphql \
        --variables-file vars.jsonl [--repeat] --concurrency 32 --seconds 5 --max-requests N

It runs in a process of its own so that its CPU shows apart from the server's, and prints one
JSON object on stdout: requests sent, ok, errors (with a few samples), elapsed seconds, ok
requests/s, p50 and p99 of the ok requests in ms, and its own CPU seconds.

Each line of the variables file is sent at most once, in order, unless `--repeat` cycles through
them: that is what keeps a cold run from ever asking the same thing twice. An answer counts as ok
only with HTTP 200, a JSON body with `data` and without `errors`; anything else, a timeout or a
dropped connection included, is an error. Failed requests count neither towards the rate nor the
percentiles, so failures can only make a figure look worse. An Authorization header, if any, is
taken from BEVOEGD_BENCH_AUTHORIZATION rather than the command line, which `ps` shows.

The HTTP/1.1 client is a few lines over asyncio streams rather than httpx: on the 2-core
benchmark machine httpx's AsyncClient managed about 140 requests/s of `{ __typename }` at 32
clients (httpx2 about 440) where plain sockets got 1,770 from the same server, so with httpx the
figures would have measured the client."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import orjson

from bench.metrics import p99

AUTHORIZATION_VARIABLE = "BEVOEGD_BENCH_AUTHORIZATION"
REQUEST_TIMEOUT_SECONDS = 30.0
"""Longer than the server's own limit per request (10 s): the server answers first."""
ERROR_SAMPLES = 3


@dataclass
class Result:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    elapsed: float = 0.0
    requests_per_second: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    client_cpu_seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)


def operation_name(source: str) -> str | None:
    """The name of the document's first operation; sent along as `operationName`."""
    for line in source.splitlines():
        words = line.replace("(", " ").replace("{", " ").split()
        if len(words) >= 2 and words[0] in ("query", "mutation", "subscription"):
            return words[1]
    return None


def request_bodies(source: str, variables: list[dict[str, Any]]) -> list[bytes]:
    """Encoded before the clock starts, so that the client spends the run on HTTP only."""
    name = operation_name(source)
    return [orjson.dumps({"query": source, "operationName": name, "variables": v})
            for v in variables]


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time; it reconnects after an error
    or when the server closes."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}",
                 "Content-Type: application/json", "Accept: application/json",
                 *(f"{name}: {value}" for name, value in headers.items())]
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict((name.strip().lower(), value.strip()) for name, _, value in
                       (line.partition(":") for line in header_lines if line))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            answer = await self._chunks()
        else:
            answer = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), answer

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")  # no trailers from our server: the empty line
        return b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def failure(status: int, answer: bytes) -> str | None:
    """Why an answer does not count, or None if it does."""
    text = answer[:200].decode(errors="replace")
    if status != 200:
        return f"HTTP {status}: {text}"
    try:
        body = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return f"not JSON: {text}"
    if not isinstance(body, dict) or "data" not in body:
        return f"no data: {text}"
    if body.get("errors"):
        return "errors: " + "; ".join(str(e.get("message", e)) for e in body["errors"])[:200]
    return None


async def run(url: str, bodies: list[bytes], repeat: bool, concurrency: int, seconds: float,
              max_requests: int, headers: dict[str, str]) -> Result:
    parts = urlsplit(url)
    limit = max_requests if repeat else min(max_requests, len(bodies))
    latencies: list[float] = []
    samples: Counter[str] = Counter()
    sent = 0
    began = time.perf_counter()
    deadline = began + seconds

    async def one_client() -> None:
        nonlocal sent
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80,
                                parts.path or "/", headers)
        try:
            # a client takes the next body when it is free: no two clients send the same one
            while sent < limit and time.perf_counter() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                        why = failure(*await connection.post(body))
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        TimeoutError, ValueError, IndexError) as error:
                    connection.close()  # whatever state it was left in
                    why = f"{type(error).__name__}: {error}"[:200]
                if why is None:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    samples[why] += 1
        finally:
            connection.close()

    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return Result(
        sent=sent, ok=len(latencies), errors=sum(samples.values()), elapsed=round(elapsed, 3),
        requests_per_second=round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        p50_ms=_rounded(statistics.median(latencies)) if latencies else None,
        p99_ms=_rounded(p99(latencies)) if len(latencies) > 1 else None,
        client_cpu_seconds=round(cpu.ru_utime + cpu.ru_stime, 2),
        error_samples=[f"{n}x {why}" for why, n in samples.most_common(ERROR_SAMPLES)])


def _rounded(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def read_variables(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@click.command()
@click.option("--url", required=True, help="The GraphQL endpoint, on loopback.")
@click.option("--operation-file", required=True, type=click.Path(exists=True, path_type=Path),
              help="A .graphql file with one operation.")
@click.option("--variables-file", type=click.Path(exists=True, path_type=Path), default=None,
              help="JSON Lines, one variable set per request; none: `{}`.")
@click.option("--repeat", is_flag=True, help="Cycle through the variable sets (warm).")
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--seconds", default=5.0, show_default=True, type=click.FloatRange(0.1, 600))
@click.option("--max-requests", default=100_000, show_default=True, type=click.IntRange(1))
def main(url: str, operation_file: Path, variables_file: Path | None, repeat: bool,
         concurrency: int, seconds: float, max_requests: int) -> None:
    """Load one operation and print the result as JSON."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        raise click.BadParameter("the load generator only talks to loopback", param_hint="--url")
    variables = read_variables(variables_file) if variables_file else [{}]
    if not variables:
        raise click.BadParameter("no variable sets", param_hint="--variables-file")
    authorization = os.environ.get(AUTHORIZATION_VARIABLE)
    headers = {"Authorization": authorization} if authorization else {}
    bodies = request_bodies(operation_file.read_text(encoding="utf-8"), variables)
    result = asyncio.run(run(url, bodies, repeat, concurrency, seconds, max_requests, headers))
    sys.stdout.write(json.dumps(asdict(result)) + "\n")


if __name__ == "__main__":
    main()
