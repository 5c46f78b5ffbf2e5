"""Settings that turn something on or off, read from the environment: `1` or `0`, anything else
refused, so that a typo does not silently mean the default."""

from __future__ import annotations

import os


def switch(variable: str, *, default: bool) -> bool:
    value = os.environ.get(variable)
    if value is None:
        return default
    if value not in ("0", "1"):
        raise RuntimeError(f"{variable} is 0 or 1, not {value!r}.")
    return value == "1"
