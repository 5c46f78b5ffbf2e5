"""What a benchmark ran on, reported with every figure."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg

LIBRARIES = ("eventsourcing", "psycopg", "asyncpg", "strawberry-graphql", "graphql-core",
             "starlette", "uvicorn")


def describe_machine(database_url: str) -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory_gib = round(total_kib / 1024 / 1024, 1)
    with psycopg.connect(database_url) as conn:
        server = conn.execute("SHOW server_version").fetchone()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": server[0] if server else "unknown",
        "libraries": {name: version(name) for name in LIBRARIES},
    }
