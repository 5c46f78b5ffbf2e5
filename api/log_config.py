"""How `bevoegd serve` logs: uvicorn's own configuration, with Bevoegd's loggers added at INFO
in the same format and stream. Without them only warnings and errors would show, through
Python's last-resort handler, and not the line that says an outage ended."""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG

PACKAGES = ("api", "ledger", "projections")


def server_log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    for package in PACKAGES:
        config["loggers"][package] = {"handlers": ["default"], "level": "INFO",
                                      "propagate": False}
    return config
