"""The demo data set: the Drechtsteden cooperation (2013) told as commands, with what the demo
summary shows of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

DEMO_FILE = Path(__file__).with_name("drechtsteden.jsonl")

DRECHTRAAD_ABOLISHED = date(2022, 1, 1)
BEFORE_ABOLITION = date(2021, 6, 1)
AFTER_ABOLITION = date(2022, 6, 1)

# (label, competence, jurisdiction): one regional and one local competence, and one the
# municipalities delegated to the region, shown on both sides of the Drechtraad's abolition.
SHOWCASE = (
    ("regional", "regionale-begroting", "drechtsteden"),
    ("local", "gemeentebegroting", "sliedrecht"),
    ("delegated to the region", "participatiewet-uitvoering", "dordrecht"),
)
